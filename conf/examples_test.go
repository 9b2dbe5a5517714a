package conf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"
)

// TestExampleProfileIsDefault checks that the example pirun.toml decodes
// strictly, validates, and documents exactly the defaults.
func TestExampleProfileIsDefault(t *testing.T) {
	p, err := parseProfile("examples/pirun.toml", ExampleProfile())
	if err != nil {
		t.Fatalf("example pirun.toml: %v", err)
	}
	if want := DefaultProfile(); !reflect.DeepEqual(p, want) {
		t.Errorf("example pirun.toml =\n%+v\nwant DefaultProfile()\n%+v", p, want)
	}
}

// TestExampleProfileHosts uncomments the example [[hosts]] tables and
// checks that they decode strictly and validate too.
func TestExampleProfileHosts(t *testing.T) {
	uncommented := regexp.MustCompile(`(?m)^#([\[a-z])`).ReplaceAll(ExampleProfile(), []byte("$1"))
	p, err := parseProfile("examples/pirun.toml", uncommented)
	if err != nil {
		t.Fatalf("example pirun.toml with hosts: %v", err)
	}
	want := []Host{
		{Host: "pi1.local", Engines: 4, User: "pi", Pirun: "/home/pi/bin/pirun",
			SSHOptions: []string{"-p", "22"}, DataDir: "/home/pi/data"},
		{Host: "192.168.1.42", Pirun: "pirun", PushBinary: true},
	}
	if !reflect.DeepEqual(p.Hosts, want) {
		t.Errorf("example hosts =\n%+v\nwant\n%+v", p.Hosts, want)
	}
}

// TestExampleEngine checks that the example engine file decodes strictly
// and validates, both alone and as a profile, with paths resolved against
// its folder.
func TestExampleEngine(t *testing.T) {
	e, err := LoadEngine("examples/engine.toml")
	if err != nil {
		t.Fatalf("example engine.toml: %v", err)
	}
	dir, _ := filepath.Abs("examples")
	want := DefaultEngine()
	want.Connect = filepath.Join(dir, "engine-connection.toml")
	want.DataDir = filepath.Join(dir, "data")
	want.OutDir = filepath.Join(dir, "out")
	want.MaxOutBytes = GiB
	want.Preload = []string{filepath.Join(dir, "startup.star")}
	want.Startup = "threshold = 0.5\n"
	want.TaskTimeout = Duration(10 * time.Minute)
	if !reflect.DeepEqual(e, want) {
		t.Errorf("example engine.toml =\n%+v\nwant\n%+v", e, want)
	}
	if p, err := LoadProfile("examples/engine.toml"); err != nil || !reflect.DeepEqual(p.Engine, want) {
		t.Errorf("LoadProfile(example engine.toml) = %+v, %v, want its engine table", p.Engine, err)
	}
	if _, err := LoadEngine("examples/pirun.toml"); err != nil {
		t.Errorf("LoadEngine(example pirun.toml) = %v", err)
	}
}

func TestExamplesAreCopies(t *testing.T) {
	for _, get := range []func() []byte{ExampleProfile, ExampleEngine} {
		a := get()
		a[0] = 'X'
		if b := get(); b[0] == 'X' {
			t.Errorf("example changed after its returned copy was modified")
		}
	}
}

func TestWriteExampleProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profiles", "rpi")
	if err := WriteExampleProfile(dir); err != nil {
		t.Fatalf("WriteExampleProfile: %v", err)
	}
	path := filepath.Join(dir, "pirun.toml")
	got, err := os.ReadFile(path)
	if err != nil || string(got) != string(ExampleProfile()) {
		t.Fatalf("written pirun.toml = %d bytes, %v, want the example", len(got), err)
	}
	if err := os.WriteFile(path, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = WriteExampleProfile(dir)
	wantMsg := "create profile: " + path + " already exists; edit it, or remove it to start again: file already exists"
	if !errors.Is(err, fs.ErrExist) || err.Error() != wantMsg {
		t.Errorf("WriteExampleProfile(existing) = %v, want %q", err, wantMsg)
	}
	if got, _ := os.ReadFile(path); string(got) != "# mine\n" {
		t.Errorf("WriteExampleProfile overwrote an existing pirun.toml")
	}
}
