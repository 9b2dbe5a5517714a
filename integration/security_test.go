// This file defines the security tests of `pirun hub` (SPEC §9) on
// loopback: spoiled engine credentials, engine credentials used to submit
// tasks, and plain connections to a TLS hub. The NATS permissions
// themselves are unit-tested in host/hub_test.go; these tests use the
// credentials and files that the pirun binary writes.

package integration

import (
	"bufio"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// editConnFile writes a copy of a connection file (mode 0600) into the
// test's temp dir with edit applied to its text.
func editConnFile(t *testing.T, path, name string, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, []byte(edit(string(b))), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// replaceLine replaces the line `key = …` of a TOML text.
func replaceLine(key, line string) func(string) string {
	re := regexp.MustCompile(`(?m)^` + key + ` = .*$`)
	return func(s string) string { return re.ReplaceAllLiteralString(s, line) }
}

// TestSecuritySpoiledEngineCredentials starts an engine whose connection
// file has a wrong password: it exits with status 3 saying that the hub
// refused its credentials, and a client sees only the good engine.
func TestSecuritySpoiledEngineCredentials(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	spoiled := editConnFile(t, engineConn, "spoiled.toml", replaceLine("password", `password = "spoiled-spoiled-spoiled-spoiled"`))
	r := runPirun(t, "", 30*time.Second, "engine", "--connect", spoiled, "-n", "1")
	if r.code != 3 || !strings.Contains(r.stderr, "refused the credentials") {
		t.Errorf("pirun engine with a spoiled password: exit %d, stderr %q; want 3 and a message that the credentials were refused", r.code, r.stderr)
	}
	dir := writeScript(t, "ids.star", "c = Client()\nc.wait_for_engines(1, timeout=20)\nprint(\"ids\", c.ids)\n")
	r = runPirun(t, dir, 30*time.Second, "--connect", clientConn, "ids.star")
	if r.code != 0 || r.stdout != "ids [0]\n" {
		t.Errorf("client: exit %d, stdout %q, want 0 and only the good engine: \"ids [0]\"\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestSecurityEngineCredentialsCannotSubmit tries to run a script with an
// engine's credentials: the engine connection file as is (refused before
// connecting), the same file relabelled as a client's (the hub must refuse
// what a client does, and pirun must say so and exit), and a raw NATS
// connection with the engine user publishing on the submit subject.
func TestSecurityEngineCredentialsCannotSubmit(t *testing.T) {
	_, _, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	dir := writeScript(t, "submit.star", "c = Client()\nprint(\"ran\", c.load_balanced_view().apply_sync(lambda: engine.id))\n")

	r := runPirun(t, dir, 30*time.Second, "--connect", engineConn, "submit.star")
	if r.code != 2 || !strings.Contains(r.stderr, "a client needs security/client-connection.toml") {
		t.Errorf("pirun --connect engine-connection.toml: exit %d, stderr %q; want 2 and a pointer to the client connection file", r.code, r.stderr)
	}

	forged := editConnFile(t, engineConn, "forged.toml", replaceLine("role", `role = "client"`))
	p := startPirun(t, "--connect", forged, filepath.Join(dir, "submit.star"))
	select {
	case <-p.done:
		code := p.cmd.ProcessState.ExitCode()
		if code != 3 || strings.Contains(p.stdout.String(), "ran") || !strings.Contains(strings.ToLower(p.stderr.String()), "permission") {
			t.Errorf("a script with engine credentials in a client file: exit %d, stdout %q, stderr %q; want 3, no task run, and the refused permission named",
				code, p.stdout, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("a script with engine credentials in a client file still runs after 20s, want exit 3 at once with a clear message\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}

	cf, _, err := conf.LoadConnFile(engineConn)
	if err != nil {
		t.Fatal(err)
	}
	nc, _, errs := rawConnect(t, cf)
	nc.Publish(wire.SubjectSubmit, []byte("x"))
	nc.Flush()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("the engine user publishing on %s: %v, want a permissions violation", wire.SubjectSubmit, err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the engine user published on %s without a permissions violation", wire.SubjectSubmit)
	}
}

// TestSecurityTLS starts `pirun hub --tls auto`: a script with the
// client connection file runs on an engine that used the engine file,
// while a connection without the hub's CA, a nats:// one, and the NATS
// protocol in plain text are refused.
func TestSecurityTLS(t *testing.T) {
	hub := startPirun(t, "hub", "--port", "0", "--tls", "auto")
	waitFor(t, 20*time.Second, "the TLS hub to listen", func() bool {
		return strings.Contains(hub.stdout.String(), "listening on tls://") || exited(hub)
	})
	sec := filepath.Join(pirunDir(t), "default", "security")
	clientConn, engineConn := filepath.Join(sec, "client-connection.toml"), filepath.Join(sec, "engine-connection.toml")
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	dir := writeScript(t, "tls.star", "c = Client()\nc.wait_for_engines(1, timeout=20)\nprint(\"answer\", c[:].apply_sync(lambda: 6 * 7))\n")
	if r := runPirun(t, dir, 30*time.Second, "--connect", clientConn, "tls.star"); r.code != 0 || r.stdout != "answer [42]\n" {
		t.Errorf("a script over TLS: exit %d, stdout %q, want 0 and \"answer [42]\"\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	noCA := func(s string) string { return s[:strings.Index(s, "[tls]")] }
	for _, test := range []struct {
		name string
		edit func(string) string
	}{
		{"no-ca.toml", noCA},
		{"plain.toml", func(s string) string { return strings.ReplaceAll(noCA(s), "tls://", "nats://") }},
	} {
		file := editConnFile(t, clientConn, test.name, test.edit)
		r := runPirun(t, dir, 30*time.Second, "--connect", file, "tls.star")
		if r.code != 3 || !strings.Contains(r.stderr, "TLS to the hub at") || r.stdout != "" {
			t.Errorf("pirun --connect %s: exit %d, stdout %q, stderr %q; want 3 and a TLS failure explained", test.name, r.code, r.stdout, r.stderr)
		}
	}

	cf, _, err := conf.LoadConnFile(clientConn)
	if err != nil {
		t.Fatal(err)
	}
	if reply := plainNATS(t, strings.TrimPrefix(cf.URLs[0], "tls://"), cf.User, cf.Password); strings.Contains(reply, "+OK") || strings.Contains(reply, "PONG") {
		t.Errorf("the NATS protocol in plain text to a TLS hub got %q, want the connection refused", reply)
	}
}

// plainNATS speaks NATS without TLS to addr: it checks that the greeting
// asks for TLS, sends CONNECT with the credentials and a PING, and
// returns what came back before the hub closed the connection.
func plainNATS(t *testing.T, addr, user, pass string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	info, err := br.ReadString('\n')
	if err != nil || !strings.Contains(info, `"tls_required":true`) {
		t.Fatalf("the TLS hub's greeting = %q, %v; want an INFO with tls_required", info, err)
	}
	if _, err := c.Write([]byte(`CONNECT {"verbose":true,"user":"` + user + `","pass":"` + pass + "\"}\r\nPING\r\n")); err != nil {
		return ""
	}
	var reply strings.Builder
	for {
		line, err := br.ReadString('\n')
		reply.WriteString(line)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("the TLS hub neither answered nor closed a plain connection within 10s")
			}
			return reply.String()
		}
	}
}
