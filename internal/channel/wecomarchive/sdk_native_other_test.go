//go:build !(wecomsdk && linux && cgo)

package wecomarchive_test

import (
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
)

// TestNativeModeWithoutTheLibrary: a binary built without the vendor's
// library refuses sdkMode Native (the default) and says how to fix it. It is
// compiled only into such binaries, the ones CI and the official image build.
func TestNativeModeWithoutTheLibrary(t *testing.T) {
	if wecomarchive.NativeAvailable {
		t.Fatal("this file is built only without the wecomsdk tag")
	}
	_, err := wecomarchive.Factory(params(t, t.TempDir(), 1)) // sdkMode defaults to Native
	if err == nil || !strings.Contains(err.Error(), "wecomsdk") || !strings.Contains(err.Error(), "Bridge") {
		t.Fatalf("native without the library: %v", err)
	}
}
