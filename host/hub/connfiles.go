// This file defines what the hub issues in its profile: its credentials,
// the URL it advertises and the connection files of clients and engines.

package hub

import (
	"errors"
	"io/fs"
	"net"
	"strconv"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// WriteConnFiles writes the client and engine connection files of the
// profile at paths, for a hub of secrets s that listens at url. They are
// the hub's readiness and address artifact.
func WriteConnFiles(paths conf.ProfilePaths, url string, s conf.HubSecrets, ctls conf.ConnTLS) error {
	for _, f := range []struct {
		path, role, user, pass string
	}{
		{paths.ClientConn, conf.RoleClient, UserClient, s.Client},
		{paths.EngineConn, conf.RoleEngine, UserEngine, s.Engine},
	} {
		cf := conf.ConnFile{Role: f.role, Protocol: wire.ProtocolVersion, HubID: s.HubID, URLs: []string{url},
			User: f.user, Password: f.pass, TLS: ctls, Created: time.Now().UTC().Truncate(time.Second)}
		if err := conf.WriteConnFile(f.path, cf); err != nil {
			return err
		}
	}
	return nil
}

// Secrets loads the profile's hub credentials from path, making them on
// the first start.
func Secrets(path string) (conf.HubSecrets, error) {
	s, err := conf.LoadHubSecrets(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	a, err := NewAuth()
	if err != nil {
		return s, err
	}
	s = conf.HubSecrets{HubID: wire.NewID(), Hub: a.Hub, Client: a.Client, Engine: a.Engine}
	return s, conf.WriteHubSecrets(path, s)
}

// Advertise returns the URL engines should dial to reach the started hub
// h, configured by the profile's [hub] table cfg.
func (h *Hub) Advertise(cfg conf.Hub, tls bool) string {
	port := h.Addr().(*net.TCPAddr).Port
	addr := cfg.Advertise
	if addr == "" {
		addr = cfg.IP
		if cfg.AllInterfaces() || addr == "" {
			addr = outboundIP()
		}
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, strconv.Itoa(port))
	}
	if tls {
		return "tls://" + addr
	}
	return "nats://" + addr
}

// outboundIP guesses this machine's address on its LAN (no packet is sent).
func outboundIP() string {
	ifaces, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range ifaces {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
