package wecomarchive

import (
	"context"
	"strconv"
	"testing"
)

// scriptedSDK answers GetMediaData from a fixed list of chunks, repeating
// the last one.
type scriptedSDK struct {
	ArchiveSDK
	chunks []MediaChunk
	calls  int
}

func (s *scriptedSDK) GetMediaData(_ context.Context, _, _ string) (MediaChunk, error) {
	c := s.chunks[min(s.calls, len(s.chunks)-1)]
	s.calls++
	return c, nil
}

func TestDownloaderRefusesBrokenChunkStreams(t *testing.T) {
	endless := make([]MediaChunk, 100)
	for i := range endless {
		endless[i] = MediaChunk{OutIndexBuf: strconv.Itoa(i + 1), Data: []byte("x")}
	}
	cases := map[string]struct {
		chunks   []MediaChunk
		maxCalls int
	}{
		"never advances": {[]MediaChunk{{OutIndexBuf: "same", Data: []byte("a")}}, 2 * mediaAttempts},
		"no index":       {[]MediaChunk{{Data: []byte("a")}}, mediaAttempts},
		// Tiny chunks that never finish: bounded by the chunk count a file
		// of maxBytes can need, plus slack.
		"never finishes": {endless, mediaAttempts * (1 + maxChunksSlack)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sdk := &scriptedSDK{chunks: tc.chunks}
			d := &downloader{sdk: sdk, maxBytes: MediaChunkBytes}
			res := d.fetch(context.Background(), mediaRef{sdkFileID: "f"})
			if res.state != stateFailed || res.err == nil {
				t.Fatalf("state %s err %v", res.state, res.err)
			}
			if sdk.calls > tc.maxCalls {
				t.Fatalf("%d GetMediaData calls, want at most %d", sdk.calls, tc.maxCalls)
			}
		})
	}
}
