// This file defines Platform: what `uname -sm` says of a host, and which
// pirun release build runs there.

package launch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

// Platform is an operating system and architecture in Go's terms; GOARM is
// "6" or "7" on 32-bit ARM and "" elsewhere. It is plain data.
type Platform struct {
	GOOS, GOARCH, GOARM string
}

// String returns "linux/arm GOARM=6" or "linux/arm64".
func (p Platform) String() string {
	s := p.GOOS + "/" + p.GOARCH
	if p.GOARM != "" {
		s += " GOARM=" + p.GOARM
	}
	return s
}

// ParsePlatform parses the output of `uname -sm` ("Linux armv6l").
func ParsePlatform(unameSM string) (Platform, error) {
	f := strings.Fields(unameSM)
	if len(f) != 2 {
		return Platform{}, fmt.Errorf("uname -sm printed %q: expected the system and the machine, such as \"Linux aarch64\"", strings.TrimSpace(unameSM))
	}
	p := Platform{GOOS: strings.ToLower(f[0])}
	switch m := f[1]; {
	case m == "x86_64" || m == "amd64":
		p.GOARCH = "amd64"
	case m == "aarch64" || m == "arm64" || m == "armv8":
		p.GOARCH = "arm64"
	case m == "armv7l" || m == "armv7" || m == "armv8l":
		p.GOARCH, p.GOARM = "arm", "7"
	case m == "armv6l" || m == "armv6":
		p.GOARCH, p.GOARM = "arm", "6"
	default:
		return p, fmt.Errorf("machine %q: pirun has release builds for x86_64, aarch64, armv7l and armv6l only", m)
	}
	return p, nil
}

// Runs reports whether a build for b runs on p: the same system and
// architecture, and on 32-bit ARM a GOARM no newer than p's (a GOARM=6
// build runs on an armv7 Pi; a GOARM=7 build dies on a Pi Zero or 1).
func (p Platform) Runs(b Platform) bool {
	if p.GOOS != b.GOOS || p.GOARCH != b.GOARCH {
		return false
	}
	return p.GOARCH != "arm" || b.GOARM == "" || b.GOARM <= p.GOARM
}

// BuildName returns the file name of p's release build, as .ci/run makes
// it: pirun-linux-arm64, pirun-linux-armv6 and so on.
func (p Platform) BuildName() string {
	arch := p.GOARCH
	if arch == "arm" {
		arch += "v" + p.GOARM
	}
	return "pirun-" + p.GOOS + "-" + arch
}

// buildCommand is how to make p's build of pirun from the module's root.
func (p Platform) buildCommand() string {
	env := "CGO_ENABLED=0 GOOS=" + p.GOOS + " GOARCH=" + p.GOARCH
	if p.GOARM != "" {
		env += " GOARM=" + p.GOARM
	}
	return env + " go build -o " + p.BuildName() + " ./host/cmd/pirun"
}

// candidates returns the platforms whose builds run on p, best first.
func (p Platform) candidates() []Platform {
	if p.GOARCH == "arm" && p.GOARM == "7" {
		return []Platform{p, {GOOS: p.GOOS, GOARCH: "arm", GOARM: "6"}}
	}
	return []Platform{p}
}

// ChooseBuild returns the pirun build to copy to a host of platform p:
// self (this executable, built for selfPlatform) when it runs there, else
// a release build named as [Platform.BuildName] in self's folder. The
// error says which file is missing and how to build it.
func ChooseBuild(p, selfPlatform Platform, self string) (string, error) {
	if p.Runs(selfPlatform) {
		return self, nil
	}
	dir := filepath.Dir(self)
	for _, c := range p.candidates() {
		path := filepath.Join(dir, c.BuildName())
		fi, err := os.Stat(path)
		if err == nil && fi.Mode().IsRegular() {
			return path, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("pirun build for %s: %w", p, err)
		}
	}
	return "", fmt.Errorf("no pirun build for %s: this pirun is for %s and %s is missing; build it from the pirun source with: %s (and put it beside %s)",
		p, selfPlatform, filepath.Join(dir, p.BuildName()), p.buildCommand(), self)
}

// ThisPlatform is the platform this binary was built for; its GOARM comes
// from the build settings.
func ThisPlatform() Platform {
	p := Platform{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "GOARM" {
				p.GOARM = s.Value
			}
		}
	}
	return p
}
