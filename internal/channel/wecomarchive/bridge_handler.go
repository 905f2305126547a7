package wecomarchive

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// NewBridgeHandler serves the SDK bridge protocol over an ArchiveSDK: run it
// in a sidecar beside the native SDK, or over the fake SDK for development.
// It never logs request or answer bodies.
func NewBridgeHandler(sdk ArchiveSDK) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+BridgePathGetChatData, func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBridgeBody(w, r)
		if !ok {
			return
		}
		req, err := decodeChatDataRequest(body)
		if err != nil {
			writeBridgeError(w, http.StatusBadRequest, SDKErrParams)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeoutFor(req.Timeout))
		defer cancel()
		out, err := sdk.GetChatData(ctx, req.Seq, req.Limit)
		if err != nil {
			writeSDKFailure(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
	mux.HandleFunc("POST "+BridgePathDecryptData, func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBridgeBody(w, r)
		if !ok {
			return
		}
		req, err := decodeDecryptRequest(body)
		if err != nil {
			writeBridgeError(w, http.StatusBadRequest, SDKErrParams)
			return
		}
		out, err := sdk.DecryptData(req.EncryptKey, req.EncryptMsg)
		if err != nil {
			writeSDKFailure(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(out)
	})
	mux.HandleFunc("POST "+BridgePathGetMediaData, func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBridgeBody(w, r)
		if !ok {
			return
		}
		req, err := decodeMediaRequest(body)
		if err != nil {
			writeBridgeError(w, http.StatusBadRequest, SDKErrParams)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeoutFor(req.Timeout))
		defer cancel()
		chunk, err := sdk.GetMediaData(ctx, req.IndexBuf, req.SDKFileID)
		if err != nil {
			writeSDKFailure(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(bridgeMediaResponse{OutIndexBuf: chunk.OutIndexBuf, Data: chunk.Data, IsFinish: chunk.Finished})
	})
	return mux
}

func readBridgeBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBridgeRequestBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeBridgeError(w, http.StatusRequestEntityTooLarge, SDKErrParams)
			return nil, false
		}
		writeBridgeError(w, http.StatusBadRequest, SDKErrParams)
		return nil, false
	}
	return body, true
}

// writeSDKFailure answers an SDK error with its code; other failures (the
// native SDK closed, a context ended) are a 503 the client retries.
func writeSDKFailure(w http.ResponseWriter, err error) {
	if code := SDKErrorCode(err); code != 0 {
		writeBridgeError(w, http.StatusUnprocessableEntity, code)
		return
	}
	http.Error(w, "sdk unavailable", http.StatusServiceUnavailable)
}

func writeBridgeError(w http.ResponseWriter, status, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(bridgeError{SDKError: code})
}
