// This file defines the PIRUN_* environment layer, applied over a loaded
// file and under the flags.

package conf

import (
	"strconv"
	"strings"
)

// ApplyEnv overrides p with the PIRUN_* variables that getenv returns
// (os.Getenv in main): PIRUN_HUB_IP, PIRUN_HUB_PORT and PIRUN_LOG_LEVEL, and
// those of [Engine.ApplyEnv] for p.Engine. An empty variable counts as
// unset. Bad values are all reported in one [*Error] whose File is
// [EnvFile], each naming the variable and what was expected; p is then
// unchanged. It modifies p: do not share p while it runs.
func (p *Profile) ApplyEnv(getenv func(string) string) error {
	q := *p
	var ps problems
	if v := getenv("PIRUN_HUB_IP"); v != "" {
		q.Hub.IP = v
		if !validListenHost(v) {
			ps.add("PIRUN_HUB_IP", "expected an IP address, a host name or \"*\" (all interfaces), got %q", v)
		}
	}
	if v := getenv("PIRUN_HUB_PORT"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		q.Hub.Port = n
		if err != nil || n < -1 || n > 65535 {
			ps.add("PIRUN_HUB_PORT", "expected an integer 0..65535 (0 picks a free port), got %q", v)
		}
	}
	if v := getenv("PIRUN_LOG_LEVEL"); v != "" {
		q.Log.Level = strings.ToLower(strings.TrimSpace(v))
		if !validLogLevel(q.Log.Level) {
			ps.add("PIRUN_LOG_LEVEL", "expected debug, info, warn or error, got %q", v)
		}
	}
	ps = append(ps, q.Engine.applyEnv(getenv)...)
	if len(ps) > 0 {
		return errorOf(EnvFile, ps)
	}
	*p = q
	return nil
}

// ApplyEnv overrides e with the PIRUN_* variables that getenv returns:
// PIRUN_CONNECT, PIRUN_ENGINES, PIRUN_NAME, PIRUN_DATA_DIR, PIRUN_MAX_STEPS,
// PIRUN_TASK_TIMEOUT and PIRUN_SSH. An empty variable counts as unset. Bad values are
// all reported in one [*Error] whose File is [EnvFile]; e is then
// unchanged. It modifies e: do not share e while it runs.
func (e *Engine) ApplyEnv(getenv func(string) string) error {
	q := *e
	if ps := q.applyEnv(getenv); len(ps) > 0 {
		return errorOf(EnvFile, ps)
	}
	*e = q
	return nil
}

// applyEnv sets e from the engine variables and returns their problems.
func (e *Engine) applyEnv(getenv func(string) string) []Problem {
	var ps problems
	if v := getenv("PIRUN_CONNECT"); v != "" {
		e.Connect = v
		if msg := checkConnect(v); msg != "" {
			ps.add("PIRUN_CONNECT", "%s", msg)
		}
	}
	if v := getenv("PIRUN_ENGINES"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		e.Engines = n
		if err != nil || n < 0 || n > maxEngines {
			ps.add("PIRUN_ENGINES", "expected an integer 0..%d (0 = one per CPU), got %q", maxEngines, v)
		}
	}
	if v := getenv("PIRUN_NAME"); v != "" {
		e.Name = v
		if !validName(v) {
			ps.add("PIRUN_NAME", "expected at most 64 characters without spaces, got %q", v)
		}
	}
	if v := getenv("PIRUN_DATA_DIR"); v != "" {
		e.DataDir = v
	}
	if v := getenv("PIRUN_OUT_DIR"); v != "" {
		e.OutDir = v
	}
	if v := getenv("PIRUN_MAX_STEPS"); v != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		e.MaxSteps = n
		if err != nil {
			ps.add("PIRUN_MAX_STEPS", "expected an integer of 0 or more (0 = no limit), got %q", v)
		}
	}
	if v := getenv("PIRUN_TASK_TIMEOUT"); v != "" {
		if err := e.TaskTimeout.UnmarshalText([]byte(v)); err != nil {
			ps.add("PIRUN_TASK_TIMEOUT", "%v", err)
		}
	}
	if v := getenv("PIRUN_SSH"); v != "" {
		e.SSH = v
		if strings.ContainsAny(v, " \t\r\n") || strings.HasPrefix(v, "-") {
			ps.add("PIRUN_SSH", "expected [user@]gateway[:port], got %q", v)
		}
	}
	return ps
}
