package conf

import (
	"testing"
	"time"
)

// TestValidValues checks values that validation must accept.
func TestValidValues(t *testing.T) {
	for _, test := range []struct {
		name string
		edit func(*Profile)
	}{
		{"ip *", func(p *Profile) { p.Hub.IP = "*" }},
		{"ip IPv6", func(p *Profile) { p.Hub.IP = "::1" }},
		{"ip 0.0.0.0", func(p *Profile) { p.Hub.IP = "0.0.0.0" }},
		{"ip host name", func(p *Profile) { p.Hub.IP = "pi-hub.local" }},
		{"port 0", func(p *Profile) { p.Hub.Port = 0 }},
		{"port -1", func(p *Profile) { p.Hub.Port = -1 }},
		{"port 65535", func(p *Profile) { p.Hub.Port = 65535 }},
		{"advertise host", func(p *Profile) { p.Hub.Advertise = "hub.lan" }},
		{"advertise host:port", func(p *Profile) { p.Hub.Advertise = "192.168.1.10:4222" }},
		{"advertise [v6]:port", func(p *Profile) { p.Hub.Advertise = "[fe80::1]:4222" }},
		{"payload bounds", func(p *Profile) { p.Hub.MaxPayload = KiB }},
		{"payload max", func(p *Profile) { p.Hub.MaxPayload = 64 * MiB }},
		{"tls auto", func(p *Profile) { p.Hub.TLS = TLSAuto }},
		{"tls files, public CA", func(p *Profile) { p.Hub.TLS, p.Hub.TLSCert, p.Hub.TLSKey = TLSFiles, "c.pem", "k.pem" }},
		{"task records 0", func(p *Profile) { p.Hub.TaskRecords = 0 }},
		{"http loopback", func(p *Profile) { p.Hub.HTTP = "127.0.0.1:8080" }},
		{"http every interface", func(p *Profile) { p.Hub.HTTP = ":8080" }},
		{"http host name, free port", func(p *Profile) { p.Hub.HTTP = "pi-hub.local:0" }},
		{"connect URL", func(p *Profile) { p.Engine.Connect = "tls://hub.lan:4222" }},
		{"connect file", func(p *Profile) { p.Engine.Connect = "engine-connection.toml" }},
		{"engines max", func(p *Profile) { p.Engine.Engines = maxEngines }},
		{"ssh gateway", func(p *Profile) { p.Engine.SSH = "pi@gw.example.org:2222" }},
		{"ssh host only", func(p *Profile) { p.Engine.SSH = "gw" }},
		{"task timeout", func(p *Profile) { p.Engine.TaskTimeout = Duration(time.Hour) }},
		{"host", func(p *Profile) { p.Hosts = []Host{{Host: "10.0.0.2", User: "pi", Pirun: "~/pirun"}} }},
		{"log level", func(p *Profile) { p.Log.Level = "error" }},
	} {
		p := DefaultProfile()
		test.edit(&p)
		if err := p.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v, want nil", test.name, err)
		}
	}
}

func TestEngineValidate(t *testing.T) {
	e := DefaultEngine()
	if err := e.Validate(); err != nil {
		t.Errorf("DefaultEngine().Validate() = %v", err)
	}
	e.Engines, e.Heartbeat = -1, 0
	want := "engine.engines: expected an integer 0..1024 (0 = one per CPU), got -1\n" +
		"engine.heartbeat: expected a duration above 0 such as \"1s\", got 0s"
	if got := errString(e.Validate()); got != want {
		t.Errorf("Validate() =\n%s\nwant\n%s", got, want)
	}
}

func TestSlogLevel(t *testing.T) {
	for _, level := range []string{"debug", "info", "warn", "error"} {
		if got := (Log{Level: level}).SlogLevel().String(); got != map[string]string{
			"debug": "DEBUG", "info": "INFO", "warn": "WARN", "error": "ERROR"}[level] {
			t.Errorf("Log{Level: %q}.SlogLevel() = %s", level, got)
		}
	}
}

func TestHTTPAddr(t *testing.T) {
	for _, test := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true}, {":8080", true}, {"[::1]:0", true}, {"hub.lan:80", true},
		{"8080", false}, {"*:8080", false}, {"127.0.0.1:http", false}, {"127.0.0.1:70000", false}, {"a b:1", false},
	} {
		if got := ValidHTTPAddr(test.addr); got != test.want {
			t.Errorf("ValidHTTPAddr(%q) = %v, want %v", test.addr, got, test.want)
		}
	}
	p := DefaultProfile()
	p.Hub.HTTP = "8080"
	want := `hub.http: expected the dashboard's host:port, e.g. "127.0.0.1:8080" or ":8080" for every interface, got "8080"`
	if got := errString(p.Validate()); got != want {
		t.Errorf("Validate() = %s, want %s", got, want)
	}
}
