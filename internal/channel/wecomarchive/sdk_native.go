//go:build wecomsdk && linux && cgo

package wecomarchive

/*
#cgo LDFLAGS: -lWeWorkFinanceSdk_C
#include <stdlib.h>

// Declarations from the vendor's WeWorkFinanceSdk_C.h, signatures verbatim.
typedef struct WeWorkFinanceSdk_t WeWorkFinanceSdk_t;
typedef struct Slice_t {
	char* buf;
	int len;
} Slice_t;
typedef struct MediaData {
	char* outindexbuf;
	int out_len;
	char* data;
	int data_len;
	int is_finish;
} MediaData_t;

WeWorkFinanceSdk_t* NewSdk();
int Init(WeWorkFinanceSdk_t* sdk, const char* corpid, const char* secret);
int GetChatData(WeWorkFinanceSdk_t* sdk, unsigned long long seq, unsigned int limit, const char *proxy, const char* passwd, int timeout, Slice_t* chatDatas);
int DecryptData(const char* encrypt_key, const char* encrypt_msg, Slice_t* msg);
int GetMediaData(WeWorkFinanceSdk_t* sdk, const char* indexbuf, const char* sdkFileid, const char *proxy, const char* passwd, int timeout, MediaData_t* media_data);
void DestroySdk(WeWorkFinanceSdk_t* sdk);
Slice_t* NewSlice();
void FreeSlice(Slice_t* slice);
char* GetContentFromSlice(Slice_t* slice);
int GetSliceLen(Slice_t* slice);
MediaData_t* NewMediaData();
void FreeMediaData(MediaData_t* media_data);
char* GetOutIndexBuf(MediaData_t* media_data);
char* GetData(MediaData_t* media_data);
int GetIndexLen(MediaData_t* media_data);
int GetDataLen(MediaData_t* media_data);
int IsMediaDataFinish(MediaData_t* media_data);
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// NativeAvailable reports whether this binary links the vendor's library.
const NativeAvailable = true

// nativeSDK calls libWeWorkFinanceSdk_C.so through cgo. Calls on the handle
// are serialised: the vendor does not document the SDK as thread-safe.
type nativeSDK struct {
	mu     sync.Mutex
	sdk    *C.WeWorkFinanceSdk_t
	proxy  string
	passwd string
}

// NewNativeSDK initialises the vendor SDK for a corp and its archive secret.
// proxy and passwd are the SDK's optional HTTP proxy settings ("" for none).
func NewNativeSDK(corpID, secret, proxy, passwd string) (ArchiveSDK, error) {
	sdk := C.NewSdk()
	if sdk == nil {
		return nil, errors.New("finance sdk: NewSdk returned NULL")
	}
	ccorp := C.CString(corpID)
	defer C.free(unsafe.Pointer(ccorp))
	csecret := C.CString(secret)
	defer C.free(unsafe.Pointer(csecret))
	if rc := C.Init(sdk, ccorp, csecret); rc != 0 {
		C.DestroySdk(sdk)
		return nil, fmt.Errorf("finance sdk Init: %w", &SDKError{Code: int(rc)})
	}
	return &nativeSDK{sdk: sdk, proxy: proxy, passwd: passwd}, nil
}

// timeoutSeconds turns a context deadline into the SDK's timeout argument.
func timeoutSeconds(ctx context.Context) C.int {
	if d, ok := ctx.Deadline(); ok {
		s := int(time.Until(d) / time.Second)
		if s < 1 {
			s = 1
		}
		return C.int(s)
	}
	return C.int(defaultSDKTimeout / time.Second)
}

func (n *nativeSDK) GetChatData(ctx context.Context, seq uint64, limit int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxPullLimit {
		return nil, fmt.Errorf("finance sdk GetChatData: %w", &SDKError{Code: SDKErrParams})
	}
	cproxy, cpasswd := C.CString(n.proxy), C.CString(n.passwd)
	defer C.free(unsafe.Pointer(cproxy))
	defer C.free(unsafe.Pointer(cpasswd))
	slice := C.NewSlice()
	defer C.FreeSlice(slice)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sdk == nil {
		return nil, errors.New("finance sdk: closed")
	}
	rc := C.GetChatData(n.sdk, C.ulonglong(seq), C.uint(limit), cproxy, cpasswd, timeoutSeconds(ctx), slice)
	if rc != 0 {
		return nil, fmt.Errorf("finance sdk GetChatData: %w", &SDKError{Code: int(rc)})
	}
	return C.GoBytes(unsafe.Pointer(C.GetContentFromSlice(slice)), C.GetSliceLen(slice)), nil
}

func (n *nativeSDK) DecryptData(encryptKey []byte, encryptMsg string) ([]byte, error) {
	ckey := C.CString(string(encryptKey))
	defer C.free(unsafe.Pointer(ckey))
	cmsg := C.CString(encryptMsg)
	defer C.free(unsafe.Pointer(cmsg))
	slice := C.NewSlice()
	defer C.FreeSlice(slice)
	if rc := C.DecryptData(ckey, cmsg, slice); rc != 0 {
		return nil, fmt.Errorf("finance sdk DecryptData: %w", &SDKError{Code: int(rc)})
	}
	return C.GoBytes(unsafe.Pointer(C.GetContentFromSlice(slice)), C.GetSliceLen(slice)), nil
}

func (n *nativeSDK) GetMediaData(ctx context.Context, indexBuf, sdkFileID string) (MediaChunk, error) {
	if err := ctx.Err(); err != nil {
		return MediaChunk{}, err
	}
	cindex, cfile := C.CString(indexBuf), C.CString(sdkFileID)
	defer C.free(unsafe.Pointer(cindex))
	defer C.free(unsafe.Pointer(cfile))
	cproxy, cpasswd := C.CString(n.proxy), C.CString(n.passwd)
	defer C.free(unsafe.Pointer(cproxy))
	defer C.free(unsafe.Pointer(cpasswd))
	md := C.NewMediaData()
	defer C.FreeMediaData(md)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sdk == nil {
		return MediaChunk{}, errors.New("finance sdk: closed")
	}
	if rc := C.GetMediaData(n.sdk, cindex, cfile, cproxy, cpasswd, timeoutSeconds(ctx), md); rc != 0 {
		return MediaChunk{}, fmt.Errorf("finance sdk GetMediaData: %w", &SDKError{Code: int(rc)})
	}
	return MediaChunk{
		OutIndexBuf: C.GoStringN(C.GetOutIndexBuf(md), C.GetIndexLen(md)),
		Data:        C.GoBytes(unsafe.Pointer(C.GetData(md)), C.GetDataLen(md)),
		Finished:    C.IsMediaDataFinish(md) == 1,
	}, nil
}

func (n *nativeSDK) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sdk != nil {
		C.DestroySdk(n.sdk)
		n.sdk = nil
	}
	return nil
}
