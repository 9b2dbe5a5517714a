package launch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePlatform(t *testing.T) {
	for _, test := range []struct {
		in, want, build string
	}{
		{"Linux x86_64\n", "linux/amd64", "pirun-linux-amd64"},
		{"Linux aarch64", "linux/arm64", "pirun-linux-arm64"},
		{"Linux armv7l", "linux/arm GOARM=7", "pirun-linux-armv7"},
		{"Linux armv8l", "linux/arm GOARM=7", "pirun-linux-armv7"},
		{"Linux armv6l", "linux/arm GOARM=6", "pirun-linux-armv6"},
		{"Darwin arm64", "darwin/arm64", "pirun-darwin-arm64"},
	} {
		p, err := ParsePlatform(test.in)
		if err != nil {
			t.Errorf("ParsePlatform(%q) error = %v", test.in, err)
			continue
		}
		if p.String() != test.want || p.BuildName() != test.build {
			t.Errorf("ParsePlatform(%q) = %s (%s), want %s (%s)", test.in, p, p.BuildName(), test.want, test.build)
		}
	}
	for _, in := range []string{"", "Linux", "Linux mips", "Linux armv5tel"} {
		if p, err := ParsePlatform(in); err == nil {
			t.Errorf("ParsePlatform(%q) = %s, want an error", in, p)
		}
	}
}

func TestRuns(t *testing.T) {
	v6 := Platform{"linux", "arm", "6"}
	v7 := Platform{"linux", "arm", "7"}
	a64 := Platform{"linux", "arm64", ""}
	amd := Platform{"linux", "amd64", ""}
	for _, test := range []struct {
		host, build Platform
		want        bool
	}{
		{v7, v6, true},
		{v7, v7, true},
		{v6, v7, false},
		{v6, v6, true},
		{a64, a64, true},
		{a64, v7, false},
		{amd, a64, false},
		{Platform{"darwin", "arm64", ""}, a64, false},
	} {
		if got := test.host.Runs(test.build); got != test.want {
			t.Errorf("%s.Runs(%s) = %v, want %v", test.host, test.build, got, test.want)
		}
	}
}

func TestChooseBuild(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "pirun")
	amd := Platform{"linux", "amd64", ""}
	for _, name := range []string{"pirun", "pirun-linux-armv6", "pirun-linux-arm64"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, test := range []struct {
		host    Platform
		want    string
		wantErr string
	}{
		{amd, "pirun", ""},
		{Platform{"linux", "arm64", ""}, "pirun-linux-arm64", ""},
		{Platform{"linux", "arm", "7"}, "pirun-linux-armv6", ""}, // v6 runs on v7
		{Platform{"linux", "arm", "6"}, "pirun-linux-armv6", ""},
		{Platform{"linux", "386", ""}, "", "CGO_ENABLED=0 GOOS=linux GOARCH=386 go build -o pirun-linux-386 ./host/cmd/pirun"},
	} {
		got, err := ChooseBuild(test.host, amd, self)
		switch {
		case test.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), test.wantErr) || !strings.Contains(err.Error(), "is missing") {
				t.Errorf("ChooseBuild(%s) error = %v, want one containing %q", test.host, err, test.wantErr)
			}
		case err != nil:
			t.Errorf("ChooseBuild(%s) error = %v", test.host, err)
		case got != filepath.Join(dir, test.want):
			t.Errorf("ChooseBuild(%s) = %s, want %s", test.host, got, test.want)
		}
	}
	os.Remove(filepath.Join(dir, "pirun-linux-armv6"))
	_, err := ChooseBuild(Platform{"linux", "arm", "6"}, amd, self)
	if err == nil || !strings.Contains(err.Error(), "GOARM=6 go build -o pirun-linux-armv6") {
		t.Errorf("ChooseBuild(armv6 without its build) error = %v, want the command that builds it", err)
	}
}

// writeScript writes an executable shell script.
func writeScript(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}
