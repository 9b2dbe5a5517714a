package conf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestHubSecretsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.toml")
	if _, err := LoadHubSecrets(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadHubSecrets(missing) = %v, want fs.ErrNotExist", err)
	}
	want := HubSecrets{HubID: "0123456789abcdefghij", Hub: "hub-secret-0123456789",
		Client: "client-secret-0123456789", Engine: "engine-secret-0123456789"}
	if err := WriteHubSecrets(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadHubSecrets(path)
	if err != nil || got != want {
		t.Errorf("LoadHubSecrets after WriteHubSecrets = %+v, %v, want %+v", got, err, want)
	}
	if fi, err := os.Stat(path); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("hub.toml mode = %04o, want 0600", fi.Mode().Perm())
	}
	if err := WriteHubSecrets(path, HubSecrets{HubID: "short"}); err == nil {
		t.Error("WriteHubSecrets(invalid) succeeded")
	}
}

func TestHubSecretsProblems(t *testing.T) {
	for _, test := range []struct{ text, want string }{
		{`hub_id = "0123456789abcdefghij"`, "hub: required"},
		{"hub_id = \"x\"\nhub = \"0123456789abcdefghij\"\nclient = \"0123456789abcdefghij\"\nengine = \"0123456789abcdefghij\"", "hub_id: expected a random token"},
		{"hub_id = 3", "hub_id"},
		{"extra = 1", "extra"},
	} {
		path := filepath.Join(t.TempDir(), "hub.toml")
		os.WriteFile(path, []byte(test.text), 0o600)
		_, err := LoadHubSecrets(path)
		if err == nil || !strings.Contains(err.Error(), test.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadHubSecrets(%q) = %v, want an error naming %s and %q", test.text, err, path, test.want)
		}
	}
}
