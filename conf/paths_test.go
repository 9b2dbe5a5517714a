package conf

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestProfileDir(t *testing.T) {
	for _, test := range []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"default", map[string]string{"PIRUN_DIR": "/p", "XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/p/default", ""},
		{"rpi", map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/pirun/rpi", ""},
		{"rpi", map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/h"}, "/h/.config/pirun/rpi", ""},
		{"rpi", map[string]string{"HOME": "/h"}, "/h/.config/pirun/rpi", ""},
		{"rpi", map[string]string{}, "", "none of PIRUN_DIR, XDG_CONFIG_HOME or HOME is set"},
		{"../etc", map[string]string{"HOME": "/h"}, "", `profile name "../etc": use 1 to 64 letters`},
	} {
		got, err := ProfileDir(test.name, func(k string) string { return test.env[k] })
		if got != filepath.FromSlash(test.want) || !strings.Contains(errString(err), test.wantErr) || (err != nil) != (test.wantErr != "") {
			t.Errorf("ProfileDir(%q, %v) = %q, %v, want %q, %q", test.name, test.env, got, err, test.want, test.wantErr)
		}
	}
}

func TestCheckProfileName(t *testing.T) {
	for _, test := range []struct {
		name string
		ok   bool
	}{
		{"default", true}, {"rpi", true}, {"lab-2.cluster_a", true}, {"A1", true},
		{strings.Repeat("a", 64), true}, {strings.Repeat("a", 65), false},
		{"", false}, {".", false}, {"..", false}, {".hidden", false}, {"-n", false},
		{"a/b", false}, {`a\b`, false}, {"a b", false}, {"é", false}, {"a\x00", false},
	} {
		if err := CheckProfileName(test.name); (err == nil) != test.ok {
			t.Errorf("CheckProfileName(%q) = %v, want ok %v", test.name, err, test.ok)
		}
	}
}

func TestPaths(t *testing.T) {
	got := Paths("/p/rpi")
	want := ProfilePaths{
		Dir: "/p/rpi", Config: "/p/rpi/pirun.toml", Security: "/p/rpi/security",
		ClientConn: "/p/rpi/security/client-connection.toml", EngineConn: "/p/rpi/security/engine-connection.toml",
		HubSecrets: "/p/rpi/security/hub.toml", Engines: "/p/rpi/security/engines", Log: "/p/rpi/log", Out: "/p/rpi/out", State: "/p/rpi/state",
		Registry: "/p/rpi/state/registry.json", Cluster: "/p/rpi/state/cluster.json",
	}
	if runtime.GOOS != "windows" && !reflect.DeepEqual(got, want) {
		t.Errorf("Paths(/p/rpi) = %+v, want %+v", got, want)
	}
}

func TestEnsureDirs(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	p := Paths(filepath.Join(t.TempDir(), "rpi"))
	warnings, err := EnsureDirs(p)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("EnsureDirs(new) = %q, %v, want no warnings", warnings, err)
	}
	checkModes(t, p)

	// A security folder opened up by hand is closed again, with a warning.
	if err := os.Chmod(p.Security, 0o755); err != nil {
		t.Fatal(err)
	}
	warnings, err = EnsureDirs(p)
	want := p.Security + " had mode 0755, open to other users; set it to 0700"
	if err != nil || len(warnings) != 1 || warnings[0] != want {
		t.Errorf("EnsureDirs(open security) = %q, %v, want [%q]", warnings, err, want)
	}
	checkModes(t, p)

	// A file where a folder should be is an error.
	if err := os.RemoveAll(p.Log); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDirs(p); err == nil || !strings.Contains(err.Error(), p.Log+": not a directory") {
		t.Errorf("EnsureDirs(log is a file) = %v, want an error", err)
	}
}

// checkModes checks the modes of a profile's folders.
func checkModes(t *testing.T, p ProfilePaths) {
	t.Helper()
	for _, test := range []struct {
		path string
		want os.FileMode
	}{{p.Security, 0o700}, {p.State, 0o700}} {
		fi, err := os.Stat(test.path)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != test.want {
			t.Errorf("%s: %v, %v, want a folder of mode %04o", test.path, fi.Mode(), err, test.want)
		}
	}
	for _, dir := range []string{p.Dir, p.Log} {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm()&0o077 == 0o077 {
			t.Errorf("%s: %v, %v, want a folder", dir, fi.Mode(), err)
		}
	}
}
