package integration

import (
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestSecurityCommPinned: the communicator's subjects are pinned to each
// daemon's identity. A rogue daemon with the shared engine credentials
// cannot read the messages of other daemons' ranks, nor send under
// another daemon's id; made a rank of a victim's SPMD job (so it knows
// the job), it injects a message as another rank under its own id, and
// the receiving rank drops it: the victim's rank 1 receives rank 0's
// real message.
func TestSecurityCommPinned(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	watcher, _, _ := rawConnect(t, loadConnFile(t, clientConn))
	q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryEngines})
	engines := func() []wire.EngineInfo {
		m, err := watcher.Request(wire.SubjectQuery, q, 5*time.Second)
		var r wire.QueryReply
		if err != nil || wire.UnmarshalMsg(m.Data, &r) != nil {
			return nil
		}
		return r.Engines
	}
	waitFor(t, 30*time.Second, "engine 0 to join", func() bool { return len(engines()) == 1 })
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	waitFor(t, 30*time.Second, "engine 1 to join", func() bool { return len(engines()) == 2 })
	daemonOf := map[int]string{}
	for _, e := range engines() {
		daemonOf[e.ID] = e.Daemon
	}
	cf := loadConnFile(t, engineConn)
	f := startForger(t, cf)

	var mu sync.Mutex
	injected := 0
	forged, _ := wire.Marshal(starlark.String("FORGED"))
	f.onTask = func(task wire.Task) {
		if task.Comm == nil || len(task.Comm.Ranks) < 2 {
			return
		}
		// Rank 0's message to rank 1, as the rogue: under its own id
		// (allowed), and under rank 0's daemon id (refused).
		m, _ := wire.MarshalMsg(&wire.CommMsg{Job: task.Comm.Job, Kind: wire.CommData, Src: 0, Dst: 1, Tag: 7, Data: forged})
		for range 5 {
			f.nc.Publish(wire.CommTo(task.Comm.Daemons[1], task.Comm.Ranks[1], f.id), m)
			f.nc.Publish(wire.CommTo(task.Comm.Daemons[1], task.Comm.Ranks[1], task.Comm.Daemons[0]), m)
		}
		f.nc.Flush()
		mu.Lock()
		injected++
		mu.Unlock()
	}
	dir := writeScript(t, "victim.star", `c = Client()
c.wait_for_engines(3, timeout=20)
def job():
    if comm.rank == 0:
        time.sleep(1)
        comm.send("real", dest=1, tag=7)
        return "sent"
    if comm.rank == 1:
        return comm.recv(source=0, tag=7)
    return "idle"
r = c[:].apply_async(job).get(return_exceptions=True)
print(r[0], r[1])
`)
	victim := startPirun(t, "--connect", clientConn, dir+"/victim.star")
	select {
	case <-victim.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("the victim did not finish within 90s\nstdout:\n%s\nstderr:\n%s", victim.stdout, victim.stderr)
	}
	if out := victim.stdout.String(); out != "sent real\n" {
		t.Errorf("the victim's ranks 0 and 1 gave %q, want \"sent real\"\nstderr:\n%s", out, victim.stderr)
	}
	mu.Lock()
	if injected == 0 {
		t.Errorf("the rogue daemon was not given the job: the attack did not run")
	}
	mu.Unlock()

	nc, _, errs := rawConnect(t, cf)
	for _, test := range []struct {
		what string
		subj string
		do   func(string) error
	}{
		{"read every communicator message", wire.CommAll, func(s string) error { _, err := nc.Subscribe(s, func(*nats.Msg) {}); return err }},
		{"read engine 0's messages", wire.CommOf(daemonOf[0]), func(s string) error { _, err := nc.Subscribe(s, func(*nats.Msg) {}); return err }},
		{"read engine 0's messages from engine 1", wire.CommTo(daemonOf[0], 0, daemonOf[1]), func(s string) error {
			_, err := nc.Subscribe(s, func(*nats.Msg) {})
			return err
		}},
		{"send a message as engine 1's daemon", wire.CommTo(daemonOf[0], 0, daemonOf[1]), func(s string) error { return nc.Publish(s, []byte("x")) }},
		{"ask a rank's status as engine 1's daemon", wire.CommQueryTo(daemonOf[0], 0, daemonOf[1]), func(s string) error { return nc.Publish(s, []byte("x")) }},
	} {
		if err := test.do(test.subj); err != nil {
			t.Fatalf("%s: %v", test.what, err)
		}
		if err := violated(nc, errs, test.subj); err != nil {
			t.Errorf("a connection with the engine credentials tries to %s: %v", test.what, err)
		}
	}
}
