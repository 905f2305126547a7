package wecomarchive

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
)

// Attachment states this channel sets.
const (
	stateStored   = "stored"
	stateFailed   = "failed"
	stateTooLarge = "too_large"
)

// Media download bounds.
const (
	// DefaultMaxMediaBytes is the largest media file downloaded.
	DefaultMaxMediaBytes = 100 << 20
	// mediaAttempts is how often a file is fetched from its start when its
	// md5sum does not match (WeCom's can mismatch transiently).
	mediaAttempts = 3
	// chunkAttempts is how often one chunk is asked for again after a
	// retryable SDK error.
	chunkAttempts = 3
	// maxChunks bounds the loop even if the SDK never says finished.
	maxChunksSlack = 4
)

// mediaResult is what a download yields: the file's hashes, never its
// bytes (the archive has no blob store for them yet).
type mediaResult struct {
	state  string
	sha256 string
	size   int64
	err    error
}

// downloader fetches media through GetMediaData in chunks.
type downloader struct {
	sdk      ArchiveSDK
	maxBytes int64
	retryGap time.Duration
	onBytes  func(n int)
}

// fetch downloads one file, checks its md5sum (when WeCom gave one) and
// returns its SHA-256 and size. Files over maxBytes are not downloaded
// (known size) or abandoned (unknown size): state too_large.
func (d *downloader) fetch(ctx context.Context, ref mediaRef) mediaResult {
	if ref.size > d.maxBytes {
		return mediaResult{state: stateTooLarge, size: ref.size}
	}
	var lastErr error
	for attempt := 0; attempt < mediaAttempts; attempt++ {
		if attempt > 0 && !sleepCtx(ctx, d.retryGap) {
			return mediaResult{state: stateFailed, err: ctx.Err()}
		}
		res, err := d.fetchOnce(ctx, ref)
		if err == nil || res.state == stateTooLarge {
			return res
		}
		lastErr = err
		if !errors.Is(err, errMD5Mismatch) && !IsRetryable(err) {
			break
		}
	}
	return mediaResult{state: stateFailed, err: lastErr}
}

var errMD5Mismatch = errors.New("media md5sum does not match")

func (d *downloader) fetchOnce(ctx context.Context, ref mediaRef) (mediaResult, error) {
	sh := sha256.New()
	var md hash.Hash
	if ref.md5 != "" {
		md = md5.New()
	}
	var total int64
	index := ""
	maxChunks := int(d.maxBytes/MediaChunkBytes) + maxChunksSlack
	for n := 0; ; n++ {
		if n >= maxChunks {
			return mediaResult{state: stateFailed}, errors.New("media download does not finish")
		}
		chunk, err := d.chunk(ctx, index, ref.sdkFileID)
		if err != nil {
			return mediaResult{state: stateFailed}, err
		}
		total += int64(len(chunk.Data))
		if d.onBytes != nil {
			d.onBytes(len(chunk.Data))
		}
		if total > d.maxBytes {
			return mediaResult{state: stateTooLarge, size: total}, nil
		}
		sh.Write(chunk.Data)
		if md != nil {
			md.Write(chunk.Data)
		}
		if chunk.Finished {
			break
		}
		if chunk.OutIndexBuf == "" || chunk.OutIndexBuf == index {
			return mediaResult{state: stateFailed}, errors.New("media download does not advance")
		}
		index = chunk.OutIndexBuf
	}
	if md != nil && !strings.EqualFold(hex.EncodeToString(md.Sum(nil)), ref.md5) {
		return mediaResult{state: stateFailed}, errMD5Mismatch
	}
	return mediaResult{state: stateStored, sha256: hex.EncodeToString(sh.Sum(nil)), size: total}, nil
}

// chunk asks for one chunk, again after retryable errors.
func (d *downloader) chunk(ctx context.Context, index, fileID string) (MediaChunk, error) {
	var err error
	for i := 0; i < chunkAttempts; i++ {
		if i > 0 && !sleepCtx(ctx, d.retryGap) {
			return MediaChunk{}, ctx.Err()
		}
		var c MediaChunk
		c, err = d.sdk.GetMediaData(ctx, index, fileID)
		if err == nil {
			return c, nil
		}
		if !IsRetryable(err) {
			break
		}
	}
	return MediaChunk{}, fmt.Errorf("GetMediaData: %w", err)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
