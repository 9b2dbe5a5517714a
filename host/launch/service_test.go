package launch

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pirun-dev/pirun/conf"
)

func TestUnitAsPackaged(t *testing.T) {
	file, err := PackageFile("pirun-engine.service")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unit(ServiceBinary, ServiceUser)
	if err != nil || got != string(file) {
		t.Errorf("Unit(%q, %q) = %q, %v; want service/pirun-engine.service unchanged", ServiceBinary, ServiceUser, got, err)
	}
	for _, want := range []string{
		"\nExecStart=/usr/bin/pirun engine --connect " + ServiceConnFile + " --config " + ServiceConfig + "\n",
		"\nConditionPathExists=" + ServiceConnFile + "\n",
		"\nRestart=always\n", "\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n", "\nProtectHome=yes\n",
		"\nPrivateTmp=yes\n", "\nStateDirectory=pirun\n", "\nEnvironment=PIRUN_DIR=" + ServiceStateDir + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the packaged unit lacks the line %q", strings.TrimSpace(want))
		}
	}
}

func TestUnitFor(t *testing.T) {
	for _, test := range []struct {
		binary, user, want, wantErr string
	}{
		{"/usr/local/bin/pirun", "pi", "ExecStart=/usr/local/bin/pirun engine --connect", ""},
		{"/opt/pirun/bin/pirun", "pirun", "User=pirun\n", ""},
		{"pirun", "pirun", "", "expected an absolute path"},
		{"/home/pi/pirun", "pirun", "", "cannot see /home"},
		{"/tmp/pirun", "pirun", "", "cannot see /tmp"},
		{"/opt/my pirun/pirun", "pirun", "", "copy pirun to /usr/local/bin"},
		{"/opt/100%/pirun", "pirun", "", "copy pirun to /usr/local/bin"},
		{"/usr/local/bin/pirun", "Pi", "", "expected a user name"},
		{"/usr/local/bin/pirun", "", "", "expected a user name"},
	} {
		got, err := Unit(test.binary, test.user)
		switch {
		case test.wantErr != "" && (err == nil || !strings.Contains(err.Error(), test.wantErr)):
			t.Errorf("Unit(%q, %q) = %v, want an error containing %q", test.binary, test.user, err, test.wantErr)
		case test.wantErr == "" && (err != nil || !strings.Contains(got, test.want) || !strings.Contains(got, "\nUser="+test.user+"\n")):
			t.Errorf("Unit(%q, %q) = %q, %v; want it to contain %q and User=%s", test.binary, test.user, got, err, test.want, test.user)
		}
	}
}

// TestPackagedConfig checks that the commented /etc/pirun/pirun.toml
// decodes strictly to the default [engine] settings.
func TestPackagedConfig(t *testing.T) {
	b, err := PackageFile("pirun.toml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pirun.toml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := conf.LoadEngine(path)
	if want := conf.DefaultEngine(); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("conf.LoadEngine(service/pirun.toml) = %+v, %v; want %+v, nil", got, err, want)
	}
}

func TestPlanErrors(t *testing.T) {
	dir := t.TempDir()
	client := filepath.Join(dir, "client-connection.toml")
	if err := os.WriteFile(client, []byte("role = \"client\"\nprotocol = 1\nhub_id = \"H\"\nurls = [\"nats://127.0.0.1:4222\"]\nuser = \"c\"\npassword = \"p\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "usr", "bin", "pirun")
	for _, test := range []struct {
		name    string
		s       ServiceInstall
		wantErr string
	}{
		{"no connection file", ServiceInstall{Root: dir, Binary: bin}, "give --connect FILE"},
		{"missing --connect", ServiceInstall{Root: dir, Binary: bin, ConnFile: filepath.Join(dir, "nope.toml")}, "nope.toml"},
		{"client file", ServiceInstall{Root: dir, Binary: bin, ConnFile: client}, "this is a client connection file"},
		{"binary outside root", ServiceInstall{Root: dir, Binary: "/usr/bin/pirun", ConnFile: client}, "is not in that tree"},
		{"now under root", ServiceInstall{Root: dir, Binary: bin, Now: true}, "does not go with --root"},
	} {
		_, err := test.s.Plan()
		if err == nil || !strings.Contains(err.Error(), test.wantErr) {
			t.Errorf("%s: Plan() = %v, want an error containing %q", test.name, err, test.wantErr)
		}
	}
}
