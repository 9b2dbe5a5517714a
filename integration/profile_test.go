package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/conf"
)

// TestProfileCreate makes a profile whose pirun.toml is the embedded
// example, refuses to make it twice, and finds it again.
func TestProfileCreate(t *testing.T) {
	r := runPirun(t, "", 20*time.Second, "profile", "create", "lab")
	dir := filepath.Join(pirunDir(t), "lab")
	if r.code != 0 || !strings.Contains(r.stdout, dir) {
		t.Fatalf("pirun profile create lab = %d\n%s%s, want 0 naming %s", r.code, r.stdout, r.stderr, dir)
	}
	if _, err := conf.LoadProfile(filepath.Join(dir, "pirun.toml")); err != nil {
		t.Errorf("the created pirun.toml does not load: %v", err)
	}
	for _, sub := range []string{"security", "state", "log"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Errorf("profile folder %s: %v", sub, err)
		}
	}
	r = runPirun(t, "", 20*time.Second, "profile", "create", "lab")
	if r.code != 2 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("a second pirun profile create lab = %d %q, want 2 saying it already exists", r.code, r.stderr)
	}
	r = runPirun(t, "", 20*time.Second, "profile", "create", "../x")
	if r.code != 2 || !strings.Contains(r.stderr, "profile name") {
		t.Errorf("pirun profile create ../x = %d %q, want 2 about the profile name", r.code, r.stderr)
	}
	r = runPirun(t, "", 20*time.Second, "profile", "locate", "lab")
	if strings.TrimSpace(r.stdout) != dir {
		t.Errorf("pirun profile locate lab = %q, want %s", r.stdout, dir)
	}
}

// TestStatus shows a hub's engines as a table and as JSON, and says where
// the logs are; without a hub it exits 3.
func TestStatus(t *testing.T) {
	hub, _, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "2")
	var st struct {
		Hub     string `json:"hub"`
		Logs    string `json:"logs"`
		Engines []struct {
			ID    int    `json:"id"`
			PID   int    `json:"pid"`
			Arch  string `json:"arch"`
			State string `json:"state"`
		} `json:"engines"`
	}
	waitFor(t, 20*time.Second, "2 engines in pirun status --json", func() bool {
		r := runPirun(t, "", 20*time.Second, "status", "--json")
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil && len(st.Engines) == 2
	})
	if st.Engines[0].State != "idle" || st.Engines[0].PID == 0 || !strings.HasPrefix(st.Engines[0].Arch, "linux/") {
		t.Errorf("pirun status --json engine 0 = %+v, want an idle linux engine with a pid", st.Engines[0])
	}
	if want := filepath.Join(pirunDir(t), "default", "log"); st.Logs != want {
		t.Errorf("pirun status --json logs = %q, want %q", st.Logs, want)
	}
	r := runPirun(t, "", 20*time.Second, "status")
	for _, want := range []string{"engines: 2 on 1 host(s)", "STATE", "idle", st.Hub} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("pirun status printed\n%s\nwant %q in it", r.stdout, want)
		}
	}
	log, err := os.ReadFile(filepath.Join(st.Logs, "hub.log"))
	if err != nil || !strings.Contains(string(log), "engines joined") {
		t.Errorf("hub.log = %q, %v; want the engines' joining logged", log, err)
	}
	hub.cmd.Process.Kill()
	<-hub.done
	r = runPirun(t, "", 20*time.Second, "status")
	if r.code != 3 || !strings.Contains(r.stderr, "no hub answers") {
		t.Errorf("pirun status without a hub = %d %q, want 3 saying no hub answers", r.code, r.stderr)
	}
}

// TestHubKeepsCredentials restarts a hub of a profile: the connection
// files keep their credentials, so engines and clients holding copies of
// the old ones still get in.
func TestHubKeepsCredentials(t *testing.T) {
	hub, clientConn, _ := startHub(t)
	first, _, err := conf.LoadConnFile(clientConn)
	if err != nil {
		t.Fatal(err)
	}
	hub.cmd.Process.Kill()
	<-hub.done
	_, clientConn, _ = startHub(t)
	second, _, err := conf.LoadConnFile(clientConn)
	if err != nil {
		t.Fatal(err)
	}
	if first.Password != second.Password || first.HubID != second.HubID {
		t.Errorf("after a restart the client credentials changed: hub %s → %s", first.HubID, second.HubID)
	}
}

// TestEngineWaitsForHub starts an engine while its hub is down: it waits,
// saying so, and joins once the hub is up.
func TestEngineWaitsForHub(t *testing.T) {
	hub, clientConn, engineConn := startHub(t)
	cf, _, err := conf.LoadConnFile(clientConn)
	if err != nil {
		t.Fatal(err)
	}
	port := cf.URLs[0][strings.LastIndex(cf.URLs[0], ":")+1:]
	hub.cmd.Process.Kill()
	<-hub.done
	eng := startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	waitFor(t, 20*time.Second, "the engine to say it waits for the hub", func() bool {
		return strings.Contains(eng.stderr.String(), "no hub answers yet")
	})
	startPirun(t, "hub", "--port", port)
	waitFor(t, 30*time.Second, "the engine to join the hub started after it", func() bool {
		r := runPirun(t, "", 20*time.Second, "status", "--json")
		return r.code == 0 && strings.Contains(r.stdout, `"state": "idle"`)
	})
}
