// This file defines the tests of message passing across processes: the
// comm .star files on engines of separate daemons (messages through the
// hub rather than in memory), and `pirun mpi` as a user runs it.

package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStarCommAcrossDaemons runs every testdata/comm_*.star with one
// engine per daemon, so that every message goes through the hub (TestStar
// runs them with the engines of one daemon, which talk in memory).
func TestStarCommAcrossDaemons(t *testing.T) {
	files, err := filepath.Glob("testdata/comm_*.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/comm_*.star files (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			runStarFile(t, file, clusterConfig{perDaemon: true})
		})
	}
}

// writeScript writes a script into a new folder and returns the folder.
func writeScript(t *testing.T, name, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestMPICommand runs `pirun mpi` as a user would: output prefixed by
// rank, argv on every rank, exit status 1 when any rank fails with every
// failed rank's error on stderr, usage errors with status 2.
func TestMPICommand(t *testing.T) {
	for _, test := range []struct {
		name, script string
		args         []string
		code         int
		stdout       []string // lines, in any order
		stderr       []string // substrings
	}{
		{
			name:   "ranks and argv",
			script: "print(comm.rank, comm.size, argv)\nprint(comm.allreduce(comm.rank))\n",
			args:   []string{"mpi", "-n", "3", "job.star", "a", "--b"},
			stdout: []string{`[rank 0] 0 3 ["a", "--b"]`, `[rank 1] 1 3 ["a", "--b"]`, `[rank 2] 2 3 ["a", "--b"]`, "[rank 0] 3", "[rank 1] 3", "[rank 2] 3"},
		},
		{
			name:   "a failing rank",
			script: "if comm.rank == 1:\n    fail(\"bad input\")\ncomm.barrier()\n",
			args:   []string{"mpi", "-n", "2", "job.star"},
			code:   1,
			stderr: []string{
				"rank 0 (engine 0 on HOST): Traceback (most recent call last):\n  job.star:3:13: in <toplevel>\nError in comm.barrier: comm.barrier: rank 1 (engine 1 on HOST) failed: fail: bad input",
				"rank 1 (engine 1 on HOST): Traceback (most recent call last):\n  job.star:2:9: in <toplevel>\nError in fail: fail: bad input",
			},
		},
		{
			name:   "the seed's wrong tag",
			script: "if comm.rank == 0:\n    comm.send([1, 2], dest=1, tag=0)\nelse:\n    comm.recv(source=0, tag=10)\n",
			args:   []string{"mpi", "-n", "2", "job.star"},
			code:   1,
			stderr: []string{"rank 1 (engine 1 on HOST): Traceback (most recent call last):\n  job.star:4:14: in <toplevel>\nError in comm.recv: comm.recv: deadlock: every rank waits for a message that can never come: rank 0 has finished; rank 1 waits recv(source=0, tag=10) (unreceived: source=0 tag=0)"},
		},
		{
			name:   "different collectives",
			script: "if comm.rank == 0:\n    comm.bcast(1)\nelse:\n    comm.barrier()\n    print(\"passed\")\n",
			args:   []string{"mpi", "-n", "3", "job.star"},
			code:   1,
			stderr: []string{
				"rank 0 (engine 0 on HOST): ",
				"rank 1 (engine 1 on HOST): ",
				"rank 2 (engine 2 on HOST): ",
				"collective mismatch: the ranks called different collectives (or roots) at collective #1 on comm: rank 0 called bcast(root=0); ranks 1, 2 called barrier()",
			},
		},
		{
			name:   "a syntax error before anything runs",
			script: "print(comm.rank\n",
			args:   []string{"mpi", "-n", "2", "job.star"},
			code:   1,
			stderr: []string{"job.star:2:1: got end of file, want ')'"},
		},
		{name: "no script", args: []string{"mpi", "-n", "2"}, code: 2, stderr: []string{"pirun mpi: missing SCRIPT.star"}},
		{name: "bad -n", args: []string{"mpi", "-n", "-1", "job.star"}, code: 2, stderr: []string{"-n -1: want a number of ranks ≥ 1"}},
		{name: "unknown flag", args: []string{"mpi", "--ranks", "2", "job.star"}, code: 2, stderr: []string{"unknown flag --ranks"}},
	} {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			dir := writeScript(t, "job.star", test.script)
			r := runPirun(t, dir, cliTimeout, test.args...)
			hide := hostHider(hostname(t))
			stdout, stderr := hide(r.stdout), hide(r.stderr)
			if r.code != test.code {
				t.Errorf("pirun %v = exit %d, want %d\nstdout:\n%s\nstderr:\n%s", test.args, r.code, test.code, stdout, stderr)
			}
			got := lines(stdout)
			for _, want := range test.stdout {
				if !containsLine(got, want) {
					t.Errorf("pirun %v: stdout lacks the line %q\nstdout:\n%s", test.args, want, stdout)
				}
			}
			if len(got) != len(test.stdout) {
				t.Errorf("pirun %v: %d lines on stdout, want %d\nstdout:\n%s", test.args, len(got), len(test.stdout), stdout)
			}
			for _, want := range test.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("pirun %v: stderr lacks %q\nstderr:\n%s", test.args, want, stderr)
				}
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestMPIHelp: pirun mpi --help describes the command on stdout.
func TestMPIHelp(t *testing.T) {
	r := runPirun(t, "", cliTimeout, "mpi", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage: pirun mpi [flags] SCRIPT.star [ARGS...]") || !strings.Contains(r.stdout, "-n N") {
		t.Errorf("pirun mpi --help = exit %d, stdout %q; want 0 and the usage with -n", r.code, r.stdout)
	}
}

// TestMPIConnectedAndKilled runs `pirun mpi --connect` on two engine
// processes, which exchange messages through the hub over TCP, then
// SIGKILLs the process of rank 1 while rank 0 waits for it: rank 0 fails
// naming rank 1, and pirun mpi exits with status 1.
func TestMPIConnectedAndKilled(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	dir := writeScript(t, "job.star", `
x = comm.sendrecv(comm.rank, dest=1 - comm.rank)
print("pid", engine.pid, "got", x, "sum", comm.allreduce(x))
if comm.rank == 1:
    time.sleep(60)
comm.recv(source=1)
`)
	client := startPirun(t, "mpi", "--connect", clientConn, "-n", "2", filepath.Join(dir, "job.star"))
	pidLine := regexp.MustCompile(`(?m)^\[rank 1\] pid (\d+) got 0 sum 1$`)
	waitFor(t, 30*time.Second, "rank 1 to print its pid", func() bool {
		return pidLine.MatchString(client.stdout.String()) && strings.Contains(client.stdout.String(), "[rank 0] pid ")
	})
	pid, _ := strconv.Atoi(pidLine.FindStringSubmatch(client.stdout.String())[1])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-client.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("pirun mpi did not finish within 30s of rank 1's kill")
	}
	stderr := client.stderr.String()
	if code := client.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("pirun mpi = exit %d, want 1\nstderr:\n%s", code, stderr)
	}
	for _, want := range []string{"rank 0 (engine ", "comm.recv: rank 1 (engine ", "rank 1 (engine "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
