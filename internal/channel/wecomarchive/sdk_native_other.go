//go:build !(wecomsdk && linux && cgo)

package wecomarchive

import "errors"

// NativeAvailable reports whether this binary links the vendor's library.
const NativeAvailable = false

// errNoNative is what sdkMode Native gets in a binary built without the
// library: the official image does not link it (it is not redistributable).
var errNoNative = errors.New("sdkMode Native needs a connector built with -tags wecomsdk and the vendor's libWeWorkFinanceSdk_C.so; use sdkMode Bridge with an SDK sidecar instead")

// NewNativeSDK fails: this binary was built without the wecomsdk tag.
func NewNativeSDK(_, _, _, _ string) (ArchiveSDK, error) {
	return nil, errNoNative
}
