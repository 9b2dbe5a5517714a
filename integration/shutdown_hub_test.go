package integration

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/startest"
)

// TestShutdownHub: c.shutdown(hub=True) from a script stops every engine
// process of a `pirun hub` cluster (they exit 0), and signals the hub's
// owner to end (Hub.ShutdownRequested, checked in-process below).
func TestShutdownHub(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	e1 := startPirun(t, "engine", "--connect", engineConn, "-n", "2")
	e2 := startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	script := filepath.Join(t.TempDir(), "stop.star")
	os.WriteFile(script, []byte(`c = Client()
c.wait_for_engines(3)
print("engines", len(c.ids))
c.shutdown(hub = True)
print("left", c.ids)
`), 0o644)
	r := runPirun(t, "", cliTimeout, "--connect", clientConn, script)
	if r.code != 0 || !strings.Contains(r.stdout, "engines 3") || !strings.Contains(r.stdout, "left []") {
		t.Fatalf("pirun stop.star = exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, e := range []*proc{e1, e2} {
		select {
		case <-e.done:
			if e.err != nil {
				t.Errorf("engine process %v: %v, want exit 0", e.cmd.Args, e.err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("engine process %v still runs 20s after shutdown(hub=True)", e.cmd.Args)
		}
	}
}

// TestShutdownHubInProcess: shutdown(hub=True) stops every engine and
// closes the hub's ShutdownRequested channel, which `pirun hub` waits on;
// restart=True is refused as ipyparallel does.
func TestShutdownHubInProcess(t *testing.T) {
	cl := startCluster(t, clusterConfig{engines: 2, perDaemon: true})
	select {
	case <-cl.Hub.ShutdownRequested():
		t.Fatal("ShutdownRequested closed before any request")
	default:
	}
	runSnippet(t, cl, `
load("assert.star", "assert")
c = Client()
assert.fails(lambda: c.shutdown(restart = True), "restart=True is not implemented")
assert.eq(len(c.ids), 2)
c.shutdown(hub = True, block = True)
assert.eq(c.ids, [])
`)
	select {
	case <-cl.Hub.ShutdownRequested():
	case <-time.After(10 * time.Second):
		t.Fatal("ShutdownRequested not closed 10s after shutdown(hub=True)")
	}
}

// runSnippet runs src (assert.star available) as a test file against cl.
func runSnippet(t *testing.T, cl *cluster, src string) {
	t.Helper()
	runSnippetWith(t, cl, src, nil)
}

// runSnippetWith is runSnippet with extra predeclared names.
func runSnippetWith(t *testing.T, cl *cluster, src string, extra starlark.StringDict) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "snippet.star")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cl.Client.Sources().Add(file, []byte(src)); err != nil {
		t.Fatal(err)
	}
	s := &api.Script{Client: cl.Client, Stdout: io.Discard}
	predecl, err := s.Predeclared()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		predecl[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	startest.RunFile(t, file, []byte(src), startest.Options{
		Predeclared: predecl,
		Context:     ctx,
		Setup: func(th *starlark.Thread) {
			api.SetClient(th, cl.Client)
			api.SetDir(th, filepath.Dir(file))
			starlib.SetContext(th, ctx)
		},
		Load: s.Load,
	})
}
