package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/engine"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/hub"
	"github.com/pirun-dev/pirun/starlib/startest"
)

// pirunBin is the pirun binary built for this test run.
var pirunBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pirun-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	pirunBin = filepath.Join(dir, "pirun")
	args := []string{"build", "-o", pirunBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/pirun-dev/pirun/host/cmd/pirun")
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build pirun:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a pirun process did.
type result struct {
	stdout, stderr string
	code           int
}

// runPirun runs pirun with args in dir (the test's temp dir when "") with
// a hermetic PIRUN_DIR, waits up to timeout, and returns what it did.
func runPirun(t *testing.T, dir string, timeout time.Duration, args ...string) result {
	t.Helper()
	return runCmd(t, timeout, func(cmd *exec.Cmd) { cmd.Dir = dir }, args...)
}

// runCmd runs pirun with args and the test environment, adjusted by
// setup, waits up to timeout, and returns what it did.
func runCmd(t *testing.T, timeout time.Duration, setup func(*exec.Cmd), args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, pirunBin, args...)
	cmd.Env = testEnv(t)
	setup(cmd)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run pirun %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("pirun %v did not finish within %v\nstdout:\n%s\nstderr:\n%s", args, timeout, out.String(), errb.String())
	}
	return result{out.String(), errb.String(), code}
}

// testEnv is the environment of child processes: hermetic profiles.
func testEnv(t *testing.T) []string {
	env := []string{"PIRUN_DIR=" + pirunDir(t), "HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH")}
	if v := os.Getenv("PIRUN_LOGGING"); v != "" {
		env = append(env, "PIRUN_LOGGING="+v)
	}
	return env
}

var pirunDirs sync.Map // *testing.T → string

// pirunDir returns the test's PIRUN_DIR.
func pirunDir(t *testing.T) string {
	if d, ok := pirunDirs.Load(t); ok {
		return d.(string)
	}
	d := t.TempDir()
	pirunDirs.Store(t, d)
	t.Cleanup(func() { pirunDirs.Delete(t) })
	return d
}

// proc is a pirun child process that dies with the test.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startPirun starts pirun in the background; it is killed at cleanup.
func startPirun(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(pirunBin, args...)
	cmd.Env = testEnv(t)
	return startProc(t, cmd)
}

// startProc starts cmd in the background; it is killed at cleanup, and
// its output is logged when the test failed.
func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%v\nstdout:\n%s\nstderr:\n%s", cmd.Args, p.stdout, p.stderr)
		}
	})
	return p
}

// waitFor polls cond every 10ms until it holds, and fails the test when
// timeout passes first.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	startest.CheckFor(t, timeout, 10*time.Millisecond, func() error {
		if !cond() {
			return errors.New("waiting for " + what)
		}
		return nil
	})
}

// startHub starts `pirun hub --port 0` and returns the client and engine
// connection files once it wrote them; the profile's hub and engine logs
// are logged when the test failed.
func startHub(t *testing.T) (p *proc, clientConn, engineConn string) {
	t.Helper()
	p = startPirun(t, "hub", "--port", "0")
	logs := filepath.Join(pirunDir(t), "default", "log")
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, name := range []string{"hub.log", "engine.log"} {
			if b, err := os.ReadFile(filepath.Join(logs, name)); err == nil {
				t.Logf("%s:\n%s", name, b)
			}
		}
	})
	sec := filepath.Join(pirunDir(t), "default", "security")
	clientConn = filepath.Join(sec, "client-connection.toml")
	engineConn = filepath.Join(sec, "engine-connection.toml")
	waitFor(t, 20*time.Second, "the hub's connection files", func() bool {
		return strings.Contains(p.stdout.String(), "listening on")
	})
	return p, clientConn, engineConn
}

// testLogger logs to the test when PIRUN_LOGGING=debug, else nowhere.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("PIRUN_LOGGING") == "debug" {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// cluster is an in-process hub with local engines and a connected client.
type cluster struct {
	Hub    *hub.Hub
	Client *client.Client
	Output *syncBuffer // streamed engine output
}

// clusterConfig adjusts an in-process cluster.
type clusterConfig struct {
	engines   int
	dataDir   string
	outDir    string // files.write's folder; "" = dataDir
	maxSteps  uint64
	perDaemon bool // one daemon per engine, so engines talk through the hub
}

// startCluster starts an in-process hub and n engines (in one daemon, or
// one daemon each with perDaemon) and connects a client; everything stops
// at cleanup.
func startCluster(t testing.TB, cc clusterConfig) *cluster {
	t.Helper()
	log := testLogger(t)
	hb, err := hub.New(hub.Config{DontListen: true, Version: "test"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := hb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hb.Shutdown)
	dial := func(ctx context.Context, opts ...nats.Option) (*nats.Conn, error) {
		return nats.Connect("", append([]nats.Option{hb.InProcess(), nats.MaxReconnects(0)}, opts...)...)
	}
	daemons, each := 1, cc.engines
	if cc.perDaemon || cc.engines == 0 {
		daemons, each = cc.engines, 1
	}
	for range daemons {
		d, err := engine.New(engine.Config{Engines: each, DataDir: cc.dataDir, OutDir: cc.outDir, MaxSteps: cc.maxSteps, Version: "test"}, dial, log)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("engine daemon: %v", err)
			}
		})
	}
	nc, err := nats.Connect("", hb.InProcess(), nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	c, err := client.Connect(context.Background(), nc, client.Config{Output: out}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := c.WaitForEngines(wctx, cc.engines); err != nil {
		t.Fatal(err)
	}
	return &cluster{Hub: hb, Client: c, Output: out}
}

// startClusterB is startCluster for benchmarks.
func startClusterB(b *testing.B, engines int) *cluster {
	return startCluster(b, clusterConfig{engines: engines})
}
