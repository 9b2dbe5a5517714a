// This file defines the attacks of issue 14 items 3 and 4 on a real `pirun
// hub` with real engine and client processes: a raw NATS client with the
// engine credentials joins as a daemon and forges results for tasks it
// was not given, reads other daemons' tasks and others' results; a raw
// client with the client credentials reads other clients' results and
// replies. Each is shown harmless. SPEC §15.

package integration

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

// rawConnect connects to the hub of connection file cf with its
// credentials and a fresh identity key, as pirun's engines and clients
// do; errs receives the asynchronous errors (permission violations).
func rawConnect(t *testing.T, cf conf.ConnFile) (*nats.Conn, string, chan error) {
	t.Helper()
	ident, err := transport.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	inbox := wire.ClientInbox(ident.ID())
	if cf.Role == conf.RoleEngine {
		inbox = wire.EngineInbox(ident.ID())
	}
	errs := make(chan error, 64)
	nc, err := nats.Connect(strings.Join(cf.URLs, ","), nats.UserInfo(cf.User, cf.Password), ident.Option(),
		nats.CustomInboxPrefix(inbox), nats.MaxReconnects(0),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	if err != nil {
		t.Fatalf("connect with the %s credentials of %v: %v", cf.Role, cf.URLs, err)
	}
	t.Cleanup(nc.Close)
	return nc, ident.ID(), errs
}

// loadConnFile loads a connection file or fails the test.
func loadConnFile(t *testing.T, path string) conf.ConnFile {
	t.Helper()
	cf, _, err := conf.LoadConnFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

// violated reports whether errs gets a permissions violation naming subj
// within 5s of what nc did.
func violated(nc *nats.Conn, errs chan error, subj string) error {
	nc.Flush()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case err := <-errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), subj) {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("no permissions violation for %s within 5s", subj)
		}
	}
}

// forger is a rogue daemon: a raw NATS client with the engine credentials
// that registers one engine, answers the tasks it is given with
// "attacker", and for every task it sees forges "FORGED" results: for
// the other engines of a direct task (ids 0 to 7), and for the neighbouring task ids
// (guesses at load-balanced tasks given to other daemons).
type forger struct {
	nc      *nats.Conn
	id      string
	engine  int           // set before ready is closed
	ready   chan struct{} // closed once registered: tasks may come first
	mu      sync.Mutex
	clients map[string]bool
	forged  int
	// onTask, when set, sees every task the rogue is given (before it
	// forges results for it).
	onTask func(wire.Task)
}

func startForger(t *testing.T, cf conf.ConnFile) *forger {
	t.Helper()
	nc, id, _ := rawConnect(t, cf)
	f := &forger{nc: nc, id: id, clients: make(map[string]bool), ready: make(chan struct{})}
	if _, err := nc.Subscribe(wire.DaemonTasksFrom(id, "*"), f.onTasks); err != nil {
		t.Fatal(err)
	}
	nc.Subscribe(wire.DaemonControlFrom(id, "*"), func(m *nats.Msg) {
		data, _ := wire.MarshalMsg(&wire.ControlReply{})
		m.Respond(data)
	})
	data, _ := wire.MarshalMsg(&wire.Register{Protocol: wire.ProtocolVersion, Version: "forger", Host: "rogue",
		Name: "rogue", Daemon: id, Engines: 1, Started: time.Now().UnixNano()})
	m, err := nc.Request(wire.RegisterFrom(id), data, 10*time.Second)
	if err != nil {
		t.Fatalf("the rogue daemon registers: %v", err)
	}
	var r wire.Registered
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil || r.Error != "" || len(r.IDs) != 1 {
		t.Fatalf("the rogue daemon registers: %+v, %v", r, err)
	}
	f.engine = r.IDs[0]
	close(f.ready)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				hb, _ := wire.MarshalMsg(&wire.Heartbeat{Daemon: id, Engines: []wire.EngineStat{{ID: f.engine}}})
				nc.Publish(wire.HeartbeatFrom(id), hb)
			}
		}
	}()
	return f
}

func (f *forger) onTasks(m *nats.Msg) {
	<-f.ready
	var b wire.Batch
	if err := wire.UnmarshalMsg(m.Data, &b); err != nil {
		return
	}
	forged, _ := wire.Marshal(starlark.String("FORGED"))
	mine, _ := wire.Marshal(starlark.String("attacker"))
	var done []wire.TaskRef
	for _, task := range b.Tasks {
		if f.onTask != nil {
			f.onTask(task)
		}
		var fake []wire.Result
		for e := range 8 { // engine ids are small: the others of a direct task
			if e != f.engine && !task.Balanced {
				fake = append(fake, wire.Result{Task: task.ID, Engine: e, Status: wire.StatusOK, Value: forged})
			}
		}
		for d := uint64(1); d <= 64; d++ {
			for _, id := range []uint64{task.ID + d, task.ID - d} {
				fake = append(fake, wire.Result{Task: id, Engine: f.engine, Status: wire.StatusOK, Value: forged})
			}
		}
		f.publish(task.Client, fake)
		f.publish(task.Client, []wire.Result{{Task: task.ID, Engine: f.engine, Status: wire.StatusOK, Value: mine, Attempt: task.Attempt}})
		if task.Balanced {
			done = append(done, wire.TaskRef{Client: task.Client, ID: task.ID})
		}
		f.mu.Lock()
		f.clients[task.Client] = true
		f.forged += len(fake)
		f.mu.Unlock()
	}
	if len(done) > 0 {
		data, _ := wire.MarshalMsg(&wire.Done{Engine: f.engine, Tasks: done})
		f.nc.Publish(wire.DoneFrom(f.id), data)
	}
}

func (f *forger) publish(client string, rs []wire.Result) {
	data, _ := wire.MarshalMsg(&wire.Results{Results: rs})
	f.nc.Publish(wire.ClientResultsFrom(client, f.id), data)
}

// TestSecurityEngineCannotForgeResults: a rogue daemon with the shared
// engine credentials takes part in a victim's direct and load-balanced
// work and forges results for every task it learns of or can guess; the
// victim gets only the real engine's results and the rogue's own. The
// rogue cannot read other daemons' tasks, nor send results under
// another daemon's id or the hub's.
func TestSecurityEngineCannotForgeResults(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	cf := loadConnFile(t, engineConn)
	dir := writeScript(t, "victim.star", `c = Client()
c.wait_for_engines(2, timeout=20)
def who():
    return "real" if engine.id == 0 else "attacker"
print("direct", c[:].apply_sync(who))
lv = c.load_balanced_view()
ars = [lv.apply_async(who) for i in range(40)]
print("lb", sorted(set([ar.get(timeout=30) for ar in ars])))
`)
	// The real engine is engine 0: the rogue joins after it.
	watcher, _, _ := rawConnect(t, loadConnFile(t, clientConn))
	q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryEngines})
	waitFor(t, 30*time.Second, "the real engine to join", func() bool {
		m, err := watcher.Request(wire.SubjectQuery, q, 5*time.Second)
		var r wire.QueryReply
		return err == nil && wire.UnmarshalMsg(m.Data, &r) == nil && len(r.Engines) == 1
	})
	f := startForger(t, cf)
	victim := startPirun(t, "--connect", clientConn, dir+"/victim.star")
	select {
	case <-victim.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("the victim did not finish within 90s\nstdout:\n%s\nstderr:\n%s", victim.stdout, victim.stderr)
	}
	out := victim.stdout.String()
	want := "direct [\"real\", \"attacker\"]\n"
	if code := victim.cmd.ProcessState.ExitCode(); code != 0 || !strings.HasPrefix(out, want) || strings.Contains(out, "FORGED") {
		t.Errorf("the victim: exit %d, stdout %q; want 0, %q first, and no FORGED result", code, out, want)
	}
	if lb := out[min(len(want), len(out)):]; lb != "lb [\"attacker\", \"real\"]\n" && lb != "lb [\"real\"]\n" && lb != "lb [\"attacker\"]\n" {
		t.Errorf("load-balanced results %q, want only real and attacker's own", lb)
	}
	f.mu.Lock()
	forged, clients := f.forged, len(f.clients)
	f.mu.Unlock()
	if forged == 0 || clients != 1 {
		t.Errorf("the rogue daemon forged %d results for %d clients: the attack did not run", forged, clients)
	}

	nc, _, errs := rawConnect(t, cf)
	for _, test := range []struct {
		what string
		subj string
		do   func(string) error
	}{
		{"read every daemon's tasks", wire.DaemonAll, func(s string) error { _, err := nc.Subscribe(s, func(*nats.Msg) {}); return err }},
		{"read the rogue daemon's tasks", wire.DaemonTasksFrom(f.id, "*"), func(s string) error { _, err := nc.Subscribe(s, func(*nats.Msg) {}); return err }},
		{"read every client's results", wire.ClientsAll, func(s string) error { _, err := nc.Subscribe(s, func(*nats.Msg) {}); return err }},
		{"read the clients' replies", "_INBOX.>", func(s string) error { _, err := nc.Subscribe(s, func(*nats.Msg) {}); return err }},
		{"send results as the hub", wire.ClientResults("victim"), func(s string) error { return nc.Publish(s, []byte("x")) }},
		{"send results as the rogue daemon", wire.ClientResultsFrom("victim", f.id), func(s string) error { return nc.Publish(s, []byte("x")) }},
		{"send output as the rogue daemon", wire.ClientOutputFrom("victim", f.id), func(s string) error { return nc.Publish(s, []byte("x")) }},
	} {
		if err := test.do(test.subj); err != nil {
			t.Fatalf("%s: %v", test.what, err)
		}
		if err := violated(nc, errs, test.subj); err != nil {
			t.Errorf("another connection with the engine credentials tries to %s: %v", test.what, err)
		}
	}
}

// TestSecurityClientsIsolated: a raw client with the shared client
// credentials cannot read another client's results or replies, while a
// script runs beside it; its own subjects work.
func TestSecurityClientsIsolated(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	cf := loadConnFile(t, clientConn)
	nc, id, errs := rawConnect(t, cf)
	other, otherID, _ := rawConnect(t, cf)
	for _, subj := range []string{wire.ClientsAll, wire.ClientAll(otherID), "_INBOX.>", wire.ClientInbox(otherID) + ".>", "pirun.>", ">"} {
		if _, err := nc.Subscribe(subj, func(*nats.Msg) {}); err != nil {
			t.Fatal(err)
		}
		if err := violated(nc, errs, subj); err != nil {
			t.Errorf("a client subscribing to %s: %v", subj, err)
		}
	}
	// Its own results and replies: a query answered on its own inbox.
	if _, err := nc.Subscribe(wire.ClientAll(id), func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryEngines, Client: id})
	if _, err := nc.Request(wire.SubjectQuery, q, 10*time.Second); err != nil {
		t.Errorf("a client's query on its own inbox: %v", err)
	}
	if _, err := other.Request(wire.SubjectQuery, q, 10*time.Second); err != nil {
		t.Errorf("another client's query: %v", err)
	}
	dir := writeScript(t, "mine.star", "c = Client()\nc.wait_for_engines(1, timeout=20)\nprint(c[:].apply_sync(lambda: 6 * 7))\n")
	if r := runPirun(t, dir, 60*time.Second, "--connect", clientConn, "mine.star"); r.code != 0 || r.stdout != "[42]\n" {
		t.Errorf("a script beside them: exit %d, stdout %q, want 0 and [42]\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestSecurityLargeMessagesPermitted: with the permissions pinned, a
// 20 MB push to an engine of a `pirun hub`, its pull, and a 10 MB result
// travel in parts of at most 8 MiB (each acknowledged by its receiver).
func TestSecurityLargeMessagesPermitted(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	dir := writeScript(t, "big.star", `c = Client()
c.wait_for_engines(1, timeout=20)
c[:].push({"b": "x" * (20 * 1024 * 1024)})
c[:].execute("n = len(b)", block=True)
print(c[:].pull("n").get(), len(c[0].pull("b").get()))
def big():
    return "z" * (10 * 1024 * 1024)
print(len(c[0].apply_sync(big)))
`)
	r := runPirun(t, dir, 120*time.Second, "--connect", clientConn, "big.star")
	if want := "[20971520] 20971520\n10485760\n"; r.code != 0 || r.stdout != want {
		t.Errorf("large messages through a hub with permissions: exit %d, stdout %q, want 0 and %q\nstderr:\n%s", r.code, r.stdout, want, r.stderr)
	}
}
