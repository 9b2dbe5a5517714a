package conf

import (
	"reflect"
	"testing"
	"time"
)

func TestProfileApplyEnv(t *testing.T) {
	file := DefaultProfile() // as if loaded: TOML values beneath the environment
	file.Hub.IP, file.Hub.Port, file.Log.Level = "10.0.0.1", 5000, "warn"
	file.Engine.Engines, file.Engine.Name = 2, "pi"
	for _, test := range []struct {
		env     map[string]string
		edit    func(*Profile) // what the environment should change
		wantErr string
	}{
		{env: nil, edit: func(*Profile) {}},
		{env: map[string]string{"PIRUN_HUB_IP": "", "PIRUN_ENGINES": ""}, edit: func(*Profile) {}}, // empty = unset
		{env: map[string]string{"PIRUN_HUB_IP": "*", "PIRUN_HUB_PORT": "0", "PIRUN_LOG_LEVEL": "DEBUG"},
			edit: func(p *Profile) { p.Hub.IP, p.Hub.Port, p.Log.Level = "*", 0, "debug" }},
		{env: map[string]string{"PIRUN_ENGINES": "8", "PIRUN_NAME": "pi4"},
			edit: func(p *Profile) { p.Engine.Engines, p.Engine.Name = 8, "pi4" }},
		{env: map[string]string{"PIRUN_HUB_PORT": "http", "PIRUN_LOG_LEVEL": "loud", "PIRUN_HUB_IP": "a b", "PIRUN_ENGINES": "-1"},
			wantErr: "environment: PIRUN_HUB_IP: expected an IP address, a host name or \"*\" (all interfaces), got \"a b\"\n" +
				"environment: PIRUN_HUB_PORT: expected an integer 0..65535 (0 picks a free port), got \"http\"\n" +
				"environment: PIRUN_LOG_LEVEL: expected debug, info, warn or error, got \"loud\"\n" +
				"environment: PIRUN_ENGINES: expected an integer 0..1024 (0 = one per CPU), got \"-1\""},
		{env: map[string]string{"PIRUN_HUB_PORT": "70000"},
			wantErr: "environment: PIRUN_HUB_PORT: expected an integer 0..65535 (0 picks a free port), got \"70000\""},
	} {
		got, want := file, file
		want.Engine.Preload = nil
		if test.edit != nil {
			test.edit(&want)
		}
		err := got.ApplyEnv(func(k string) string { return test.env[k] })
		if errString(err) != test.wantErr {
			t.Errorf("ApplyEnv(%v) error =\n%v\nwant\n%s", test.env, err, test.wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ApplyEnv(%v) =\n%+v\nwant\n%+v", test.env, got, want)
		}
	}
}

func TestEngineApplyEnv(t *testing.T) {
	file := DefaultEngine()
	file.Connect, file.MaxSteps = "/etc/pirun/engine-connection.toml", 10
	for _, test := range []struct {
		env     map[string]string
		edit    func(*Engine)
		wantErr string
	}{
		{env: map[string]string{"PIRUN_CONNECT": "nats://hub:4222", "PIRUN_DATA_DIR": "/data",
			"PIRUN_MAX_STEPS": "18446744073709551615", "PIRUN_TASK_TIMEOUT": "90s"},
			edit: func(e *Engine) {
				e.Connect, e.DataDir, e.MaxSteps, e.TaskTimeout = "nats://hub:4222", "/data", 1<<64-1, Duration(90*time.Second)
			}},
		{env: map[string]string{"PIRUN_CONNECT": "nats://", "PIRUN_MAX_STEPS": "-1", "PIRUN_TASK_TIMEOUT": "soon", "PIRUN_NAME": "a b"},
			wantErr: "environment: PIRUN_CONNECT: expected a connection file or a nats:// or tls:// URL with a host, got \"nats://\"\n" +
				"environment: PIRUN_NAME: expected at most 64 characters without spaces, got \"a b\"\n" +
				"environment: PIRUN_MAX_STEPS: expected an integer of 0 or more (0 = no limit), got \"-1\"\n" +
				"environment: PIRUN_TASK_TIMEOUT: expected a duration such as \"30s\", \"1m30s\" or \"250ms\", got \"soon\""},
	} {
		got, want := file, file
		if test.edit != nil {
			test.edit(&want)
		}
		err := got.ApplyEnv(func(k string) string { return test.env[k] })
		if errString(err) != test.wantErr || !reflect.DeepEqual(got, want) {
			t.Errorf("ApplyEnv(%v) = %+v,\n%v\nwant %+v,\n%s", test.env, got, err, want, test.wantErr)
		}
	}
}
