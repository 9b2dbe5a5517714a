// This file defines the hub's roles and their NATS permissions: the hub's
// own connection, clients (submit work, read their own results) and
// engines (take work, answer, never submit).

package hub

import (
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// Role users. A named engine credential's user is UserEngine + "." +
// its name (see AddEngine).
const (
	UserHub    = "pirun-hub"
	UserClient = "pirun-client"
	UserEngine = "pirun-engine"
)

// Auth holds the password of each role. A nil *Auth means no
// authentication, which the hub allows only without a listener.
type Auth struct {
	Hub, Client, Engine string
	// EnginesDir holds the named engine credentials (security/engines/,
	// one connection file per engine machine); "" = none.
	EnginesDir string
}

// NewAuth returns fresh random credentials for every role.
func NewAuth() (*Auth, error) {
	a := &Auth{}
	for _, p := range []*string{&a.Hub, &a.Client, &a.Engine} {
		s, err := newSecret()
		if err != nil {
			return nil, err
		}
		*p = s
	}
	return a, nil
}

// newSecret returns 192 random bits, URL-safe.
func newSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make credentials: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (a *Auth) hubOption() nats.Option {
	if a == nil {
		return func(*nats.Options) error { return nil }
	}
	return nats.UserInfo(UserHub, a.Hub)
}

// apply makes the server authenticate every connection with auth.
func (a *Auth) apply(opts *server.Options, auth *authenticator) {
	if a == nil {
		return
	}
	opts.CustomClientAuthentication = auth
	opts.AlwaysEnableNonce = true // clients and daemons sign it with their identity key
}

// authenticator binds each connection to a role and, for clients and
// daemons, to the identity whose key signed the connection's nonce
// (transport.Identity): that public key is the id in their subjects, and
// their permissions are pinned to it. So a daemon can read only its own
// tasks and send results only under its own id, and a client can read
// only its own results and replies, whatever credential file they share.
type authenticator struct {
	auth *Auth
	log  *slog.Logger

	mu      sync.Mutex
	named   map[uint64]namedConn // connections of named engine credentials
	clients map[uint64]string    // client connections: their identity (clients.go)
}

// namedConn is a connection made with a named engine credential.
type namedConn struct {
	name, password string
}

// Check implements server.Authentication.
func (a *authenticator) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	user, pass := o.Username, o.Password
	switch {
	case user == UserHub && same(pass, a.auth.Hub):
		c.RegisterUser(&server.User{Username: UserHub})
		return true
	case user == UserClient && same(pass, a.auth.Client):
		id, ok := a.identity(c, user)
		if ok {
			c.RegisterUser(&server.User{Username: UserClient, Permissions: clientPermissions(id)})
			a.mu.Lock()
			a.clients[c.GetID()] = id
			a.mu.Unlock()
		}
		return ok
	case user == UserEngine && same(pass, a.auth.Engine):
		id, ok := a.identity(c, user)
		if ok {
			c.RegisterUser(&server.User{Username: UserEngine, Permissions: enginePermissions(id)})
		}
		return ok
	case strings.HasPrefix(user, UserEngine+"."):
		name := strings.TrimPrefix(user, UserEngine+".")
		want, err := a.enginePassword(name)
		if err != nil || !same(pass, want) {
			a.log.Warn("refuse an engine credential", "name", name, "remote", addr(c), "reason", cmp.Or(err, errors.New("wrong password")))
			return false
		}
		id, ok := a.identity(c, user)
		if !ok {
			return false
		}
		c.RegisterUser(&server.User{Username: user, Permissions: enginePermissions(id)})
		a.mu.Lock()
		a.named[c.GetID()] = namedConn{name: name, password: pass}
		a.mu.Unlock()
		return true
	}
	a.log.Warn("refuse a connection: unknown user or wrong password", "user", user, "remote", addr(c))
	return false
}

// identity returns the public key that signed c's nonce.
func (a *authenticator) identity(c server.ClientAuthentication, user string) (string, bool) {
	o := c.GetOpts()
	kp, err := nkeys.FromPublicKey(o.Nkey)
	if err == nil {
		var sig []byte
		if sig, err = base64.RawURLEncoding.DecodeString(o.Sig); err != nil {
			sig, err = base64.StdEncoding.DecodeString(o.Sig)
		}
		if err == nil {
			err = kp.Verify(c.GetNonce(), sig)
		}
	}
	if err != nil || len(c.GetNonce()) == 0 {
		a.log.Warn("refuse a connection without a valid identity key (pirun clients and engines sign the nonce with one)",
			"user", user, "remote", addr(c), "err", err)
		return "", false
	}
	return o.Nkey, true
}

// enginePassword reads the password of the named engine credential from
// its connection file: the file is the credential, deleting it revokes it.
func (a *authenticator) enginePassword(name string) (string, error) {
	if a.auth.EnginesDir == "" {
		return "", errors.New("this hub has no named engine credentials")
	}
	if err := conf.CheckEngineName(name); err != nil {
		return "", err
	}
	cf, _, err := conf.LoadConnFile(filepath.Join(a.auth.EnginesDir, name+".toml"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("engine %q is not (or no longer) added", name)
	}
	if err != nil {
		return "", err
	}
	return cf.Password, nil
}

// revoked returns the connections whose named engine credential was
// revoked (its file deleted or its password changed) and forgets them and
// the ones that closed.
func (a *authenticator) revoked(open func(cid uint64) bool) map[uint64]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[uint64]string)
	for cid, nc := range a.named {
		if !open(cid) {
			delete(a.named, cid)
			continue
		}
		if want, err := a.enginePassword(nc.name); err != nil || !same(nc.password, want) {
			out[cid] = nc.name
			delete(a.named, cid)
		}
	}
	return out
}

// same compares secrets in constant time.
func same(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func addr(c server.ClientAuthentication) string {
	if a := c.RemoteAddress(); a != nil {
		return a.String()
	}
	return "in-process"
}

// clientPermissions confine client id to its own subjects: it submits
// work and controls daemons, and reads only its own results, output,
// acknowledgements and replies, and the hub's events.
func clientPermissions(id string) *server.Permissions {
	return &server.Permissions{
		Publish: allow(wire.SubjectQuery, wire.SubmitFrom(id), wire.SchedControlFrom(id), wire.SubjectJobs, wire.RecordsFrom(id),
			wire.DaemonTasksFrom("*", id), wire.DaemonControlFrom("*", id), wire.DaemonAcks("*"), wire.ClientFence(id),
			// Acknowledgements of the parts of large detached results the
			// hub sends (safe: the hub heeds only acks of its own random
			// stream ids).
			wire.SubjectHubAcks),
		Subscribe: allow(wire.ClientAll(id), wire.SubjectEvents, wire.ClientInbox(id)+".>"),
	}
}

// enginePermissions confine daemon id: it speaks to the hub only as
// itself (register, heartbeats, done), reads only its own tasks,
// controls, acknowledgements, replies and communicator messages, sends
// communicator messages only under its own id, sends results and output to
// clients only under its own id, acknowledges the parts of large
// messages, and answers the requests it receives through response
// permissions.
func enginePermissions(id string) *server.Permissions {
	return &server.Permissions{
		Publish: allow(wire.RegisterFrom(id), wire.HeartbeatFrom(id), wire.DoneFrom(id),
			wire.ClientResultsFrom("*", id), wire.ClientOutputFrom("*", id),
			// Acknowledgements of the parts of large tasks, on the
			// sender's subject (response permissions do not cover them:
			// one reply subject for every part). A sender heeds only
			// acknowledgements of its own random stream ids, which only
			// the receiver reads (transport.Sender).
			wire.ClientAcks("*"), wire.SubjectHubAcks,
			// Messages of SPMD jobs, with its id last (their receivers
			// accept them only from the daemon of the sending rank).
			wire.CommFrom(id)[0], wire.CommFrom(id)[1]),
		Subscribe: allow(wire.DaemonTasksFrom(id, "*"), wire.DaemonControlFrom(id, "*"), wire.DaemonAdmin(id), wire.DaemonAcks(id),
			wire.CommOf(id), wire.EngineInbox(id)+".>"),
		Response: &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}
}

func allow(subjects ...string) *server.SubjectPermission {
	return &server.SubjectPermission{Allow: subjects}
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
