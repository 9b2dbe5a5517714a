package conf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestProfileProblems checks the message of every decoding and validation
// rule of pirun.toml: file, line, dotted key and expectation.
func TestProfileProblems(t *testing.T) {
	for _, test := range []struct {
		src  string
		want string // the whole error, one line per problem
	}{
		// Decoding: wrong types, unknown keys.
		{"[hub]\nport = \"4222\"", `F:2: hub.port: expected an integer, got the string "4222"`},
		{"[hub]\nip = 5", `F:2: hub.ip: expected a string, got the integer 5`},
		{"[hub]\nheartbeat = 1.5", `F:2: hub.heartbeat: expected a duration such as "30s", got the float 1.5`},
		{"[hub]\nheartbeat = 30", `F:2: hub.heartbeat: expected a duration with a unit such as "30s", got 30`},
		{"[hub]\nmax_payload = true", `F:2: hub.max_payload: expected a size such as "8MiB" or a number of bytes, got true`},
		{"[hub]\nmax_payload = \"big\"", `F:2: hub.max_payload: expected a size such as "8MiB", "512KiB" or a number of bytes, got "big"`},
		{"[engine]\nmax_steps = -1", `F:2: engine.max_steps: expected an integer of 0 or more, got the integer -1`},
		{"[engine]\nmax_array_bytes = \"lots\"", `F:2: engine.max_array_bytes: expected a size such as "8MiB", "512KiB" or a number of bytes, got "lots"`},
		{"[engine]\nmax_array_bytes = \"512KiB\"", `F:2: engine.max_array_bytes: expected a size of 1MiB or more (or 0 for a share of this machine's memory), got 512KiB`},
		{"[engine]\npreload = \"a.star\"", `F:2: engine.preload: expected an array of strings, got the string "a.star"`},
		{"[engine]\npreload = [\"a.star\", 3]", `F:2: engine.preload[1]: expected a string, got the integer 3`},
		{"[[hosts]]\nhost = \"a\"\npush_binary = \"yes\"", `F:1: hosts[0].push_binary: expected true or false, got the string "yes"`},
		{"[hub]\nport = 2026-01-02T03:04:05Z", `F:2: hub.port: expected an integer, got a date-time`},
		{"hub = 3", `F:1: hub: expected a table ([hub]), got the integer 3`},
		{"hub = [1]", `F:1: hub: expected a table ([hub]), got an array`},
		{"hosts = 3", `F:1: hosts: expected an array of tables ([[hosts]]), got the integer 3`},
		{"hosts = [1]", `F:1: hosts: expected an array of tables ([[hosts]]), got an array`},
		{"[engine]\nenigne = 3", `F:2: engine.enigne: unknown key in [engine] (did you mean "engines"?); known keys: connect, data_dir, engines, grace, heartbeat, max_array_bytes, max_memory, max_out_bytes, max_steps, name, out_dir, part_size, preload, reassembly_per_sender, reassembly_stall, reassembly_total, reconnect_wait, ssh, startup, task_timeout`},
		{"[hub]\nPort = 1", `F:2: hub.Port: unknown key in [hub] (did you mean "port"?); known keys: advertise, detached_max_bytes, detached_max_pending, engine_timeout, heartbeat, http, ip, max_payload, part_size, port, reassembly_per_sender, reassembly_stall, reassembly_total, results_max_bytes, task_records, tls, tls_ca, tls_cert, tls_key`},
		{"[hub]\ntask-records = 1", `F:2: hub.task-records: unknown key in [hub] (did you mean "task_records"?); known keys: advertise, detached_max_bytes, detached_max_pending, engine_timeout, heartbeat, http, ip, max_payload, part_size, port, reassembly_per_sender, reassembly_stall, reassembly_total, results_max_bytes, task_records, tls, tls_ca, tls_cert, tls_key`},
		{"[log]\nzzz = 1", `F:2: log.zzz: unknown key in [log]; known keys: level, max_files, max_size`},
		{"[hub.extra]\nx = 1", `F:1: hub.extra: unknown key in [hub]; known keys: advertise, detached_max_bytes, detached_max_pending, engine_timeout, heartbeat, http, ip, max_payload, part_size, port, reassembly_per_sender, reassembly_stall, reassembly_total, results_max_bytes, task_records, tls, tls_ca, tls_cert, tls_key`},
		{"[cluster]\n\"odd key\" = 1", `F:2: cluster."odd key": unknown key in [cluster]; known keys: engines, grace, ssh`},
		{"[hosts]\nhost = \"a\"", `F:1: hosts: expected an array of tables ([[hosts]]), got a table`},
		{"# comment\nhots = 1", `F:2: hots: unknown key at the top level (did you mean "hosts"?); known keys: cluster, engine, hosts, hub, log`},
		{"[[hosts]]\nhost = \"a\"\n[[hosts]]\nhots = \"b\"", "F:3: hosts[1].hots: unknown key in [[hosts]] (did you mean \"host\"?); known keys: data_dir, engines, host, pirun, push_binary, ssh_options, user\n" +
			"F:3: hosts[1].host: required: the name or address of the machine, as given to ssh"},
		{"hosts = [{host = \"a\"}, {host = \"b\", engines = -2}]", `F:1: hosts[1].engines: expected an integer 0..1024 (0 = one per CPU of the host), got -2`},

		// Validation: [hub].
		{"[hub]\nport = 70000", `F:2: hub.port: expected an integer 0..65535 (0 picks a free port), got 70000`},
		{"[hub]\nport = -2", `F:2: hub.port: expected an integer 0..65535 (0 picks a free port), got -2`},
		{"[hub]\nip = \"not an ip\"", `F:2: hub.ip: expected an IP address, a host name or "*" (all interfaces), got "not an ip"`},
		{"[hub]\nadvertise = \"pi:0\"", `F:2: hub.advertise: expected a host or host:port that engines can dial, got "pi:0"`},
		{"[hub]\nmax_payload = \"65MiB\"", `F:2: hub.max_payload: expected a size 1KiB..64MiB, got 65MiB`},
		{"[hub]\nmax_payload = 1000", `F:2: hub.max_payload: expected a size 1KiB..64MiB, got 1000B`},
		{"[hub]\nheartbeat = \"0\"\nengine_timeout = \"1s\"", `F:2: hub.heartbeat: expected a duration above 0 such as "1s", got 0s`},
		{"[hub]\nheartbeat = \"3s\"", `F:1: hub.engine_timeout: expected a duration longer than hub.heartbeat (3s), got 3s`},
		{"[hub]\ntls = \"on\"", `F:2: hub.tls: expected "off", "auto" or "files", got "on"`},
		{"[hub]\ntls = \"files\"", "F:1: hub.tls_cert: required when hub.tls = \"files\": the hub's PEM certificate file\n" +
			"F:1: hub.tls_key: required when hub.tls = \"files\": the PEM file of the certificate's key"},
		{"[hub]\ntls_ca = \"ca.pem\"", `F:2: hub.tls_ca: only used when hub.tls = "files" (hub.tls is "off"); remove it or set tls = "files"`},
		{"[hub]\ntask_records = -1", `F:2: hub.task_records: expected an integer of 0 or more, got -1`},
		{"[hub]\npart_size = \"8MiB\"", `F:2: hub.part_size: expected 0 or a size up to hub.max_payload less 4KiB of headers (8188KiB), got 8MiB`},
		{"[hub]\nmax_payload = \"64MiB\"\npart_size = \"1KiB\"", `F:3: hub.part_size: expected 0 (the largest the hub's max_payload allows) or a size 64KiB..64MiB, got 1KiB`},
		{"[hub]\nreassembly_per_sender = \"2GiB\"", `F:2: hub.reassembly_per_sender: expected a size 1MiB..1GiB (at most hub.reassembly_total), got 2GiB`},
		{"[hub]\nreassembly_total = \"0\"", "F:2: hub.reassembly_total: expected a size 1MiB..1TiB, got 0B"},
		{"[hub]\nreassembly_stall = \"100ms\"", `F:2: hub.reassembly_stall: expected a duration 1s..1h, got 100ms`},

		// Validation: [engine].
		{"[engine]\nconnect = \"nats://\"", `F:2: engine.connect: expected a connection file or a nats:// or tls:// URL with a host, got "nats://"`},
		{"[engine]\nconnect = \"http://hub:4222\"", `F:2: engine.connect: expected a connection file or a nats:// or tls:// URL with a host, got "http://hub:4222"`},
		{"[engine]\nconnect = \"192.168.1.10:4222\"", `F:2: engine.connect: expected a connection file or a URL; for an address write "nats://192.168.1.10:4222"`},
		{"[engine]\nengines = 5000", `F:2: engine.engines: expected an integer 0..1024 (0 = one per CPU), got 5000`},
		{"[engine]\nname = \"two words\"", `F:2: engine.name: expected at most 64 characters without spaces, got "two words"`},
		{"[engine]\npreload = [\"a.star\", \"b.py\"]", `F:2: engine.preload[1]: expected a .star file, got "b.py"`},
		{"[engine]\nheartbeat = \"0s\"", `F:2: engine.heartbeat: expected a duration above 0 such as "1s", got 0s`},
		{"[engine]\nreconnect_wait = \"0s\"", `F:2: engine.reconnect_wait: expected a duration above 0 such as "1s", got 0s`},
		{"[engine]\nssh = \"-oProxyCommand=x\"", `F:2: engine.ssh: expected [user@]gateway[:port] for ssh, got "-oProxyCommand=x"`},
		{"[engine]\npart_size = \"65MiB\"", `F:2: engine.part_size: expected 0 (the largest the hub's max_payload allows) or a size 64KiB..64MiB, got 65MiB`},
		{"[engine]\nreassembly_per_sender = \"512KiB\"", `F:2: engine.reassembly_per_sender: expected a size 1MiB..1GiB (at most engine.reassembly_total), got 512KiB`},
		{"[engine]\nreassembly_total = \"2TiB\"", `F:2: engine.reassembly_total: expected a size 1MiB..1TiB, got 2TiB`},
		{"[engine]\nreassembly_stall = \"2h\"", `F:2: engine.reassembly_stall: expected a duration 1s..1h, got 2h0m0s`},

		// Validation: [cluster], [[hosts]], [log].
		{"[cluster]\nengines = -1", `F:2: cluster.engines: expected an integer 0..1024 (0 = one per CPU), got -1`},
		{"[cluster]\nssh = \"\"", `F:2: cluster.ssh: expected the ssh program (a name or a path), got ""`},
		{"[cluster]\ngrace = \"0s\"", `F:2: cluster.grace: expected a duration above 0 such as "1s", got 0s`},
		{"[[hosts]]\nengines = 2", `F:1: hosts[0].host: required: the name or address of the machine, as given to ssh`},
		{"[[hosts]]\nhost = \"-oProxyCommand=x\"", `F:1: hosts[0].host: expected a host name or address (put the login in user), got "-oProxyCommand=x"`},
		{"[[hosts]]\nhost = \"pi@pi1\"", `F:1: hosts[0].host: expected a host name or address (put the login in user), got "pi@pi1"`},
		{"[[hosts]]\nhost = \"pi1\"\nuser = \"a b\"", `F:1: hosts[0].user: expected a login name, got "a b"`},
		{"[[hosts]]\nhost = \"pi1\"\npirun = \"\"", `F:1: hosts[0].pirun: expected the path of pirun on the host, got ""`},
		{"[[hosts]]\nhost = \"pi1\"\nssh_options = [\"-v\", \"\"]", `F:1: hosts[0].ssh_options[1]: expected an ssh argument, got ""`},
		{"[log]\nlevel = \"trace\"", `F:2: log.level: expected "debug", "info", "warn" or "error", got "trace"`},
		{"[log]\nmax_size = 10", `F:2: log.max_size: expected a size of 1KiB or more, got 10B`},
		{"[log]\nmax_files = 0", `F:2: log.max_files: expected an integer 1..1000, got 0`},
	} {
		_, err := parseProfile("F", []byte(test.src))
		if got := errString(err); got != test.want {
			t.Errorf("parseProfile(%q) =\n%s\nwant\n%s", test.src, got, test.want)
		}
	}
}

// TestProfileAllProblemsAtOnce checks that one error reports every
// problem, in file order, each with its file, line and key.
func TestProfileAllProblemsAtOnce(t *testing.T) {
	_, err := LoadProfile("testdata/problems.toml")
	want, rerr := os.ReadFile("testdata/problems.golden")
	if rerr != nil {
		t.Fatal(rerr)
	}
	if got := errString(err) + "\n"; got != string(want) {
		t.Errorf("LoadProfile(testdata/problems.toml) =\n%s\nwant\n%s", got, want)
	}
	var cerr *Error
	if !errors.As(err, &cerr) || cerr.File != "testdata/problems.toml" || len(cerr.Problems) != strings.Count(string(want), "\n") {
		t.Fatalf("LoadProfile error = %#v, want an *Error for the file with one problem per golden line", err)
	}
}

func TestSyntaxError(t *testing.T) {
	_, err := parseProfile("F", []byte("[hub]\nport = 4222\nip = = \"x\"\n"))
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 1 {
		t.Fatalf("parseProfile(bad syntax) = %v, want one *Error problem", err)
	}
	p := cerr.Problems[0]
	if p.Line != 3 || p.Column != 6 || p.Key != "" || !strings.HasPrefix(p.Msg, "invalid TOML: ") {
		t.Errorf("syntax problem = %+v, want line 3, column 6, no key, an invalid TOML message", p)
	}
	wantText := "F:3:6: invalid TOML: expected value but found '=' instead\n" +
		"      1 | [hub]\n" +
		"      2 | port = 4222\n" +
		"      3 | ip = = \"x\"\n" +
		"               ^"
	if got := err.Error(); got != wantText {
		t.Errorf("syntax error text =\n%s\nwant\n%s", got, wantText)
	}
}

func TestLoadProfileMissing(t *testing.T) {
	p, err := LoadProfile(filepath.Join(t.TempDir(), "pirun.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadProfile(missing) error = %v, want fs.ErrNotExist", err)
	}
	if !reflect.DeepEqual(p, DefaultProfile()) {
		t.Errorf("LoadProfile(missing) = %+v, want DefaultProfile()", p)
	}
}

func TestLoadProfileEmptyIsDefault(t *testing.T) {
	path := writeFile(t, "pirun.toml", "# nothing set\n")
	p, err := LoadProfile(path)
	if err != nil || !reflect.DeepEqual(p, DefaultProfile()) {
		t.Errorf("LoadProfile(empty) = %+v, %v, want DefaultProfile(), nil", p, err)
	}
	if err := DefaultProfile().Validate(); err != nil {
		t.Errorf("DefaultProfile().Validate() = %v", err)
	}
}

func TestLoadProfileValues(t *testing.T) {
	path := writeFile(t, "pirun.toml", `
[hub]
ip = "*"
port = 0
advertise = "hub.lan:4333"
max_payload = 1048576
tls = "files"
tls_cert = "security/hub.pem"
tls_key = "/etc/pirun/hub.key"
[engine]
connect = "nats://hub.lan:4333"
data_dir = "~/data"
preload = ["lib/a.star"]
max_steps = 1000000
task_timeout = "2m"
max_array_bytes = "512MiB"
[[hosts]]
host = "pi1.local"
user = "pi"
ssh_options = ["-p", "2222"]
`)
	t.Setenv("HOME", "/home/test")
	p, err := LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	want := DefaultProfile()
	want.Hub.IP, want.Hub.Port, want.Hub.Advertise, want.Hub.MaxPayload = "*", 0, "hub.lan:4333", MiB
	want.Hub.TLS, want.Hub.TLSCert, want.Hub.TLSKey = TLSFiles, filepath.Join(dir, "security/hub.pem"), "/etc/pirun/hub.key"
	want.Engine.Connect, want.Engine.DataDir = "nats://hub.lan:4333", "/home/test/data"
	want.Engine.Preload = []string{filepath.Join(dir, "lib/a.star")}
	want.Engine.MaxSteps, want.Engine.TaskTimeout, want.Engine.MaxArrayBytes = 1000000, Duration(2*time.Minute), 512*MiB
	want.Hosts = []Host{{Host: "pi1.local", User: "pi", Pirun: "pirun", SSHOptions: []string{"-p", "2222"}}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("LoadProfile =\n%+v\nwant\n%+v", p, want)
	}
	if !p.Hub.AllInterfaces() {
		t.Errorf("Hub{IP: %q}.AllInterfaces() = false, want true", p.Hub.IP)
	}
}

func TestLoadEngine(t *testing.T) {
	for _, test := range []struct {
		src  string
		want string // error; "" for none
	}{
		{"[engine]\nengines = 2", ""},
		{"# no engine table", ""},
		// The other tables of a pirun.toml are ignored, even when invalid.
		{"[hub]\nport = \"x\"\nbogus = 1\n[[hosts]]\nnope = 1\n[log]\n[cluster]\n[engine]\nengines = 2", ""},
		{"[engine]\nengines = -1", `F:2: engine.engines: expected an integer 0..1024 (0 = one per CPU), got -1`},
		{"[bogus]\n[engine]", `F:1: bogus: unknown key at the top level; known keys: cluster, engine, hosts, hub, log`},
		{"engines = 2", `F:1: engines: unknown key at the top level; "engines" is an engine setting: put it under an [engine] table`},
		{"[engine]\nengines = 2\nx = 1", `F:3: engine.x: unknown key in [engine]; known keys: connect, data_dir, engines, grace, heartbeat, max_array_bytes, max_memory, max_out_bytes, max_steps, name, out_dir, part_size, preload, reassembly_per_sender, reassembly_stall, reassembly_total, reconnect_wait, ssh, startup, task_timeout`},
	} {
		_, err := parseEngine("F", []byte(test.src))
		if got := errString(err); got != test.want {
			t.Errorf("parseEngine(%q) =\n%s\nwant\n%s", test.src, got, test.want)
		}
	}
}

func TestLoadEngineFile(t *testing.T) {
	path := writeFile(t, "engine.toml", "[engine]\nconnect = \"../engine-connection.toml\"\ndata_dir = \"data\"\nengines = 3\n")
	e, err := LoadEngine(path)
	dir := filepath.Dir(path)
	want := DefaultEngine()
	want.Connect, want.DataDir, want.Engines = filepath.Join(filepath.Dir(dir), "engine-connection.toml"), filepath.Join(dir, "data"), 3
	if err != nil || !reflect.DeepEqual(e, want) {
		t.Errorf("LoadEngine = %+v, %v, want %+v", e, err, want)
	}
	e, err = LoadEngine(filepath.Join(dir, "missing.toml"))
	if !errors.Is(err, fs.ErrNotExist) || !reflect.DeepEqual(e, DefaultEngine()) {
		t.Errorf("LoadEngine(missing) = %+v, %v, want DefaultEngine(), fs.ErrNotExist", e, err)
	}
}

func TestResolvePath(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	for _, test := range []struct{ in, want string }{
		{"", ""},
		{"/abs/x", "/abs/x"},
		{"x", "/base/x"},
		{"../x", "/x"},
		{"~", "/home/u"},
		{"~/d", "/home/u/d"},
		{"~user/d", "/base/~user/d"},
	} {
		if got := resolvePath("/base", test.in); got != test.want {
			t.Errorf("resolvePath(/base, %q) = %q, want %q", test.in, got, test.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"connect", "engines", "name", "data_dir", "heartbeat", "ssh"}
	for _, test := range []struct{ in, want string }{
		{"enigne", "engines"},
		{"engine", "engines"},
		{"Connect", "connect"},
		{"data-dir", "data_dir"},
		{"datadir", "data_dir"},
		{"hartbeat", "heartbeat"},
		{"sh", "ssh"},
		{"nmae", "name"},
		{"workers", ""},
		{"x", ""},
	} {
		if got := closest(test.in, known); got != test.want {
			t.Errorf("closest(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}

func TestProblemFormat(t *testing.T) {
	for _, test := range []struct {
		file string
		p    Problem
		want string
	}{
		{"f.toml", Problem{Key: "hub.port", Line: 3, Msg: "bad"}, "f.toml:3: hub.port: bad"},
		{"f.toml", Problem{Key: "hub.port", Msg: "bad"}, "f.toml: hub.port: bad"},
		{"", Problem{Key: "hub.port", Msg: "bad"}, "hub.port: bad"},
		{"", Problem{Key: "hub.port", Line: 3, Msg: "bad"}, "3: hub.port: bad"},
		{"f.toml", Problem{Line: 2, Column: 5, Msg: "bad", Context: "ctx\n"}, "f.toml:2:5: bad\nctx"},
		{EnvFile, Problem{Key: "PIRUN_HUB_PORT", Msg: "bad"}, "environment: PIRUN_HUB_PORT: bad"},
	} {
		if got := (&Error{File: test.file, Problems: []Problem{test.p}}).Error(); got != test.want {
			t.Errorf("Error{%q, %+v}.Error() = %q, want %q", test.file, test.p, got, test.want)
		}
	}
}

// writeFile writes text to a new file name in a temporary folder.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
