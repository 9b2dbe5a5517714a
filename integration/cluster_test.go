// This file defines tests of `pirun cluster start` and `pirun cluster
// stop` across real processes: local engines, engines on [[hosts]]
// launched through a stand-in ssh that runs the remote command on this
// machine, the grace period after the supervisor or an ssh session dies,
// and the messages of mistakes.

package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/host/launch"
)

// clusterTimeout bounds one `pirun cluster` command of these tests.
const clusterTimeout = 2 * time.Minute

// fakeSSHScript is an ssh stand-in: it drops ssh's options and runs the remote
// command here with sh, as a child that keeps its stdin (so killing this
// script is like an ssh session killed under a launched engine). The host
// "unreachable" fails as ssh does.
const fakeSSHScript = `#!/bin/sh
while [ $# -gt 0 ]; do
	case "$1" in
	-o|-l|-p|-i|-F|-L|-R|-J) shift 2 ;;
	-*) shift ;;
	*) break ;;
	esac
done
host=$1
shift
if [ "$host" = unreachable ]; then
	echo "ssh: connect to host $host port 22: Connection refused" >&2
	exit 255
fi
exec 3<&0
sh -c "$*" <&3 3<&- &
wait $!
`

// writeClusterProfile writes the profile name's pirun.toml (with the hub on a
// free port), and a fake ssh as [cluster] ssh when hosts is not "", and
// stops whatever the test's cluster left at cleanup.
func writeClusterProfile(t *testing.T, name, cluster, hosts string) {
	t.Helper()
	dir := filepath.Join(pirunDir(t), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	toml := "[hub]\nport = 0\n\n[cluster]\n" + cluster + "\n"
	if hosts != "" {
		ssh := filepath.Join(t.TempDir(), "fakessh")
		if err := os.WriteFile(ssh, []byte(fakeSSHScript), 0o755); err != nil {
			t.Fatal(err)
		}
		toml += "ssh = \"" + ssh + "\"\n\n" + strings.ReplaceAll(hosts, "PIRUN", pirunBin)
	}
	if err := os.WriteFile(filepath.Join(dir, "pirun.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killCluster(t, name) })
}

// killCluster SIGKILLs the processes of a cluster that a failed test left.
func killCluster(t *testing.T, name string) {
	st, err := launch.ReadState(clusterStatePath(t, name))
	if err != nil {
		return
	}
	for _, p := range clusterProcesses(st) {
		p.Signal(syscall.SIGKILL)
	}
}

func clusterStatePath(t *testing.T, name string) string {
	return filepath.Join(pirunDir(t), name, "state", "cluster.json")
}

// clusterState reads the cluster state of profile name.
func clusterState(t *testing.T, name string) *launch.State {
	t.Helper()
	st, err := launch.ReadState(clusterStatePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// clusterProcesses are the supervisor, its children and the engines that
// ssh children launched (here, on this machine).
func clusterProcesses(st *launch.State) []launch.Process {
	ps := []launch.Process{st.Supervisor}
	for _, c := range st.Children {
		if c.Process.PID > 0 {
			ps = append(ps, c.Process)
		}
		if c.RemotePID > 0 {
			if p, err := launch.Find(c.RemotePID); err == nil {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// clusterChild returns the state's child of host.
func clusterChild(t *testing.T, st *launch.State, host string) launch.Child {
	t.Helper()
	for _, c := range st.Children {
		if c.Host == host {
			return c
		}
	}
	t.Fatalf("the cluster state has no child for %s: %+v", host, st.Children)
	return launch.Child{}
}

// clusterEngines runs a script on the profile's cluster and returns what it
// printed: the number of engines.
func clusterEngines(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "count.star")
	if err := os.WriteFile(script, []byte("print(len(Client().ids))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runPirun(t, dir, clusterTimeout, "--profile", name, script)
	if r.code != 0 {
		t.Fatalf("pirun --profile %s count.star = exit %d\nstderr:\n%s", name, r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// waitProcessesGone waits until none of ps runs.
func waitProcessesGone(t *testing.T, timeout time.Duration, what string, ps ...launch.Process) {
	t.Helper()
	waitFor(t, timeout, what, func() bool {
		for _, p := range ps {
			if p.Running() {
				return false
			}
		}
		return true
	})
}

// TestClusterStartStop: start runs a hub and local engines in the
// background, a script on the profile sees them, and stop ends every
// process and removes the state file.
func TestClusterStartStop(t *testing.T) {
	writeClusterProfile(t, "x", "", "")
	r := mustClusterStart(t, "-n", "2", "--profile", "x")
	for _, want := range []string{"pirun cluster (profile x) started: hub nats://127.0.0.1:", "localhost", "2 engines (ids 0-1)",
		"client-connection.toml", "pirun cluster stop --profile x"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("pirun cluster start: stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	st := clusterState(t, "x")
	if !st.Ready || len(st.Children) != 1 || !st.Supervisor.Running() || !st.Children[0].Process.Running() {
		t.Fatalf("state after start = %+v, want a running supervisor and one running child, ready", st)
	}
	if got := clusterEngines(t, "x"); got != "2" {
		t.Errorf("a script on the cluster sees %s engines, want 2", got)
	}
	r = runPirun(t, "", clusterTimeout, "cluster", "stop", "--profile", "x")
	if r.code != 0 || !strings.Contains(r.stdout, "stopped the cluster of profile x") {
		t.Errorf("pirun cluster stop = exit %d, stdout %q, stderr %q; want 0 and what it stopped", r.code, r.stdout, r.stderr)
	}
	waitProcessesGone(t, 10*time.Second, "the cluster's processes to exit", clusterProcesses(st)...)
	if _, err := os.Stat(clusterStatePath(t, "x")); !os.IsNotExist(err) {
		t.Errorf("state file after stop: %v, want it removed", err)
	}
}

// TestClusterHosts: engines of [[hosts]] are launched over ssh (here a
// stand-in) and join; hosts that fail are reported with ssh's own words
// and the cluster starts without them.
func TestClusterHosts(t *testing.T) {
	writeClusterProfile(t, "h", "", `
[[hosts]]
host = "pi1"
engines = 2
pirun = "PIRUN"

[[hosts]]
host = "unreachable"

[[hosts]]
host = "pi3"
pirun = "/nonexistent/bin/pirun"
`)
	r := mustClusterStart(t, "-n", "1", "--profile", "h")
	for _, want := range []string{"localhost", "1 engine (ids", "pi1", "2 engines (ids"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("pirun cluster start: stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, want := range []string{
		"warning: unreachable: cannot reach unreachable with ssh: ssh: connect to host unreachable port 22: Connection refused",
		"warning: pi3: pirun not found on pi3 at /nonexistent/bin/pirun: copy it there or use --push-binary",
		"engines on [[hosts]] cannot reach it",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("pirun cluster start: stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if got := clusterEngines(t, "h"); got != "3" {
		t.Errorf("a script on the cluster sees %s engines, want 3", got)
	}
	st := clusterState(t, "h")
	if pi1 := clusterChild(t, st, "pi1"); pi1.Kind != launch.KindSSH || pi1.RemotePID == 0 || len(pi1.Joined) != 2 {
		t.Errorf("state of pi1 = %+v, want an ssh child whose engine process joined with 2 engines", pi1)
	}
	r = runPirun(t, "", clusterTimeout, "cluster", "stop", "--profile", "h")
	if r.code != 0 {
		t.Errorf("pirun cluster stop = exit %d, stderr %q", r.code, r.stderr)
	}
	waitProcessesGone(t, 10*time.Second, "the cluster's processes to exit", clusterProcesses(st)...)
}

// TestClusterSupervisorKilled: launched engines, local and over ssh, exit
// once the grace period has passed after their supervisor (and hub) was
// SIGKILLed; stop then cleans the state up.
func TestClusterSupervisorKilled(t *testing.T) {
	writeClusterProfile(t, "k", `grace = "2s"`, `
[[hosts]]
host = "pi1"
engines = 1
pirun = "PIRUN"
`)
	r := mustClusterStart(t, "-n", "1", "--profile", "k")
	st := clusterState(t, "k")
	ps := clusterProcesses(st)
	if len(ps) != 4 { // supervisor, local engine, ssh, engine on pi1
		t.Fatalf("cluster processes = %+v, want 4", ps)
	}
	if err := st.Supervisor.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitProcessesGone(t, 20*time.Second, "the launched engines to exit after the 2s grace period", ps...)

	// A new start cleans the stale state up; stop cleans up after another kill.
	r = runPirun(t, "", clusterTimeout, "cluster", "start", "-n", "1", "--profile", "k")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: the cluster of profile k started ") || !strings.Contains(r.stderr, "was not stopped") {
		t.Fatalf("pirun cluster start over a stale state = exit %d, stderr %q; want 0 and a warning", r.code, r.stderr)
	}
	st = clusterState(t, "k")
	if err := st.Supervisor.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitProcessesGone(t, 10*time.Second, "the supervisor to die", st.Supervisor)
	r = runPirun(t, "", clusterTimeout, "cluster", "stop", "--profile", "k")
	if r.code != 0 || !strings.Contains(r.stdout, "was already gone") {
		t.Errorf("pirun cluster stop after a kill = exit %d, stdout %q, stderr %q; want 0 and that the supervisor was gone", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(clusterStatePath(t, "k")); !os.IsNotExist(err) {
		t.Errorf("state file after stop: %v, want it removed", err)
	}
	waitProcessesGone(t, 20*time.Second, "every process of the second start to exit", clusterProcesses(st)...)
}

// TestClusterSSHSessionKilled: an engine launched over ssh exits once the
// grace period has passed after its ssh session was killed.
func TestClusterSSHSessionKilled(t *testing.T) {
	writeClusterProfile(t, "s", `grace = "2s"`, `
[[hosts]]
host = "pi1"
engines = 1
pirun = "PIRUN"
`)
	r := mustClusterStart(t, "-n", "1", "--profile", "s")
	pi1 := clusterChild(t, clusterState(t, "s"), "pi1")
	engine, err := launch.Find(pi1.RemotePID)
	if err != nil {
		t.Fatalf("the engine process on pi1: %v", err)
	}
	if err := pi1.Process.Signal(syscall.SIGKILL); err != nil { // the ssh stand-in only
		t.Fatal(err)
	}
	waitProcessesGone(t, 20*time.Second, "the engine of the killed ssh session to exit after the 2s grace period", engine)
	waitFor(t, 10*time.Second, "the supervisor to record the ended session", func() bool {
		return strings.Contains(clusterChild(t, clusterState(t, "s"), "pi1").Error, "the engines on pi1 exited")
	})
	r = runPirun(t, "", clusterTimeout, "cluster", "stop", "--profile", "s")
	if r.code != 0 {
		t.Errorf("pirun cluster stop = exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestClusterErrors: nothing to stop, a cluster already running, bad
// configuration and usage mistakes say what to do, with their exit
// statuses.
func TestClusterErrors(t *testing.T) {
	writeClusterProfile(t, "e", "", "")
	for _, test := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"cluster", "stop", "--profile", "e"}, 3, "no cluster of profile e is running (no "},
		{[]string{"cluster"}, 2, "expected start or stop"},
		{[]string{"cluster", "restart"}, 2, `unknown command "restart"`},
		{[]string{"cluster", "start", "-n", "-1", "--profile", "e"}, 2, "-n must be 0 or more"},
		{[]string{"cluster", "start", "--profile", "no/such"}, 2, "profile name"},
	} {
		r := runPirun(t, "", clusterTimeout, test.args...)
		if r.code != test.code || !strings.Contains(r.stderr, test.want) {
			t.Errorf("pirun %s = exit %d, stderr %q; want exit %d and %q", strings.Join(test.args, " "), r.code, r.stderr, test.code, test.want)
		}
	}
	for _, test := range []struct {
		name, toml, want string
	}{
		{"nohost", "[[hosts]]\nengines = 2\n", "hosts[0].host"},
		{"nossh", "[cluster]\nssh = \"/nonexistent/ssh\"\n[[hosts]]\nhost = \"pi1\"\n", `the ssh program "/nonexistent/ssh" was not found`},
	} {
		dir := filepath.Join(pirunDir(t), test.name)
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, "pirun.toml"), []byte(test.toml), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runPirun(t, "", clusterTimeout, "cluster", "start", "--profile", test.name)
		if r.code != 2 || !strings.Contains(r.stderr, test.want) {
			t.Errorf("pirun cluster start with %q = exit %d, stderr %q; want exit 2 and %q", test.toml, r.code, r.stderr, test.want)
		}
		if _, err := os.Stat(clusterStatePath(t, test.name)); !os.IsNotExist(err) {
			t.Errorf("a refused start left a state file: %v", err)
		}
	}
	dir := filepath.Join(pirunDir(t), "dead")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "pirun.toml"), []byte("[hub]\nport = 0\n[engine]\ndata_dir = \"/nonexistent/data\"\n"), 0o644)
	r := runPirun(t, "", clusterTimeout, "cluster", "start", "-n", "1", "--profile", "dead")
	if r.code != 3 || !strings.Contains(r.stderr, "localhost: the local engines exited: pirun engine: data_dir:") ||
		!strings.Contains(r.stderr, "no engine joined the hub of profile dead; the cluster was stopped") {
		t.Errorf("pirun cluster start whose engines fail = exit %d, stderr %q; want exit 3, the engines' error and that it stopped", r.code, r.stderr)
	}
	if _, err := os.Stat(clusterStatePath(t, "dead")); !os.IsNotExist(err) {
		t.Errorf("a failed start left a state file: %v", err)
	}
	if r := runPirun(t, "", clusterTimeout, "cluster", "start", "-n", "1", "--profile", "e"); r.code != 0 {
		t.Fatalf("pirun cluster start = exit %d, stderr %q", r.code, r.stderr)
	}
	r = runPirun(t, "", clusterTimeout, "cluster", "start", "-n", "1", "--profile", "e")
	if r.code != 3 || !strings.Contains(r.stderr, "a cluster of profile e is already running (pid ") ||
		!strings.Contains(r.stderr, "stop it with: pirun cluster stop --profile e") {
		t.Errorf("a second pirun cluster start = exit %d, stderr %q; want exit 3 and that it runs", r.code, r.stderr)
	}
	if r := runPirun(t, "", clusterTimeout, "cluster", "stop", "--profile", "e"); r.code != 0 {
		t.Errorf("pirun cluster stop = exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestClusterPushBinary: --push-binary copies the build for the host's
// platform (here this one) to ~/.pirun/bin/pirun there, once, and runs it.
func TestClusterPushBinary(t *testing.T) {
	writeClusterProfile(t, "p", "", `
[[hosts]]
host = "pi1"
engines = 1
pirun = "/nonexistent/pirun"
`)
	home := t.TempDir() // the stand-in ssh runs "remote" commands here
	for _, want := range []string{"pirun copied from " + pirunBin, "(already there)"} {
		r := runPirunHome(t, home, "cluster", "start", "-n", "1", "--profile", "p", "--push-binary")
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("pirun cluster start --push-binary = exit %d, stdout %q, stderr %q; want 0 and %q", r.code, r.stdout, r.stderr, want)
		}
		if got := clusterEngines(t, "p"); got != "2" {
			t.Errorf("a script on the cluster sees %s engines, want 2", got)
		}
		st := clusterState(t, "p")
		if r := runPirunHome(t, home, "cluster", "stop", "--profile", "p"); r.code != 0 {
			t.Fatalf("pirun cluster stop = exit %d, stderr %q", r.code, r.stderr)
		}
		waitProcessesGone(t, 10*time.Second, "the cluster's processes to exit", clusterProcesses(st)...)
	}
	pushed, err := os.ReadFile(filepath.Join(home, ".pirun", "bin", "pirun"))
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile(pirunBin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pushed, self) {
		t.Errorf("the pushed pirun differs from this build")
	}
}

// runPirunHome is runPirun with HOME set to home.
func runPirunHome(t *testing.T, home string, args ...string) result {
	t.Helper()
	return runCmd(t, clusterTimeout, func(cmd *exec.Cmd) { cmd.Env = append(cmd.Env, "HOME="+home) }, args...)
}

// mustClusterStart runs pirun cluster start with args and fails the test
// unless it succeeds.
func mustClusterStart(t *testing.T, args ...string) result {
	t.Helper()
	r := runPirun(t, "", clusterTimeout, append([]string{"cluster", "start"}, args...)...)
	if r.code != 0 {
		t.Fatalf("pirun cluster start %v = exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}
