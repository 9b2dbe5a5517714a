package conf

import (
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// testPEM returns a PEM block of the given type.
func testPEM(typ string) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: []byte("not really DER " + typ)}))
}

// validConn returns a valid engine connection file.
func validConn() ConnFile {
	return ConnFile{
		Role:     RoleEngine,
		Protocol: 1,
		HubID:    "hub-7f3a",
		URLs:     []string{"nats://192.168.1.10:4222", "tls://hub.lan:4222"},
		User:     "engine",
		Password: `p"a\ss word`,
		Created:  time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
	}
}

func TestConnFileRoundTrip(t *testing.T) {
	withTLS := validConn()
	withTLS.Role, withTLS.InboxPrefix = RoleClient, "_INBOX.client1"
	withTLS.TLS = ConnTLS{CA: testPEM("CERTIFICATE") + testPEM("CERTIFICATE"), Cert: testPEM("CERTIFICATE"),
		Key: testPEM("EC PRIVATE KEY"), ServerName: "hub.lan"}
	nkey := validConn()
	nkey.User, nkey.Password, nkey.NkeySeed = "", "", "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4"
	nkey.Created = time.Time{}
	for _, c := range []ConnFile{validConn(), withTLS, nkey} {
		path := filepath.Join(t.TempDir(), "conn.toml")
		if err := WriteConnFile(path, c); err != nil {
			t.Fatalf("WriteConnFile(%+v) = %v", c, err)
		}
		got, warnings, err := LoadConnFile(path)
		if err != nil || len(warnings) != 0 || !reflect.DeepEqual(got, c) {
			t.Errorf("LoadConnFile(WriteConnFile(%+v)) =\n%+v, %v, %v", c, got, warnings, err)
		}
		fi, err := os.Stat(path)
		if err == nil && fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
			t.Errorf("WriteConnFile mode = %04o, want 0600", fi.Mode().Perm())
		}
	}
}

func TestConnFileText(t *testing.T) {
	c := validConn()
	c.TLS.CA = testPEM("CERTIFICATE")
	text := string(encodeConnFile(c))
	for _, want := range []string{
		"# pirun engine connection file for hub hub-7f3a.\n",
		"SECRET",
		"pirun engine --connect FILE",
		"ca = '''\n-----BEGIN CERTIFICATE-----\n", // PEM stays readable
		"created = 2026-01-02T03:04:05.000000006Z\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("encodeConnFile text lacks %q:\n%s", want, text)
		}
	}
}

func TestWriteConnFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "engine-connection.toml")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteConnFile(path, validConn()); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder after WriteConnFile holds %d entries, want 1 (no temporary file left)", len(entries))
	}
	if fi, err := os.Stat(path); err != nil || (fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows") {
		t.Errorf("replaced file: %v, %v, want mode 0600", fi.Mode(), err)
	}

	// An invalid file is refused and the old one stays.
	bad := validConn()
	bad.URLs = nil
	before, _ := os.ReadFile(path)
	if err := WriteConnFile(path, bad); err == nil || !strings.Contains(err.Error(), "urls: expected at least one") {
		t.Errorf("WriteConnFile(no urls) = %v, want an error about urls", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("WriteConnFile(invalid) changed the file")
	}

	// A missing folder fails without leaving anything.
	missing := filepath.Join(dir, "nope", "c.toml")
	if err := WriteConnFile(missing, validConn()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteConnFile(in missing folder) = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadConnFileWarnings(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := WriteConnFile(path, validConn()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, warnings, err := LoadConnFile(path)
	want := path + ": mode 0644 lets other users read its credentials; run: chmod 600 " + path
	if err != nil || len(warnings) != 1 || warnings[0] != want {
		t.Errorf("LoadConnFile(0644) = %q, %v, want [%q], nil", warnings, err, want)
	}
}

func TestLoadConnFileErrors(t *testing.T) {
	_, _, err := LoadConnFile(filepath.Join(t.TempDir(), "missing.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadConnFile(missing) = %v, want fs.ErrNotExist", err)
	}
	_, _, err = LoadConnFile(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("LoadConnFile(folder) = %v, want an error saying it is a folder", err)
	}
	c, err := parseConnFile("/sec/c.toml", []byte("role = \"engine\"\nprotocol = 1\nhub_id = \"h\"\nurls = [\"nats://h:1\"]\nnkey_seed = \"SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4\"\n[tls]\nca_file = \"ca.pem\"\n"))
	if err != nil || c.TLS.CAFile != "/sec/ca.pem" {
		t.Errorf("parseConnFile(ca_file) = %q, %v, want /sec/ca.pem", c.TLS.CAFile, err)
	}
	_, err = parseConnFile("F", []byte("role = \"engine\"\nrole2 = 1\n"))
	want := "F:2: role2: unknown key at the top level (did you mean \"role\"?); known keys: created, hub_id, inbox_prefix, nkey_seed, password, protocol, role, tls, urls, user\n" +
		"F: protocol: expected the protocol version, an integer of 1 or more, got 0\n" +
		"F: hub_id: required: the identity of the hub that wrote this file\n" +
		"F: urls: expected at least one nats:// or tls:// URL of the hub\n" +
		"F: user: credentials required: set user and password, or nkey_seed"
	if got := errString(err); got != want {
		t.Errorf("parseConnFile(bad) =\n%s\nwant\n%s", got, want)
	}
}

func TestConnFileValidate(t *testing.T) {
	for _, test := range []struct {
		edit func(*ConnFile)
		want string
	}{
		{func(c *ConnFile) {}, ""},
		{func(c *ConnFile) { c.Role = "admin" }, `role: expected "client" or "engine", got "admin"`},
		{func(c *ConnFile) { c.Protocol = 0 }, `protocol: expected the protocol version, an integer of 1 or more, got 0`},
		{func(c *ConnFile) { c.HubID = "" }, `hub_id: required: the identity of the hub that wrote this file`},
		{func(c *ConnFile) { c.URLs = nil }, `urls: expected at least one nats:// or tls:// URL of the hub`},
		{func(c *ConnFile) { c.URLs = []string{"nats://a:1", "hub:4222"} }, `urls[1]: expected a nats:// or tls:// URL with a host, got "hub:4222"`},
		{func(c *ConnFile) { c.URLs = []string{"nats://:4222"} }, `urls[0]: expected a nats:// or tls:// URL with a host, got "nats://:4222"`},
		{func(c *ConnFile) { c.NkeySeed = "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4" }, `nkey_seed: use either user and password or nkey_seed, not both`},
		{func(c *ConnFile) { c.User, c.Password = "", "" }, `user: credentials required: set user and password, or nkey_seed`},
		{func(c *ConnFile) { c.Password = "" }, `password: required with user`},
		{func(c *ConnFile) { c.User = "" }, `user: required with password`},
		{func(c *ConnFile) { c.User, c.Password, c.NkeySeed = "", "", "not-a-seed" }, `nkey_seed: expected an nkey seed (base32 text starting with S), got something else`},
		{func(c *ConnFile) { c.InboxPrefix = "_INBOX.*" }, `inbox_prefix: expected a subject prefix without spaces, wildcards or a final dot, got "_INBOX.*"`},
		{func(c *ConnFile) { c.InboxPrefix = "_INBOX." }, `inbox_prefix: expected a subject prefix without spaces, wildcards or a final dot, got "_INBOX."`},
		{func(c *ConnFile) { c.TLS.CA, c.TLS.CAFile = testPEM("CERTIFICATE"), "ca.pem" }, `tls.ca_file: use either tls.ca (PEM text) or tls.ca_file, not both`},
		{func(c *ConnFile) { c.TLS.CA = "-----BEGIN CERT" }, `tls.ca: expected PEM text with a CERTIFICATE block`},
		{func(c *ConnFile) { c.TLS.Cert = testPEM("CERTIFICATE") }, `tls.cert: tls.cert and tls.key go together: set both for mutual TLS, or neither`},
		{func(c *ConnFile) { c.TLS.Cert, c.TLS.Key = testPEM("PRIVATE KEY"), testPEM("CERTIFICATE") },
			"tls.cert: expected PEM text with a CERTIFICATE block\ntls.key: expected PEM text with a PRIVATE KEY block"},
	} {
		c := validConn()
		test.edit(&c)
		if got := errString(c.Validate()); got != test.want {
			t.Errorf("Validate(%+v) =\n%s\nwant\n%s", c, got, test.want)
		}
	}
}

// TestTOMLString checks that every string survives tomlString and the
// TOML decoder unchanged.
func TestTOMLString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tand\nnewline", "ctrl \x00\x01\x1f\x7f",
		"unicode é ✓ 🙂", "line1\nline2\n", "'''\nquotes\n'''", "trailing'\n", "a\r\nb", "\n",
		testPEM("CERTIFICATE"),
	} {
		var got struct{ X string }
		if _, err := toml.Decode("X = "+tomlString(s), &got); err != nil || got.X != s {
			t.Errorf("decode(tomlString(%q) = %s) = %q, %v", s, tomlString(s), got.X, err)
		}
	}
}
