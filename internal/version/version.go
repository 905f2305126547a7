// Package version reports the build's version, set at link time.
package version

import "runtime/debug"

// Version is set with -ldflags "-X github.com/vigil-operator/vigil/internal/version.Version=v0.1.0".
var Version = "dev"

// String is the version with the VCS revision when the build recorded one.
func String() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return Version + "+" + s.Value[:12]
			}
		}
	}
	return Version
}
