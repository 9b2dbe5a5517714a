// This file defines the attacks on daemon control and task ownership: a
// raw client with the shared client credentials, knowing a victim's
// client id, tries to abort, list and revoke the victim's tasks on a real
// engine and to submit tasks under the victim's id. SPEC §15.

package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestSecurityClientCannotControlOthersTasks: the victim's id leaks to a
// rogue daemon that takes part in its work; the attacker, with the client
// credentials, then sends the real daemon aborts, a verbose stats request
// and a revoke for the victim's tasks, and direct and load-balanced tasks
// under the victim's id with the ids it will use next. Each is refused and
// the victim's work completes with its own results.
func TestSecurityClientCannotControlOthersTasks(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	watcher, _, _ := rawConnect(t, loadConnFile(t, clientConn))
	q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryEngines})
	var real string
	waitFor(t, 30*time.Second, "the real engine to join", func() bool {
		m, err := watcher.Request(wire.SubjectQuery, q, 5*time.Second)
		var r wire.QueryReply
		if err != nil || wire.UnmarshalMsg(m.Data, &r) != nil || len(r.Engines) != 1 {
			return false
		}
		real = r.Engines[0].Daemon
		return true
	})
	f := startForger(t, loadConnFile(t, engineConn))
	nc, attacker, _ := rawConnect(t, loadConnFile(t, clientConn))
	type outcome struct {
		what string
		err  error
		r    wire.ControlReply
	}
	attacks := make(chan []outcome, 1)
	f.onTask = func(task wire.Task) {
		if task.Client == wire.DetachedClient || len(attacks) > 0 {
			return
		}
		victim := task.Client
		var out []outcome
		ask := func(what string, c wire.Control) {
			data, _ := wire.MarshalMsg(&c)
			var o outcome
			o.what = what
			m, err := nc.Request(wire.DaemonControlFrom(real, attacker), data, 5*time.Second)
			if o.err = err; err == nil {
				o.err = wire.UnmarshalMsg(m.Data, &o.r)
			}
			out = append(out, o)
		}
		var guess []uint64
		for d := uint64(1); d <= 40; d++ {
			guess = append(guess, task.ID-d, task.ID+d)
		}
		ask("verbose stats of the victim", wire.Control{Op: wire.OpStats, Verbose: true, Client: victim})
		ask("revoke the victim's tasks", wire.Control{Op: wire.OpRevoke, Client: victim, Tasks: guess})
		ask("abort the victim's tasks", wire.Control{Op: wire.OpAbort, Client: victim, Tasks: guess})
		ask("abort every task of the victim", wire.Control{Op: wire.OpAbortClient, Client: victim})
		ask("ask the victim's results again", wire.Control{Op: wire.OpResend, Client: victim, Tasks: guess})
		// Tasks under the victim's id with the ids it uses next: their
		// results (None) would reach the victim, and the hub would skip
		// its real load-balanced tasks as duplicates.
		var b wire.Batch
		for d := uint64(1); d <= 40; d++ {
			b.Tasks = append(b.Tasks, wire.Task{ID: task.ID + d, Client: victim, Kind: wire.KindExecute,
				Code: "x = 1", File: "attack.star", Targets: []int{0}, Allowed: []int{0}})
		}
		data, _ := wire.MarshalMsg(&b)
		nc.Publish(wire.SubmitFrom(attacker), data)
		nc.Publish(wire.DaemonTasksFrom(real, attacker), data)
		nc.Flush()
		attacks <- out
	}
	dir := writeScript(t, "victim.star", `c = Client()
c.wait_for_engines(2, timeout=20)
def slow():
    time.sleep(3)
    return "slow done"
ar = c[0].apply_async(slow)
print("leak", c[1].apply_sync(lambda: 1))
print("direct", [c[0].apply_sync(lambda: 6 * 7) for i in range(3)])
lv = c.load_balanced_view(targets = [0])
print("lb", [lv.apply_async(lambda: 7 * 6).get(timeout = 30) for i in range(3)])
print("slow", ar.get(timeout = 60))
`)
	victim := startPirun(t, "--connect", clientConn, dir+"/victim.star")
	var out []outcome
	select {
	case out = <-attacks:
	case <-time.After(60 * time.Second):
		t.Fatalf("the victim's id did not leak to the rogue daemon within 60s\nstdout:\n%s\nstderr:\n%s", victim.stdout, victim.stderr)
	}
	for _, o := range out {
		var listed int
		for _, s := range o.r.Stats {
			listed += len(s.QueueIDs)
		}
		if o.err != nil || !strings.Contains(o.r.Error, "refused") || len(o.r.Revoked) > 0 || listed > 0 {
			t.Errorf("the attacker tries to %s: reply %+v, err %v; want it refused, nothing revoked or listed", o.what, o.r, o.err)
		}
	}
	select {
	case <-victim.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("the victim did not finish within 90s\nstdout:\n%s\nstderr:\n%s", victim.stdout, victim.stderr)
	}
	want := "leak attacker\ndirect [42, 42, 42]\nlb [42, 42, 42]\nslow slow done\n"
	if code := victim.cmd.ProcessState.ExitCode(); code != 0 || victim.stdout.String() != want {
		t.Errorf("the victim: exit %d, stdout %q, want 0 and %q\nstderr:\n%s", code, victim.stdout, want, victim.stderr)
	}
}
