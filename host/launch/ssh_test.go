package launch

import (
	"bytes"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{"pirun", "pirun"},
		{"/home/pi/bin/pirun", "/home/pi/bin/pirun"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
		{"x;rm -rf /", "'x;rm -rf /'"},
	} {
		if got := Quote(test.in); got != test.want {
			t.Errorf("Quote(%q) = %s, want %s", test.in, got, test.want)
		}
	}
}

func TestQuotePath(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{"~", `"$HOME"`},
		{"~/", `"$HOME"/`},
		{"~/.pirun/bin/pirun", `"$HOME"/.pirun/bin/pirun`},
		{"~/my dir/pirun", `"$HOME"/'my dir/pirun'`},
		{"~bob/pirun", `'~bob/pirun'`},
		{"/opt/pirun", "/opt/pirun"},
	} {
		if got := QuotePath(test.in); got != test.want {
			t.Errorf("QuotePath(%q) = %s, want %s", test.in, got, test.want)
		}
	}
}

// TestQuoteShell checks with a real shell that quoted words come back
// unchanged.
func TestQuoteShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, in := range []string{"plain", "a b", "it's", `"dq"`, "$HOME", "`id`", "x;y", "tab\there", "new\nline", "back\\slash"} {
		out, err := exec.Command(sh, "-c", "printf %s "+Quote(in)).Output()
		if err != nil {
			t.Fatalf("sh -c printf %s: %v", Quote(in), err)
		}
		if string(out) != in {
			t.Errorf("sh -c 'printf %%s %s' = %q, want %q", Quote(in), out, in)
		}
	}
}

func TestTargetArgs(t *testing.T) {
	for _, test := range []struct {
		t      Target
		remote string
		extra  []string
		want   []string
	}{
		{Target{Host: "pi1"}, "uname -sm", nil,
			[]string{"-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "pi1", "uname -sm"}},
		{Target{Host: "pi1", User: "pi", Port: 2222, Options: []string{"-i", "/k"}}, "true", nil,
			[]string{"-i", "/k", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-l", "pi", "-p", "2222", "pi1", "true"}},
		{Target{Host: "gw"}, "", []string{"-N"},
			[]string{"-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-N", "gw"}},
	} {
		if got := test.t.Args(test.remote, test.extra...); !slices.Equal(got, test.want) {
			t.Errorf("%+v.Args(%q, %q) = %q, want %q", test.t, test.remote, test.extra, got, test.want)
		}
	}
}

func TestParseGateway(t *testing.T) {
	for _, test := range []struct {
		in      string
		want    Target
		wantErr string
	}{
		{"gw", Target{Host: "gw"}, ""},
		{"pi@gw.example.org", Target{Host: "gw.example.org", User: "pi"}, ""},
		{"pi@gw:2222", Target{Host: "gw", User: "pi", Port: 2222}, ""},
		{"[::1]:22", Target{Host: "::1", Port: 22}, ""},
		{"gw:0", Target{}, "port"},
		{"gw:x", Target{}, "port"},
		{"-oProxyCommand=x", Target{}, "expected [user@]host[:port]"},
		{"a b", Target{}, "expected [user@]host[:port]"},
		{"pi@", Target{}, "expected [user@]host[:port]"},
	} {
		got, err := ParseGateway(test.in)
		switch {
		case test.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), test.wantErr) {
				t.Errorf("ParseGateway(%q) error = %v, want one containing %q", test.in, err, test.wantErr)
			}
		case err != nil:
			t.Errorf("ParseGateway(%q) error = %v", test.in, err)
		case got.Host != test.want.Host || got.User != test.want.User || got.Port != test.want.Port:
			t.Errorf("ParseGateway(%q) = %+v, want %+v", test.in, got, test.want)
		}
	}
}

func TestEngineCommandShell(t *testing.T) {
	for _, test := range []struct {
		c    EngineCommand
		want string
	}{
		{EngineCommand{Pirun: "pirun", Grace: time.Minute},
			`echo pirun-launched $$ "$(uname -n)"; exec pirun engine --connect - --launched --grace 1m0s`},
		{EngineCommand{Pirun: "~/bin/pi run", Engines: 4, Grace: 2 * time.Second, DataDir: "/data/it's"},
			`echo pirun-launched $$ "$(uname -n)"; exec "$HOME"/'bin/pi run' engine --connect - --launched --grace 2s -n 4 --data-dir '/data/it'\''s'`},
	} {
		if got := test.c.Shell(); got != test.want {
			t.Errorf("%+v.Shell() =\n%s\nwant\n%s", test.c, got, test.want)
		}
	}
}

// TestEngineCommandRuns runs the remote command with sh and a stand-in
// pirun that prints its arguments: the marker line names sh's pid, which
// exec hands on to pirun.
func TestEngineCommandRuns(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	fake := dir + "/pi run"
	writeScript(t, fake, "#!/bin/sh\necho \"args $$ $*\"\n")
	c := EngineCommand{Pirun: fake, Engines: 2, Grace: time.Second, DataDir: "/d d"}
	out, err := exec.Command(sh, "-c", c.Shell()).Output()
	if err != nil {
		t.Fatalf("sh -c %s: %v", c.Shell(), err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("output = %q, want two lines", out)
	}
	pid, _, ok := ParseLaunched(lines[0])
	if !ok {
		t.Fatalf("ParseLaunched(%q) failed", lines[0])
	}
	want := "args " + strconv.Itoa(pid) + " engine --connect - --launched --grace 1s -n 2 --data-dir /d d"
	if lines[1] != want {
		t.Errorf("pirun saw %q, want %q", lines[1], want)
	}
}

func TestParseLaunched(t *testing.T) {
	for _, test := range []struct {
		in   string
		pid  int
		host string
		ok   bool
	}{
		{"pirun-launched 42 pi1", 42, "pi1", true},
		{"pirun-launched 42", 42, "", true},
		{"pirun-launched x pi1", 0, "", false},
		{"pirun-launched -3 pi1", 0, "", false},
		{"hello", 0, "", false},
		{"", 0, "", false},
	} {
		pid, host, ok := ParseLaunched(test.in)
		if pid != test.pid || host != test.host || ok != test.ok {
			t.Errorf("ParseLaunched(%q) = %d, %q, %v, want %d, %q, %v", test.in, pid, host, ok, test.pid, test.host, test.ok)
		}
	}
}

func TestConnPayload(t *testing.T) {
	file := []byte("role = \"engine\"\n")
	r := io.MultiReader(bytes.NewReader(ConnPayload(file)), strings.NewReader("more"))
	got, err := ReadConnPayload(r)
	if err != nil || string(got) != string(file) {
		t.Fatalf("ReadConnPayload = %q, %v, want %q", got, err, file)
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "more" {
		t.Errorf("after ReadConnPayload, the reader holds %q, want %q", rest, "more")
	}
	if _, err := ReadConnPayload(strings.NewReader("no nul")); err == nil || !strings.Contains(err.Error(), "before the closing NUL") {
		t.Errorf("ReadConnPayload(no NUL) error = %v, want one about the closing NUL", err)
	}
	if _, err := ReadConnPayload(bytes.NewReader(make([]byte, maxConnFile+10))); err != nil {
		t.Errorf("ReadConnPayload(NULs) error = %v, want an empty file", err)
	}
	big := bytes.Repeat([]byte("x"), maxConnFile+10)
	if _, err := ReadConnPayload(bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("ReadConnPayload(too big) error = %v, want one about the size", err)
	}
}

func TestOutputErrors(t *testing.T) {
	dir := t.TempDir()
	fake := dir + "/ssh"
	writeScript(t, fake, `#!/bin/sh
for last; do :; done
case "$last" in
down) echo "ssh: connect to host down port 22: No route to host" >&2; exit 255 ;;
fail) echo "oops" >&2; exit 3 ;;
*) sh -c "$last" ;;
esac
`)
	ctx := t.Context()
	if out, err := Output(ctx, fake, Target{Host: "h"}, "echo", "echo hi", nil); err != nil || string(out) != "hi\n" {
		t.Errorf("Output(echo hi) = %q, %v, want \"hi\\n\"", out, err)
	}
	for _, test := range []struct{ remote, want string }{
		{"down", "cannot reach h with ssh: ssh: connect to host down port 22: No route to host"},
		{"fail", "probe on h failed: oops"},
	} {
		_, err := Output(ctx, fake, Target{Host: "h"}, "probe", test.remote, nil)
		if err == nil || err.Error() != test.want {
			t.Errorf("Output(%s) error = %v, want %q", test.remote, err, test.want)
		}
	}
	_, err := Output(ctx, dir+"/nossh", Target{Host: "h"}, "probe", "true", nil)
	if err == nil || !strings.Contains(err.Error(), "was not found: install the OpenSSH client or set [cluster] ssh") {
		t.Errorf("Output(missing ssh) error = %v, want a hint about [cluster] ssh", err)
	}
}

func TestLastLines(t *testing.T) {
	for _, test := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"a\n\nb\nc\n", 2, "b; c"},
		{"  a  \n", 5, "a"},
	} {
		if got := LastLines(test.in, test.n); got != test.want {
			t.Errorf("LastLines(%q, %d) = %q, want %q", test.in, test.n, got, test.want)
		}
	}
}
