package cluster

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/launch"
)

func TestMain(m *testing.M) {
	if os.Getenv("PIRUN_TEST_FAKE_SSH") == "1" {
		os.Exit(fakeSSHForward(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeSSHForward stands in for `ssh -N -L 127.0.0.1:PORT:TARGET gateway`:
// it listens on 127.0.0.1:PORT and forwards each connection to TARGET.
func fakeSSHForward(args []string) int {
	var spec string
	for i, a := range args {
		if a == "-L" && i+1 < len(args) {
			spec = args[i+1]
		}
	}
	parts := strings.SplitN(spec, ":", 3) // 127.0.0.1, PORT, host:port
	if len(parts) != 3 {
		os.Stderr.WriteString("fake ssh: no -L\n")
		return 255
	}
	l, err := net.Listen("tcp", parts[0]+":"+parts[1])
	if err != nil {
		os.Stderr.WriteString("fake ssh: " + err.Error() + "\n")
		return 255
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return 255
		}
		go func() {
			defer c.Close()
			t, err := net.Dial("tcp", parts[2])
			if err != nil {
				return
			}
			defer t.Close()
			go io.Copy(t, c)
			io.Copy(c, t)
		}()
	}
}

func TestTunnelConn(t *testing.T) {
	t.Setenv("PIRUN_TEST_FAKE_SSH", "1")
	srv := test.RunRandClientPortServer()
	defer srv.Shutdown()
	hubURL := srv.ClientURL()
	for _, test := range []struct {
		name           string
		cf             conf.ConnFile
		wantServerName string
	}{
		{"plain", conf.ConnFile{URLs: []string{hubURL}}, ""},
		{"tls", conf.ConnFile{URLs: []string{strings.Replace(hubURL, "nats://", "tls://", 1)}}, "127.0.0.1"},
		{"tls kept", conf.ConnFile{URLs: []string{hubURL}, TLS: conf.ConnTLS{CA: "x", ServerName: "hub.lan"}}, "hub.lan"},
	} {
		cf := test.cf
		stop, err := Tunnel(t.Context(), os.Args[0], "pi@gateway", &cf, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("%s: Tunnel: %v", test.name, err)
		}
		if len(cf.URLs) != 1 || !strings.Contains(cf.URLs[0], "://127.0.0.1:") || cf.URLs[0] == test.cf.URLs[0] {
			t.Errorf("%s: Tunnel URLs = %q, want the tunnel's local end", test.name, cf.URLs)
		}
		if cf.TLS.ServerName != test.wantServerName {
			t.Errorf("%s: Tunnel server name = %q, want %q", test.name, cf.TLS.ServerName, test.wantServerName)
		}
		if test.name == "plain" {
			nc, err := nats.Connect(cf.URLs[0], nats.Timeout(5*time.Second))
			if err != nil {
				t.Errorf("connect through the tunnel: %v", err)
			} else {
				nc.Close()
			}
		}
		stop()
	}
	cf := conf.ConnFile{URLs: []string{hubURL}}
	var ce *ConfigError
	if _, err := Tunnel(t.Context(), os.Args[0], "-bad", &cf, slog.New(slog.DiscardHandler)); !errors.As(err, &ce) {
		t.Errorf("Tunnel(bad gateway) error = %v, want a *ConfigError", err)
	}
}

func TestReadConnStdin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "engine-connection.toml")
	cf := conf.ConnFile{Role: conf.RoleEngine, Protocol: 1, HubID: "hub1", URLs: []string{"nats://10.0.0.1:4222"},
		User: "engine", Password: "secret", Created: time.Now().UTC().Truncate(time.Second)}
	if err := conf.WriteConnFile(path, cf); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadConnStdin(bytes.NewReader(launch.ConnPayload(data)))
	if err != nil {
		t.Fatalf("ReadConnStdin: %v", err)
	}
	if got.Password != "secret" || got.URLs[0] != cf.URLs[0] || got.Role != conf.RoleEngine {
		t.Errorf("ReadConnStdin = %+v, want %+v", got, cf)
	}
	for _, test := range []struct{ in, want string }{
		{strings.Replace(string(data), `role = "engine"`, `role = "client"`, 1), "this is a client connection file"},
		{string(data) + "\nextra = 1\n", "extra: unknown key"},
		{"role = ", "connection file from stdin"},
	} {
		_, err := ReadConnStdin(bytes.NewReader(launch.ConnPayload([]byte(test.in))))
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("ReadConnStdin(%.30q…) error = %v, want one containing %q", test.in, err, test.want)
		}
	}
}

func TestIDList(t *testing.T) {
	for _, test := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{3}, "3"},
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{0, 1, 3, 5, 6}, "0-1, 3, 5-6"},
	} {
		if got := idList(test.in); got != test.want {
			t.Errorf("idList(%v) = %q, want %q", test.in, got, test.want)
		}
	}
}
