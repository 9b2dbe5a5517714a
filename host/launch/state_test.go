package launch

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/starlib/startest"
)

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cluster.json")
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	want := &State{Profile: "lab", Supervisor: self, Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		HubURL: "nats://10.0.0.1:4222", Grace: "1m0s", Ready: true, Log: "/x/log/cluster.log",
		Children: []Child{
			{Kind: KindLocal, Host: "localhost", Process: self, Command: []string{"pirun", "engine"}, Engines: 4, Joined: []int{0, 1, 2, 3}},
			{Kind: KindSSH, Host: "pi1", Engines: 0, RemotePID: 77, Pushed: "/b/pirun-linux-armv6", Error: "boom"},
		}}
	if err := WriteState(path, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %04o, want 0600", fi.Mode().Perm())
	}
	got, err := ReadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadState = %+v, want %+v", got, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d files after WriteState, want 1 (no temporary left)", len(entries))
	}
}

func TestReadStateErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadState(filepath.Join(dir, "none.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadState(missing) error = %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o600)
	if _, err := ReadState(bad); err == nil {
		t.Error("ReadState(bad JSON) = nil error")
	}
}

func TestProcessRunning(t *testing.T) {
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if !self.Running() {
		t.Errorf("Self().Running() = false, want true")
	}
	reused := Process{PID: self.PID, Start: self.Start + "0"}
	if reused.Running() {
		t.Errorf("a process with this pid and another start time: Running() = true, want false (pid reuse)")
	}
	if err := reused.Signal(syscall.Signal(0)); !errors.Is(err, ErrGone) {
		t.Errorf("Signal to a reused pid: error = %v, want ErrGone", err)
	}
	if (Process{PID: self.PID}).Running() {
		t.Errorf("a process without a start stamp: Running() = true, want false")
	}
}

func TestProcessExited(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	p, err := Find(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Running() {
		t.Fatalf("Find(sleep).Running() = false, want true")
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Not reaped yet: a zombie counts as gone.
	startest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if p.Running() {
			return errors.New("killed process still Running")
		}
		return nil
	})
	cmd.Wait()
	if p.Running() {
		t.Errorf("reaped process: Running() = true, want false")
	}
	if _, err := Find(cmd.Process.Pid); !errors.Is(err, ErrGone) {
		t.Errorf("Find(reaped) error = %v, want ErrGone", err)
	}
}

func TestProcStamp(t *testing.T) {
	stat := "123 (a (weird) name) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10"
	got, err := procStamp(123, []byte(stat))
	if err != nil || !strings.HasSuffix(got, "/98765") {
		t.Errorf("procStamp(%q) = %q, %v, want a stamp ending in /98765", stat, got, err)
	}
	zombie := "123 (x) Z 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10"
	if _, err := procStamp(123, []byte(zombie)); !errors.Is(err, ErrGone) {
		t.Errorf("procStamp(zombie) error = %v, want ErrGone", err)
	}
}
