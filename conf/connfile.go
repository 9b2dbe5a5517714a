// This file defines ConnFile, the schema of security/client-connection.toml
// and security/engine-connection.toml, and writes and loads such files.

package conf

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// The values of [ConnFile.Role].
const (
	RoleClient = "client"
	RoleEngine = "engine"
)

// ConnFile is a connection file: everything one role needs to reach a hub.
// The hub writes one per role with [WriteConnFile]; copying the engine's to
// a machine is that machine's whole set-up. It holds a secret. It is plain
// data, safe to copy.
type ConnFile struct {
	// Role is RoleClient or RoleEngine.
	Role string `toml:"role"`
	// Protocol is the wire protocol version of the hub that wrote the file.
	Protocol int `toml:"protocol"`
	// HubID identifies the hub (and its credentials).
	HubID string `toml:"hub_id"`
	// URLs are the hub's nats:// or tls:// URLs, tried in order; at least one.
	URLs []string `toml:"urls"`
	// User and Password are one kind of credential; NkeySeed the other.
	// Exactly one kind is set.
	User     string `toml:"user"`
	Password string `toml:"password"`
	NkeySeed string `toml:"nkey_seed"`
	// InboxPrefix is the subject prefix of a client's reply inbox.
	InboxPrefix string `toml:"inbox_prefix"`
	// TLS is the [tls] table; its zero value means plain TCP.
	TLS ConnTLS `toml:"tls"`
	// Created is when the hub wrote the file; zero when unknown.
	Created time.Time `toml:"created"`
}

// ConnTLS is the [tls] table of a connection file.
type ConnTLS struct {
	// CA is the PEM text of the CA certificate(s) that signed the hub's
	// certificate; CAFile names a PEM file instead. At most one is set.
	CA     string `toml:"ca"`
	CAFile string `toml:"ca_file"`
	// Cert and Key are PEM text of a client certificate and its key for
	// mutual TLS; both or neither.
	Cert string `toml:"cert"`
	Key  string `toml:"key"`
	// ServerName overrides the name checked in the hub's certificate.
	ServerName string `toml:"server_name"`
}

// Enabled reports whether the [tls] table says anything.
func (t ConnTLS) Enabled() bool { return t != ConnTLS{} }

// Validate reports every invalid value of c in one [*Error] (with an empty
// File), or returns nil.
func (c ConnFile) Validate() error { return errorOf("", c.problems()) }

// WriteConnFile writes c to path atomically (a temporary file in the same
// folder, then a rename) with mode 0600, under a comment header saying what
// the file is and that it is secret. It refuses an invalid c. It is safe
// for concurrent use; concurrent writers of one path leave one whole file.
func WriteConnFile(path string, c ConnFile) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("write connection file %s: invalid: %w", path, err)
	}
	if err := WriteFileAtomic(path, encodeConnFile(c)); err != nil {
		return fmt.Errorf("write connection file: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file of mode
// 0600 in the same folder, synced before it is renamed over path, so that
// readers see the old file or the whole new one. It is safe for
// concurrent use; concurrent writers of one path leave one whole file.
func WriteFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// encodeConnFile renders c as commented TOML. PEM text is written as
// literal multi-line strings so the file stays readable.
func encodeConnFile(c ConnFile) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# pirun %s connection file for hub %s.\n", c.Role, c.HubID)
	fmt.Fprintf(&b, "# It lets %s reach the hub: `%s`.\n", connUse(c.Role), connCommand(c.Role))
	b.WriteString("# SECRET: it holds credentials. Keep it mode 0600 and copy it only to\n")
	b.WriteString("# machines you trust, over a secure channel (scp). Written by `pirun hub`.\n\n")
	kv(&b, "role", tomlString(c.Role))
	kv(&b, "protocol", strconv.Itoa(c.Protocol))
	kv(&b, "hub_id", tomlString(c.HubID))
	kv(&b, "urls", tomlStrings(c.URLs))
	for _, f := range [][2]string{{"user", c.User}, {"password", c.Password},
		{"nkey_seed", c.NkeySeed}, {"inbox_prefix", c.InboxPrefix}} {
		if f[1] != "" {
			kv(&b, f[0], tomlString(f[1]))
		}
	}
	if !c.Created.IsZero() {
		kv(&b, "created", c.Created.Format(time.RFC3339Nano))
	}
	if c.TLS.Enabled() {
		b.WriteString("\n[tls]\n")
		for _, f := range [][2]string{{"ca", c.TLS.CA}, {"ca_file", c.TLS.CAFile},
			{"cert", c.TLS.Cert}, {"key", c.TLS.Key}, {"server_name", c.TLS.ServerName}} {
			if f[1] != "" {
				kv(&b, f[0], tomlString(f[1]))
			}
		}
	}
	return []byte(b.String())
}

// connUse says who uses a connection file of role.
func connUse(role string) string {
	if role == RoleEngine {
		return "engines"
	}
	return "clients"
}

// connCommand is the command that uses a connection file of role.
func connCommand(role string) string {
	if role == RoleEngine {
		return "pirun engine --connect FILE"
	}
	return "pirun --connect FILE SCRIPT.star"
}

// kv writes one "key = value" line.
func kv(b *strings.Builder, key, value string) {
	b.WriteString(key + " = " + value + "\n")
}

// tomlStrings renders a TOML array of strings.
func tomlStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = tomlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// tomlString renders s as a TOML string: a literal multi-line string for
// text such as PEM (lines, no quotes, no other control characters), else a
// basic string with TOML's escapes.
func tomlString(s string) string {
	if strings.Contains(s, "\n") && !strings.ContainsAny(s, "'\r") && !hasControl(s, "\n") {
		return "'''\n" + s + "'''"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hasControl reports whether s has a control character outside allowed.
func hasControl(s, allowed string) bool {
	for _, r := range s {
		if (r < 0x20 || r == 0x7f) && !strings.ContainsRune(allowed, r) {
			return true
		}
	}
	return false
}

// LoadConnFile reads and validates a connection file. A relative
// tls.ca_file is resolved against the file's folder. Warnings (such as a
// mode that lets other users read the file) are returned apart from the
// error, for the caller to print. A missing file gives an error for which
// errors.Is(err, fs.ErrNotExist) holds. It is safe for concurrent use.
func LoadConnFile(path string) (ConnFile, []string, error) {
	data, warnings, err := readConnFile(path)
	if err != nil {
		return ConnFile{}, nil, fmt.Errorf("load connection file: %w", err)
	}
	c, err := parseConnFile(path, data)
	return c, warnings, err
}

// readConnFile reads a connection file and warns when its mode lets group
// or other users read it.
func readConnFile(path string) ([]byte, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if fi.IsDir() {
		return nil, nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("is a folder, not a connection file")}
	}
	var warnings []string
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		warnings = append(warnings, fmt.Sprintf(
			"%s: mode %04o lets other users read its credentials; run: chmod 600 %s", path, perm, path))
	}
	data, err := io.ReadAll(f)
	return data, warnings, err
}

// ParseConnFile decodes and validates the text of a connection file, as
// [LoadConnFile] does; name is what errors call it (a path, or
// "<stdin>"). It is safe for concurrent use.
func ParseConnFile(name string, data []byte) (ConnFile, error) { return parseConnFile(name, data) }

// parseConnFile decodes and validates a connection file's text.
func parseConnFile(path string, data []byte) (ConnFile, error) {
	var c ConnFile
	lines, probs := decodeStrict(data, &c)
	if lines != nil { // no syntax error
		probs = merge(probs, c.problems(), lines)
		c.TLS.CAFile = resolvePath(baseDir(path), c.TLS.CAFile)
	}
	return c, errorOf(path, probs)
}
