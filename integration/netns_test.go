// This file defines the network lab of the integration tests: several
// "machines" on this one, each a network namespace with its own address on
// a bridge, its own host name (a UTS namespace per process) and, when
// asked, its own sshd, so that a hub, engines and the SSH launcher talk
// over real TCP between hosts. Everything is torn down at cleanup, also
// after a failed test.

package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// labs counts the labs of this test run, so that each has its own names
// and subnet.
var labs atomic.Int32

// lab is a bridge in the root namespace and the hosts attached to it.
type lab struct {
	t      *testing.T
	prefix string // of every namespace and link name: "pr<pid><letter>"
	subnet string // the first three octets: "10.213.4"
	bridge string
	dir    string // keys and sshd configurations
	key    string // the private key every sshd of the lab accepts
	hosts  []*labHost
}

// labHost is one "machine": a network namespace with one link.
type labHost struct {
	lab      *lab
	ns       string // namespace name
	hostname string // "pi0", "pi1", …
	addr     string // IPv4 address on the bridge
	veth     string // the root side of its link: down = cable pulled
	dir      string // working folder of its processes, HOME of its SSH sessions
	sshd     *proc
}

// newLab makes n hosts named pi0…pi<n-1> on a fresh bridge; the root
// namespace has the subnet's .1, host i has .(i+2).
func newLab(t *testing.T, n int) *lab {
	t.Helper()
	requireTool(t, toolRoot, "ip", "unshare")
	k := int(labs.Add(1) - 1)
	pid := os.Getpid()
	l := &lab{
		t:      t,
		prefix: fmt.Sprintf("pr%d%c", pid%100000, 'a'+k%26),
		subnet: freeSubnet(t, pid+k),
		dir:    t.TempDir(),
	}
	l.bridge = l.prefix + "br"
	t.Cleanup(l.teardown)
	l.ip("link", "add", l.bridge, "type", "bridge")
	l.ip("addr", "add", l.subnet+".1/24", "dev", l.bridge)
	l.ip("link", "set", l.bridge, "up")
	for i := range n {
		l.addHost(i)
	}
	return l
}

// freeSubnet returns the first three octets of a 10.x.y.0/24 subnet that
// no interface of the root namespace uses (a lab left behind by a killed
// test run, a real network), starting from one derived from seed.
func freeSubnet(t *testing.T, seed int) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 * 250 {
		n := (seed + i) % (50 * 250)
		subnet := fmt.Sprintf("10.%d.%d", 200+n%50, n/50)
		if !slices.ContainsFunc(addrs, func(a net.Addr) bool { return strings.HasPrefix(a.String(), subnet+".") }) {
			return subnet
		}
	}
	t.Fatal("no free 10.200-249.x.0/24 subnet for a network lab")
	return ""
}

// addHost makes host i: its namespace, a veth pair to the bridge, the
// address and loopback. It is in l.hosts before it exists, for teardown.
func (l *lab) addHost(i int) {
	h := &labHost{lab: l, ns: fmt.Sprintf("%sn%d", l.prefix, i), hostname: fmt.Sprintf("pi%d", i),
		addr: fmt.Sprintf("%s.%d", l.subnet, i+2), veth: fmt.Sprintf("%sv%d", l.prefix, i),
		dir: filepath.Join(l.dir, fmt.Sprintf("pi%d", i))}
	l.hosts = append(l.hosts, h)
	if err := os.MkdirAll(h.dir, 0o700); err != nil {
		l.t.Fatal(err)
	}
	l.ip("netns", "add", h.ns)
	l.ip("link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
	l.ip("link", "set", h.veth, "master", l.bridge, "up")
	l.ip("-n", h.ns, "addr", "add", h.addr+"/24", "dev", "eth0")
	l.ip("-n", h.ns, "link", "set", "eth0", "up")
	l.ip("-n", h.ns, "link", "set", "lo", "up")
}

// ipCommand returns the command ip(8) with args; ip is in /usr/sbin, which
// a user's PATH may lack.
func ipCommand(args ...string) *exec.Cmd {
	path, err := toolPath("ip")
	if err != nil {
		path = "ip"
	}
	return exec.Command(path, args...)
}

// ip runs ip(8) and fails the test on error.
func (l *lab) ip(args ...string) {
	l.t.Helper()
	if out, err := ipCommand(args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// teardown kills every process left in the lab's namespaces (those the
// test started and those pirun started there, over SSH or in the
// background), then deletes the namespaces, their links and the bridge.
func (l *lab) teardown() {
	for _, h := range l.hosts {
		h.killAll()
	}
	for _, h := range l.hosts {
		if out, err := ipCommand("netns", "del", h.ns).CombinedOutput(); err != nil {
			l.t.Errorf("ip netns del %s: %v\n%s", h.ns, err, out)
		}
		ipCommand("link", "del", h.veth).Run() // gone with the namespace, normally
	}
	if out, err := ipCommand("link", "del", l.bridge).CombinedOutput(); err != nil {
		l.t.Errorf("ip link del %s: %v\n%s", l.bridge, err, out)
	}
}

// killAll SIGKILLs the processes in h's namespace until none is left.
func (h *labHost) killAll() {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := h.pids()
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.lab.t.Errorf("processes %v are still in namespace %s after SIGKILL", pids, h.ns)
			return
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pids lists the processes in h's network namespace.
func (h *labHost) pids() []int {
	out, err := ipCommand("netns", "pids", h.ns).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processes lists the processes in h's namespace whose command name
// (/proc/PID/comm) is comm.
func (h *labHost) processes(comm string) []int {
	var pids []int
	for _, pid := range h.pids() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(b)) == comm {
			pids = append(pids, pid)
		}
	}
	return pids
}

// command returns a command that runs argv in h's namespace with h's
// host name and the test's environment.
func (h *labHost) command(t *testing.T, argv ...string) *exec.Cmd {
	args := append([]string{"netns", "exec", h.ns, "unshare", "--uts", "sh", "-c",
		`echo "$0" >/proc/sys/kernel/hostname && exec "$@"`, h.hostname}, argv...)
	cmd := ipCommand(args...)
	cmd.Env = testEnv(t)
	cmd.Dir = h.dir
	return cmd
}

// start runs argv in h in the background; it is killed at cleanup.
func (h *labHost) start(t *testing.T, argv ...string) *proc {
	t.Helper()
	return startProc(t, h.command(t, argv...))
}

// pirun starts pirun with args in h in the background.
func (h *labHost) pirun(t *testing.T, args ...string) *proc {
	t.Helper()
	return h.start(t, append([]string{pirunBin}, args...)...)
}

// runPirun runs pirun with args in h and waits up to timeout.
func (h *labHost) runPirun(t *testing.T, timeout time.Duration, args ...string) result {
	t.Helper()
	cmd := h.command(t, append([]string{pirunBin}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pirun %v in %s: %v", args, h.ns, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s: pirun %v did not finish within %v\nstdout:\n%s\nstderr:\n%s", h.hostname, args, timeout, &out, &errb)
	}
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: pirun %v: %v", h.hostname, args, err)
	}
	return result{out.String(), errb.String(), code}
}

// startHub starts `pirun hub --ip '*' --port port` for profile in h and
// waits until it listens; its connection files are in the profile's
// security/ folder.
func (h *labHost) startHub(t *testing.T, profile string, port int) *proc {
	t.Helper()
	p := h.pirun(t, "hub", "--profile", profile, "--ip", "*", "--port", strconv.Itoa(port))
	waitFor(t, 20*time.Second, "the hub in "+h.hostname+" to listen", func() bool {
		return strings.Contains(p.stdout.String(), "listening on") || exited(p)
	})
	if exited(p) {
		t.Fatalf("the hub in %s exited: %v\nstdout:\n%s\nstderr:\n%s", h.hostname, p.err, p.stdout, p.stderr)
	}
	return p
}

// exited reports whether p has ended.
func exited(p *proc) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// linkDown pulls h's cable: the root side of its veth goes down.
func (h *labHost) linkDown() { h.lab.ip("link", "set", h.veth, "down") }

// linkUp plugs h's cable back in.
func (h *labHost) linkUp() { h.lab.ip("link", "set", h.veth, "up") }

// sshKey returns the lab's client key pair (made on first use): the
// private key's path.
func (l *lab) sshKey() string {
	l.t.Helper()
	if l.key == "" {
		l.key = filepath.Join(l.dir, "id_ed25519")
		l.keygen(l.key)
		l.keygen(filepath.Join(l.dir, "ssh_host_ed25519_key"))
	}
	return l.key
}

func (l *lab) keygen(path string) {
	l.t.Helper()
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pirun-test", "-f", path).CombinedOutput(); err != nil {
		l.t.Fatalf("ssh-keygen %s: %v\n%s", path, err, out)
	}
}

// sshOptions are the ssh client options that reach the lab's sshds with
// its key and nothing of the user's ~/.ssh.
func (l *lab) sshOptions() []string {
	return []string{"-F", "/dev/null", "-i", l.sshKey(), "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"}
}

// startSSHD runs an sshd in h that lets root in with the lab's key; its
// sessions have h's host name, and h.dir as HOME and PIRUN_DIR.
func (h *labHost) startSSHD(t *testing.T) {
	t.Helper()
	requireTool(t, "sshd", "ssh", "ssh-keygen")
	l := h.lab
	key := l.sshKey()
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation
		t.Fatal(err)
	}
	cfg := filepath.Join(h.dir, "sshd_config")
	text := fmt.Sprintf(`ListenAddress %s
Port 22
HostKey %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile none
Subsystem sftp internal-sftp
SetEnv PIRUN_DIR=%s HOME=%s
`, h.addr, filepath.Join(l.dir, "ssh_host_ed25519_key"), key+".pub", filepath.Join(h.dir, "pirun"), h.dir)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sshd, _ := toolPath("sshd")
	h.sshd = h.start(t, sshd, "-D", "-e", "-f", cfg)
	waitFor(t, 10*time.Second, "sshd in "+h.hostname+" to greet", func() bool {
		return sshGreets(h.addr) || exited(h.sshd)
	})
	if exited(h.sshd) {
		t.Fatalf("sshd in %s exited: %v\n%s", h.hostname, h.sshd.err, h.sshd.stderr)
	}
}

// sshGreets reports whether an SSH server at addr:22 sends its banner.
func sshGreets(addr string) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, "22"), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

// ssh runs a command on h over SSH from the root namespace and returns
// its output.
func (h *labHost) ssh(t *testing.T, command string) string {
	t.Helper()
	args := append(h.lab.sshOptions(), "root@"+h.addr, command)
	out, err := exec.Command("ssh", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh %s %q: %v\n%s", h.hostname, command, err, out)
	}
	return string(out)
}

// sessionPids lists h's sshd processes other than the listener: the
// monitors and children of its SSH sessions.
func (h *labHost) sessionPids() []int {
	pids := h.processes("sshd")
	if h.sshd != nil {
		pids = slices.DeleteFunc(pids, func(pid int) bool { return pid == h.sshd.cmd.Process.Pid })
	}
	return pids
}

// TestNetnsLab checks the lab itself: each host has its address and host
// name, reaches the others over the bridge, and answers SSH with the
// lab's key in a session that has its host name and environment.
func TestNetnsLab(t *testing.T) {
	l := newLab(t, 2)
	for _, h := range l.hosts {
		h.startSSHD(t)
	}
	for _, h := range l.hosts {
		got := strings.Fields(h.ssh(t, `hostname; echo "$PIRUN_DIR"; ip -4 -o addr show dev eth0`))
		want := []string{h.hostname, filepath.Join(h.dir, "pirun")}
		if len(got) < 6 || !slices.Equal(got[:2], want) || got[5] != h.addr+"/24" {
			t.Errorf("ssh %s: hostname, PIRUN_DIR, address = %q, want %q and %s/24", h.ns, got, want, h.addr)
		}
	}
	// pi0 reaches pi1's sshd across the bridge.
	cmd := l.hosts[0].command(t, "bash", "-c", `exec 3<>/dev/tcp/$0/22 && head -c 7 <&3`, l.hosts[1].addr)
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != "SSH-2.0" {
		t.Errorf("pi0 → pi1:22 = %q, %v; want the SSH banner", out, err)
	}
}
