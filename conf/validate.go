// This file defines the validation rules of every schema: each invalid value
// becomes a Problem naming its key and what was expected.

package conf

import (
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxEngines bounds the engines of one process or host, to catch typos.
const maxEngines = 1024

// problems lists every invalid value of a Profile.
func (p Profile) problems() []Problem {
	var ps problems
	p.Hub.check(&ps)
	ps = append(ps, p.Engine.problems("engine")...)
	p.Cluster.check(&ps)
	for i, h := range p.Hosts {
		h.check(&ps, fmt.Sprintf("hosts[%d]", i))
	}
	p.Log.check(&ps)
	return ps
}

// check adds the problems of the [hub] table.
func (h Hub) check(ps *problems) {
	if !validListenHost(h.IP) {
		ps.add("hub.ip", "expected an IP address, a host name or \"*\" (all interfaces), got %q", h.IP)
	}
	if h.Port < -1 || h.Port > 65535 {
		ps.add("hub.port", "expected an integer 0..65535 (0 picks a free port), got %d", h.Port)
	}
	if h.Advertise != "" && !validAdvertise(h.Advertise) {
		ps.add("hub.advertise", "expected a host or host:port that engines can dial, got %q", h.Advertise)
	}
	if h.MaxPayload < KiB || h.MaxPayload > 64*MiB {
		ps.add("hub.max_payload", "expected a size 1KiB..64MiB, got %s", h.MaxPayload)
	}
	positive(ps, "hub.heartbeat", h.Heartbeat)
	if h.EngineTimeout <= h.Heartbeat {
		ps.add("hub.engine_timeout", "expected a duration longer than hub.heartbeat (%s), got %s", h.Heartbeat, h.EngineTimeout)
	}
	h.checkTLS(ps)
	if h.ResultsMaxBytes < MiB {
		ps.add("hub.results_max_bytes", "expected a size of 1MiB or more, got %s", h.ResultsMaxBytes)
	}
	if h.DetachedMaxPending < 1 {
		ps.add("hub.detached_max_pending", "expected an integer of 1 or more, got %d", h.DetachedMaxPending)
	}
	if h.DetachedMaxBytes < MiB {
		ps.add("hub.detached_max_bytes", "expected a size of 1MiB or more, got %s", h.DetachedMaxBytes)
	}
	if h.TaskRecords < 0 {
		ps.add("hub.task_records", "expected an integer of 0 or more, got %d", h.TaskRecords)
	}
	if h.HTTP != "" && !ValidHTTPAddr(h.HTTP) {
		ps.add("hub.http", "expected the dashboard's host:port, e.g. \"127.0.0.1:8080\" or \":8080\" for every interface, got %q", h.HTTP)
	}
	checkTransport(ps, "hub", h.PartSize, h.ReassemblyPerSender, h.ReassemblyTotal, h.ReassemblyStall)
	if h.PartSize != 0 && h.PartSize > h.MaxPayload-4*KiB {
		ps.add("hub.part_size", "expected 0 or a size up to hub.max_payload less 4KiB of headers (%s), got %s", h.MaxPayload-4*KiB, h.PartSize)
	}
}

// checkTransport adds the problems of the large-message settings of the
// [hub] or [engine] table (keys under prefix).
func checkTransport(ps *problems, prefix string, part, perSender, total Size, stall Duration) {
	if part != 0 && (part < 64*KiB || part > 64*MiB) {
		ps.add(prefix+".part_size", "expected 0 (the largest the hub's max_payload allows) or a size 64KiB..64MiB, got %s", part)
	}
	limit := Size(1 << 40)
	if total < MiB || total > limit {
		ps.add(prefix+".reassembly_total", "expected a size 1MiB..1TiB, got %s", total)
	} else {
		limit = total
	}
	if perSender < MiB || perSender > limit {
		ps.add(prefix+".reassembly_per_sender", "expected a size 1MiB..%s (at most %s.reassembly_total), got %s", limit, prefix, perSender)
	}
	if stall < Duration(time.Second) || stall > Duration(time.Hour) {
		ps.add(prefix+".reassembly_stall", "expected a duration 1s..1h, got %s", stall)
	}
}

// ValidHTTPAddr reports whether addr is a dashboard address: host:port,
// the host empty (every interface), a name or an IP, the port 0..65535.
func ValidHTTPAddr(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535 && (host == "" || net.ParseIP(host) != nil || validHostname(host))
}

// checkTLS adds the problems of the hub's TLS keys.
func (h Hub) checkTLS(ps *problems) {
	switch h.TLS {
	case TLSOff, TLSAuto:
		for _, f := range [][2]string{{"tls_cert", h.TLSCert}, {"tls_key", h.TLSKey}, {"tls_ca", h.TLSCA}} {
			if f[1] != "" {
				ps.add("hub."+f[0], "only used when hub.tls = %q (hub.tls is %q); remove it or set tls = %q", TLSFiles, h.TLS, TLSFiles)
			}
		}
	case TLSFiles:
		if h.TLSCert == "" {
			ps.add("hub.tls_cert", "required when hub.tls = %q: the hub's PEM certificate file", TLSFiles)
		}
		if h.TLSKey == "" {
			ps.add("hub.tls_key", "required when hub.tls = %q: the PEM file of the certificate's key", TLSFiles)
		}
	default:
		ps.add("hub.tls", "expected %q, %q or %q, got %q", TLSOff, TLSAuto, TLSFiles, h.TLS)
	}
}

// problems lists every invalid value of an [engine] table whose keys
// start with prefix.
func (e Engine) problems(prefix string) []Problem {
	var ps problems
	k := func(name string) string { return prefix + "." + name }
	if msg := checkConnect(e.Connect); msg != "" {
		ps.add(k("connect"), "%s", msg)
	}
	engineCount(&ps, k("engines"), e.Engines, "one per CPU")
	if !validName(e.Name) {
		ps.add(k("name"), "expected at most 64 characters without spaces, got %q", e.Name)
	}
	for i, f := range e.Preload {
		if !strings.HasSuffix(f, ".star") {
			ps.add(fmt.Sprintf("%s[%d]", k("preload"), i), "expected a .star file, got %q", f)
		}
	}
	if e.MaxArrayBytes < 0 || e.MaxArrayBytes > 0 && e.MaxArrayBytes < MiB {
		ps.add(k("max_array_bytes"), "expected a size of 1MiB or more (or 0 for a share of this machine's memory), got %s", e.MaxArrayBytes)
	}
	if e.MaxMemory < 0 || e.MaxMemory > 0 && e.MaxMemory < 16*MiB {
		ps.add(k("max_memory"), "expected a size of 16MiB or more (or 0 for a share of this machine's memory), got %s", e.MaxMemory)
	}
	if e.MaxOutBytes < 0 {
		ps.add(k("max_out_bytes"), "expected a size of 0 or more (0 = the default, 1GiB), got %s", e.MaxOutBytes)
	}
	positive(&ps, k("heartbeat"), e.Heartbeat)
	positive(&ps, k("reconnect_wait"), e.ReconnectWait)
	if e.SSH != "" && !validSSHTarget(e.SSH) {
		ps.add(k("ssh"), "expected [user@]gateway[:port] for ssh, got %q", e.SSH)
	}
	checkTransport(&ps, prefix, e.PartSize, e.ReassemblyPerSender, e.ReassemblyTotal, e.ReassemblyStall)
	return ps
}

// checkConnect returns what is wrong with an engine's connect value, or "".
func checkConnect(s string) string {
	switch {
	case strings.Contains(s, "://") && !validHubURL(s):
		return fmt.Sprintf("expected a connection file or a nats:// or tls:// URL with a host, got %q", s)
	case !strings.Contains(s, "/") && validAdvertise(s) && strings.Contains(s, ":"):
		return fmt.Sprintf("expected a connection file or a URL; for an address write %q", "nats://"+s)
	}
	return ""
}

// check adds the problems of the [cluster] table.
func (c Cluster) check(ps *problems) {
	engineCount(ps, "cluster.engines", c.Engines, "one per CPU")
	if c.SSH == "" || strings.HasPrefix(c.SSH, "-") {
		ps.add("cluster.ssh", "expected the ssh program (a name or a path), got %q", c.SSH)
	}
	positive(ps, "cluster.grace", c.Grace)
}

// check adds the problems of one [[hosts]] table whose key is key.
func (h Host) check(ps *problems, key string) {
	if h.Host == "" {
		ps.add(key+".host", "required: the name or address of the machine, as given to ssh")
	} else if !validSSHWord(h.Host) || strings.Contains(h.Host, "@") {
		ps.add(key+".host", "expected a host name or address (put the login in user), got %q", h.Host)
	}
	engineCount(ps, key+".engines", h.Engines, "one per CPU of the host")
	if h.User != "" && (!validSSHWord(h.User) || strings.ContainsAny(h.User, "@:")) {
		ps.add(key+".user", "expected a login name, got %q", h.User)
	}
	if h.Pirun == "" {
		ps.add(key+".pirun", "expected the path of pirun on the host, got \"\"")
	}
	for i, o := range h.SSHOptions {
		if o == "" {
			ps.add(fmt.Sprintf("%s.ssh_options[%d]", key, i), "expected an ssh argument, got \"\"")
		}
	}
}

// check adds the problems of the [log] table.
func (l Log) check(ps *problems) {
	if !validLogLevel(l.Level) {
		ps.add("log.level", "expected \"debug\", \"info\", \"warn\" or \"error\", got %q", l.Level)
	}
	if l.MaxSize < KiB {
		ps.add("log.max_size", "expected a size of 1KiB or more, got %s", l.MaxSize)
	}
	if l.MaxFiles < 1 || l.MaxFiles > 1000 {
		ps.add("log.max_files", "expected an integer 1..1000, got %d", l.MaxFiles)
	}
}

// problems lists every invalid value of a connection file.
func (c ConnFile) problems() []Problem {
	var ps problems
	if c.Role != RoleClient && c.Role != RoleEngine {
		ps.add("role", "expected %q or %q, got %q", RoleClient, RoleEngine, c.Role)
	}
	if c.Protocol < 1 {
		ps.add("protocol", "expected the protocol version, an integer of 1 or more, got %d", c.Protocol)
	}
	if c.HubID == "" {
		ps.add("hub_id", "required: the identity of the hub that wrote this file")
	}
	if len(c.URLs) == 0 {
		ps.add("urls", "expected at least one nats:// or tls:// URL of the hub")
	}
	for i, u := range c.URLs {
		if !validHubURL(u) {
			ps.add(fmt.Sprintf("urls[%d]", i), "expected a nats:// or tls:// URL with a host, got %q", u)
		}
	}
	c.checkCredentials(&ps)
	if strings.ContainsAny(c.InboxPrefix, "*> \t\r\n") || strings.HasSuffix(c.InboxPrefix, ".") {
		ps.add("inbox_prefix", "expected a subject prefix without spaces, wildcards or a final dot, got %q", c.InboxPrefix)
	}
	c.TLS.check(&ps)
	return ps
}

// checkCredentials requires exactly one kind of credential.
func (c ConnFile) checkCredentials(ps *problems) {
	hasUser := c.User != "" || c.Password != ""
	switch {
	case hasUser && c.NkeySeed != "":
		ps.add("nkey_seed", "use either user and password or nkey_seed, not both")
	case !hasUser && c.NkeySeed == "":
		ps.add("user", "credentials required: set user and password, or nkey_seed")
	case hasUser && c.User == "":
		ps.add("user", "required with password")
	case hasUser && c.Password == "":
		ps.add("password", "required with user")
	case c.NkeySeed != "" && !validSeed(c.NkeySeed):
		ps.add("nkey_seed", "expected an nkey seed (base32 text starting with S), got something else")
	}
}

// check adds the problems of a connection file's [tls] table.
func (t ConnTLS) check(ps *problems) {
	if t.CA != "" && t.CAFile != "" {
		ps.add("tls.ca_file", "use either tls.ca (PEM text) or tls.ca_file, not both")
	}
	if t.CA != "" && !hasPEM(t.CA, "CERTIFICATE") {
		ps.add("tls.ca", "expected PEM text with a CERTIFICATE block")
	}
	if (t.Cert == "") != (t.Key == "") {
		ps.add("tls.cert", "tls.cert and tls.key go together: set both for mutual TLS, or neither")
	}
	if t.Cert != "" && !hasPEM(t.Cert, "CERTIFICATE") {
		ps.add("tls.cert", "expected PEM text with a CERTIFICATE block")
	}
	if t.Key != "" && !hasPEM(t.Key, "PRIVATE KEY") {
		ps.add("tls.key", "expected PEM text with a PRIVATE KEY block")
	}
}

// validLogLevel accepts the four levels of [Log.Level].
func validLogLevel(s string) bool {
	return s == "debug" || s == "info" || s == "warn" || s == "error"
}

// validName accepts an engine name: at most 64 characters, no spaces or
// control characters.
func validName(s string) bool {
	return len(s) <= 64 && strings.IndexFunc(s, unicode.IsSpace) < 0 && !hasControl(s, "")
}

// positive requires a duration above zero.
func positive(ps *problems, key string, d Duration) {
	if d <= 0 {
		ps.add(key, "expected a duration above 0 such as \"1s\", got %s", d)
	}
}

// engineCount requires 0..maxEngines engines; zero means what zero says.
func engineCount(ps *problems, key string, n int, zero string) {
	if n < 0 || n > maxEngines {
		ps.add(key, "expected an integer 0..%d (0 = %s), got %d", maxEngines, zero, n)
	}
}

// validListenHost accepts "*", an IP address or a host name.
func validListenHost(s string) bool {
	return s == "*" || net.ParseIP(s) != nil || validHostname(s)
}

// validAdvertise accepts a host, or host:port with a port 1..65535.
func validAdvertise(s string) bool {
	if host, port, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(port)
		return err == nil && n > 0 && n <= 65535 && (net.ParseIP(host) != nil || validHostname(host))
	}
	return net.ParseIP(s) != nil || validHostname(s)
}

// validHostname accepts DNS-style names: letters, digits, '-' and '.',
// labels not starting or ending with '-'.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
				return false
			}
		}
	}
	return true
}

// validHubURL accepts nats:// and tls:// URLs that name a host.
func validHubURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "nats" || u.Scheme == "tls") && u.Hostname() != ""
}

// validSSHWord rejects what ssh could take for an option or split apart.
func validSSHWord(s string) bool {
	return s != "" && !strings.HasPrefix(s, "-") &&
		strings.IndexFunc(s, unicode.IsSpace) < 0 && !hasControl(s, "")
}

// validSSHTarget accepts [user@]host[:port].
func validSSHTarget(s string) bool {
	if !validSSHWord(s) {
		return false
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	return validAdvertise(s)
}

// validSeed accepts the shape of an nkey seed.
func validSeed(s string) bool {
	if len(s) < 32 || s[0] != 'S' {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

// hasPEM reports whether text holds a PEM block whose type ends with kind.
func hasPEM(text, kind string) bool {
	rest := []byte(text)
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			return false
		}
		if strings.HasSuffix(block.Type, kind) {
			return true
		}
		rest = r
	}
}
