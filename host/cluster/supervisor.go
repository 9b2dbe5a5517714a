// This file defines the cluster supervisor (`pirun cluster start
// --foreground`): the hub in this process, the engine processes it starts
// here and over ssh, the state file that records them, and the orderly
// stop on SIGTERM.

package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/launch"
)

// pushTimeout bounds probing a host and copying pirun there.
const pushTimeout = 5 * time.Minute

// StartReport is what the supervisor tells `pirun cluster start` once the
// cluster is up or failed, through the notify pipe.
type StartReport struct {
	Code       int           `json:"code"`
	Error      string        `json:"error,omitempty"`
	Warnings   []string      `json:"warnings,omitempty"`
	State      *launch.State `json:"state,omitempty"`
	ClientConn string        `json:"client_conn,omitempty"`
	EngineConn string        `json:"engine_conn,omitempty"`
	LogDir     string        `json:"log_dir,omitempty"`
}

// supervisor runs a started cluster. Its fields after mu are guarded by mu.
type supervisor struct {
	f         StartOptions
	name      string // the profile
	paths     conf.ProfilePaths
	prof      conf.Profile
	ph        *ProfileHub
	log       *slog.Logger
	exe       string
	ssh       string // the ssh program's path
	conn      []byte // the engine connection file
	logs      *Logs
	warned    []string
	closeOnce sync.Once

	mu       sync.Mutex
	state    launch.State
	children []*launch.Started
	failed   []launch.Child // hosts where no process could be started
}

// RunSupervisor is `pirun cluster start --foreground`: it starts the
// cluster, reports (on f.NotifyFD, else on e), and runs it until ctx is
// done. It returns pirun's exit status.
func RunSupervisor(ctx context.Context, e *IO, f StartOptions) int {
	rep := newReporter(e, f)
	s, failure := openSupervisor(e, f)
	if s == nil {
		return rep.send(e, failure)
	}
	defer s.close()
	s.launchAll(ctx)
	cl, err := Connect(ctx, s.paths.ClientConn, "", client.Config{}, s.log)
	if err != nil {
		s.stop(nil)
		s.close()
		return rep.send(e, StartReport{Code: codeUnavailable, Error: err.Error()})
	}
	s.waitJoined(ctx, cl)
	r := s.report()
	if in := InterruptOf(ctx); in != nil {
		r.Code, r.Error = in.Status(), in.Error()+" before the cluster was ready; stopped the hub and the engines it had started"
	}
	if r.Code != codeOK || ctx.Err() != nil {
		s.stop(cl)
		s.close() // before the report: `pirun cluster start` then finds nothing left
		return rep.send(e, r)
	}
	rep.send(e, r)
	s.serve(ctx)
	s.stop(cl)
	return codeOK
}

// openSupervisor checks the profile, starts the hub and writes the first
// state. On failure it returns nil and the report to send.
func openSupervisor(e *IO, f StartOptions) (*supervisor, StartReport) {
	fail := func(err error) (*supervisor, StartReport) {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, StartReport{Code: codeUsage, Error: err.Error()}
		}
		return nil, StartReport{Code: codeUnavailable, Error: err.Error()}
	}
	s := &supervisor{f: f, name: f.Profile}
	var err error
	if s.paths, s.prof, s.ssh, err = clusterProfile(e, f); err != nil {
		return fail(err)
	}
	if err := refuseRunning(e, s.paths, s.name); err != nil {
		return fail(err)
	}
	if s.exe, err = os.Executable(); err != nil {
		return fail(fmt.Errorf("find this pirun executable: %w", err))
	}
	console := e.Stderr
	if f.NotifyFD >= 0 { // stderr is already the cluster log
		console = io.Discard
	}
	logs, log, err := OpenLogs(console, e.Getenv, s.paths, s.prof.Log, "cluster", "", f.Verbose)
	if err != nil {
		return fail(&ConfigError{err})
	}
	s.log = log
	if s.ph, err = OpenHub(e.Stderr, e.Getenv, HubSettings{Profile: s.name, Port: -1, Verbose: f.Verbose}); err != nil {
		logs.Close()
		return fail(err)
	}
	s.logs = logs
	if s.conn, err = os.ReadFile(s.paths.EngineConn); err == nil {
		s.initState(logs.Path)
		err = s.save()
	}
	if err != nil {
		s.close()
		return fail(err)
	}
	return s, StartReport{}
}

// initState records the supervisor and its hub.
func (s *supervisor) initState(logPath string) {
	self, _ := launch.Self()
	s.state = launch.State{Profile: s.name, Supervisor: self, Started: time.Now().UTC().Truncate(time.Second),
		HubURL: s.ph.URL, Dashboard: s.ph.Hub.DashURL(), Grace: s.grace().String(), Log: logPath}
	if len(s.prof.Hosts) > 0 && isLoopback(s.prof.Hub.IP) && s.prof.Hub.Advertise == "" {
		s.warned = append(s.warned, fmt.Sprintf("the hub listens on %s only, so engines on [[hosts]] cannot reach it: set [hub] ip = \"*\" (or this machine's address) in %s", s.prof.Hub.IP, s.paths.Config))
	}
}

// grace is how long launched engines outlive their hub or session.
func (s *supervisor) grace() time.Duration { return time.Duration(s.prof.Cluster.Grace) }

// save writes the state file.
func (s *supervisor) save() error {
	s.mu.Lock()
	st := s.state
	st.Children = slices.Clone(s.failed)
	for _, c := range s.children {
		st.Children = append(st.Children, c.Rec)
	}
	s.mu.Unlock()
	err := launch.WriteState(s.paths.Cluster, &st)
	if err != nil {
		s.log.Error("cluster state", "err", err)
	}
	return err
}

// launchAll starts the local engines and those of every [[hosts]] entry,
// the hosts in parallel.
func (s *supervisor) launchAll(ctx context.Context) {
	s.launchLocal()
	var wg sync.WaitGroup
	for _, h := range s.prof.Hosts {
		wg.Go(func() { s.launchHost(ctx, h) })
	}
	wg.Wait()
	s.save()
}

// localEngines is the number of engines started on this machine.
func (s *supervisor) localEngines() int {
	switch {
	case s.f.N > 0:
		return s.f.N
	case s.prof.Cluster.Engines > 0:
		return s.prof.Cluster.Engines
	}
	return runtime.NumCPU()
}

// launchLocal starts `pirun engine` on this machine.
func (s *supervisor) launchLocal() {
	n := s.localEngines()
	argv := []string{s.exe, "engine", "--connect", s.paths.EngineConn, "-n", strconv.Itoa(n),
		"--launched", "--grace", s.grace().String()}
	if fi, err := os.Stat(s.paths.Config); err == nil && !fi.IsDir() {
		argv = append(argv, "--config", s.paths.Config)
	}
	rec := launch.Child{Kind: launch.KindLocal, Host: "localhost", Engines: n}
	c, err := launch.StartChild(rec, argv, nil, s.log, s.onLine)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		rec.Error = fmt.Sprintf("start the local engines: %v", err)
		s.failed = append(s.failed, rec)
		return
	}
	c.Hostname, _ = os.Hostname()
	close(c.Marker)
	s.children = append(s.children, c)
}

// launchHost starts the engines of one [[hosts]] entry over ssh, after
// copying pirun there when asked.
func (s *supervisor) launchHost(ctx context.Context, h conf.Host) {
	t := launch.Target{Host: h.Host, User: h.User, Options: h.SSHOptions}
	rec := launch.Child{Kind: launch.KindSSH, Host: h.Host, Engines: h.Engines}
	pirun := h.Pirun
	if s.f.PushBinary || h.PushBinary {
		var err error
		if pirun, rec.Pushed, err = s.push(ctx, t); err != nil {
			s.hostFailed(rec, err.Error())
			return
		}
	}
	cmd := launch.EngineCommand{Pirun: pirun, Engines: h.Engines, Grace: s.grace(), DataDir: h.DataDir}
	argv := append([]string{s.ssh}, t.Args(cmd.Shell())...)
	c, err := launch.StartChild(rec, argv, launch.ConnPayload(s.conn), s.log, s.onLine)
	if err != nil {
		s.hostFailed(rec, launch.ProgramError(s.ssh, err).Error())
		return
	}
	s.mu.Lock()
	s.children = append(s.children, c)
	s.mu.Unlock()
	s.log.Info("launched engines over ssh", "host", h.Host, "pirun", pirun, "pid", c.Rec.Process.PID)
}

// push copies the pirun build for the host's platform there, unless it is
// there already, and returns the path to launch.
func (s *supervisor) push(ctx context.Context, t launch.Target) (pirun, pushed string, err error) {
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	p, sum, err := launch.Probe(ctx, s.ssh, t, launch.PushPath)
	if err != nil {
		return "", "", err
	}
	self := launch.ThisPlatform()
	build, err := launch.ChooseBuild(p, self, s.exe)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", t, err)
	}
	copied, err := launch.Push(ctx, s.ssh, t, build, launch.PushPath, sum)
	if err != nil {
		return "", "", err
	}
	s.log.Info("pirun build on host", "host", t.String(), "platform", p.String(), "build", build, "copied", copied)
	if !copied {
		build += " (already there)"
	}
	return launch.PushPath, build, nil
}

// hostFailed records a host where no engine process could be started.
func (s *supervisor) hostFailed(rec launch.Child, why string) {
	rec.Error = why
	s.log.Warn("host failed", "host", rec.Host, "err", why)
	s.mu.Lock()
	s.failed = append(s.failed, rec)
	s.mu.Unlock()
}

// onLine reads the launched marker line of an engine started over ssh.
func (s *supervisor) onLine(c *launch.Started, line string) {
	pid, hostname, ok := launch.ParseLaunched(line)
	if !ok || c.Rec.Kind != launch.KindSSH {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Rec.RemotePID == 0 {
		c.Rec.RemotePID, c.Hostname = pid, hostname
		close(c.Marker)
	}
}

// close stops the hub, removes the state file and closes the logs; it is
// idempotent.
func (s *supervisor) close() {
	s.closeOnce.Do(func() {
		s.ph.Close()
		if err := os.Remove(s.paths.Cluster); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("remove the cluster state", "err", err)
		}
		s.logs.Close()
	})
}

// reporter delivers the start report: to the waiting `pirun cluster
// start` through the notify pipe, else printed.
type reporter struct {
	w io.WriteCloser
}

func newReporter(e *IO, f StartOptions) *reporter {
	if f.NotifyFD < 0 {
		return &reporter{}
	}
	return &reporter{w: os.NewFile(uintptr(f.NotifyFD), "notify")}
}

// send delivers r (once) and returns its exit status.
func (r *reporter) send(e *IO, rep StartReport) int {
	if r.w == nil {
		printReport(e, rep)
		return rep.Code
	}
	json.NewEncoder(r.w).Encode(rep)
	r.w.Close()
	r.w = nil
	if rep.Error != "" {
		fmt.Fprintf(e.Stderr, "pirun cluster start: %s\n", rep.Error)
	}
	return rep.Code
}

// isLoopback reports whether a listen address is this machine only.
func isLoopback(ip string) bool {
	return ip == "127.0.0.1" || ip == "localhost" || ip == "::1"
}
