package integration

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
)

// TestAdminAbort: the admin request behind `pirun abort` stops another
// client's tasks of every kind (direct running and queued, load-balanced
// running and waiting for an engine), and --client stops only that
// client's. The admin connection here is in-process (the hub's own
// rights); the permissions that keep clients and engines off the admin
// subjects are checked in host/hub's TestPermissions.
func TestAdminAbort(t *testing.T) {
	cl := startCluster(t, clusterConfig{engines: 2})
	admin, err := nats.Connect("", cl.Hub.InProcess())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	abort := func(clientID string) starlark.Value {
		return starlark.NewBuiltin("admin_abort", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			refs, err := client.AdminAbort(ctx, admin, clientID, nil)
			return starlark.MakeInt(len(refs)), err
		})
	}
	runSnippetWith(t, cl, `
load("assert.star", "assert")
c = Client()
ids = c.ids

def until(cond, what):
    for _ in range(400):
        if cond():
            return
        time.sleep(0.025)
    fail("timed out waiting for " + what)

running = c[ids[0]].apply_async(time.sleep, 30)
queued = c[ids[0]].apply_async(lambda: 1)
lb = c.load_balanced_view(targets = [ids[1]]).map_async(time.sleep, [30] * 3)
until(lambda: c.queue_status(targets = ids[0], verbose = True)["tasks"] == running.msg_ids, "the direct sleep to run")
until(lambda: len(c.queue_status(targets = ids[1], verbose = True)["tasks"]) == 1, "a load-balanced sleep to run")
assert.eq(abort_other(), 0)
assert.true(abort_mine() >= 4)
for ar in [running, queued, lb]:
    assert.true(ar.wait(10))
    assert.eq(sorted(set([e.type for e in ar.errors()])), ["TaskAborted"])
assert.true("admin" in lb.errors()[-1].message or "abort" in lb.errors()[-1].message)
assert.eq(c[ids[0]].apply_sync(lambda: "still usable"), "still usable")
`, starlark.StringDict{"abort_mine": abort(cl.Client.ID()), "abort_other": abort("UNOBODY")})
}
