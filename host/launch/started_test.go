package launch

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/starlib/startest"
)

func TestRemoteEngineExitReason(t *testing.T) {
	for _, test := range []struct {
		script string
		want   string
	}{
		{"echo 'ssh: connect to host pi9 port 22: No route to host' >&2; exit 255", "cannot reach pi9 with ssh: ssh: connect to host pi9 port 22: No route to host"},
		{"echo 'sh: 1: exec: /opt/pirun: not found' >&2; exit 127", "pirun not found on pi9 at /opt/pirun: copy it there or use --push-binary"},
		{"echo 'pirun engine: the hub speaks protocol 3, this engine 2' >&2; exit 3", "the engines on pi9 exited: pirun engine: the hub speaks protocol 3, this engine 2"},
	} {
		rec := Child{Kind: KindSSH, Host: "pi9"}
		c, err := StartChild(rec, []string{"/bin/sh", "-c", test.script}, nil, slog.New(slog.DiscardHandler), func(*Started, string) {})
		if err != nil {
			t.Fatal(err)
		}
		<-c.Done
		startest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
			if c.Tail() == "" {
				return errors.New("no stderr line was read")
			}
			return nil
		})
		if got := c.ExitReason("/opt/pirun"); !strings.HasPrefix(got, test.want) {
			t.Errorf("ExitReason after %q = %q, want it to start with %q", test.script, got, test.want)
		}
	}
}
