// This file defines the hub's roles and their NATS permissions: the hub's
// own connection, clients (submit work, read their own results) and
// engines (take work, answer, never submit).

package hub

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// Role users.
const (
	UserHub    = "pirun-hub"
	UserClient = "pirun-client"
	UserEngine = "pirun-engine"
)

// Auth holds the password of each role. A nil *Auth means no
// authentication, which the hub allows only without a listener.
type Auth struct {
	Hub, Client, Engine string
}

// NewAuth returns fresh random credentials for every role.
func NewAuth() (*Auth, error) {
	a := &Auth{}
	for _, p := range []*string{&a.Hub, &a.Client, &a.Engine} {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("make credentials: %w", err)
		}
		*p = base64.RawURLEncoding.EncodeToString(b)
	}
	return a, nil
}

func (a *Auth) hubOption() nats.Option {
	if a == nil {
		return func(*nats.Options) error { return nil }
	}
	return nats.UserInfo(UserHub, a.Hub)
}

// apply sets the server's users and permissions.
func (a *Auth) apply(opts *server.Options) {
	if a == nil {
		return
	}
	allow := func(subjects ...string) *server.SubjectPermission {
		return &server.SubjectPermission{Allow: subjects}
	}
	opts.Users = []*server.User{
		{Username: UserHub, Password: a.Hub},
		{Username: UserClient, Password: a.Client, Permissions: &server.Permissions{
			Publish: allow(wire.SubjectQuery, wire.SubjectSubmit, wire.SubjectSchedControl, wire.SubjectJobs,
				"pirun.d.*.task", "pirun.d.*.ctl", "pirun.d.*.ack"),
			Subscribe: allow(wire.ClientsAll, wire.SubjectEvents, "_INBOX.>"),
		}},
		{Username: UserEngine, Password: a.Engine, Permissions: &server.Permissions{
			// SubjectHubAcks: acknowledgements of the hub's large task
			// batches (a response permission allows one reply per
			// message, and parts share the hub's reply subject).
			Publish: allow(wire.SubjectRegister, wire.SubjectHeartbeat, wire.SubjectDone, wire.SubjectHubAcks,
				"pirun.c.*.r", "pirun.c.*.o", "pirun.c.*.a", wire.CommAll),
			Subscribe: allow(wire.DaemonAll, wire.CommAll, wire.EngineInboxPrefix+".>"),
			Response:  &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
		}},
	}
}

// natsLog routes nats-server's log through slog. Notices are debug-level:
// the server's banner is not for a pirun user's terminal.
type natsLog struct{ log *slog.Logger }

func (l *natsLog) Noticef(format string, v ...any) { l.log.Debug("nats: " + fmt.Sprintf(format, v...)) }
func (l *natsLog) Warnf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.HasPrefix(msg, "Plaintext passwords detected") {
		// Role passwords are random 192-bit secrets made per hub start.
		l.log.Debug("nats: " + msg)
		return
	}
	l.log.Warn("nats: " + msg)
}
func (l *natsLog) Fatalf(format string, v ...any) { l.log.Error("nats: " + fmt.Sprintf(format, v...)) }
func (l *natsLog) Errorf(format string, v ...any) { l.log.Error("nats: " + fmt.Sprintf(format, v...)) }
func (l *natsLog) Debugf(format string, v ...any) { l.log.Debug("nats: " + fmt.Sprintf(format, v...)) }
func (l *natsLog) Tracef(format string, v ...any) { l.log.Debug("nats: " + fmt.Sprintf(format, v...)) }
