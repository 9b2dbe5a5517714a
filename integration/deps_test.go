package integration

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/pirun-dev/pirun"

// TestDependencies enforces the import rules between pirun's packages
// (STYLE §2.4) on non-test imports, with `go list -deps`.
func TestDependencies(t *testing.T) {
	for _, rule := range []struct {
		pkg       string
		forbidden []string
		allowed   []string // when set, every non-standard dependency must have one of these prefixes
		why       string
	}{
		{pkg: module + "/conf", allowed: []string{module + "/conf", "github.com/BurntSushi/toml"},
			why: "conf is TOML schemas only"},
		{pkg: module + "/starlib/...", allowed: []string{module + "/starlib", "go.starlark.net", "golang.org/x/sys", "golang.org/x/term", "github.com/chzyer/readline", "gonum.org/v1/gonum"},
			why: "starlib stays transport-agnostic and fuzzable without a server"},
		{pkg: module + "/host/sched", allowed: []string{module + "/host/sched", module + "/conf", "github.com/BurntSushi/toml"},
			why: "the scheduler is pure"},
		{pkg: module + "/host/launch", allowed: []string{module + "/host/launch", module + "/conf", "github.com/BurntSushi/toml"},
			why: "the launcher runs ssh and processes; it needs no NATS and no engine"},
		{pkg: module + "/host/cluster", forbidden: []string{module + "/engine", module + "/host/api", module + "/host/repl", module + "/host/kernel", module + "/host/bench", module + "/host/cli"},
			why: "the cluster's room starts and reaches hubs, supervisors and clients; it never imports engines (main passes them in) nor the Starlark face, the REPL or the CLI's words above it"},
		{pkg: module + "/host/cli", allowed: []string{module + "/host/cli", module + "/host/launch", module + "/conf", "github.com/BurntSushi/toml"},
			why: "the command line's words (help, completion, man page) are text: no NATS, no Starlark, no engine"},
		{pkg: module + "/engine/node", forbidden: []string{module + "/host", "github.com/nats-io/nats-server"},
			why: "the engine process runner is engine side: main reads its connection file and opens its tunnel"},
		{pkg: module + "/engine/...", forbidden: []string{module + "/host", "github.com/nats-io/nats-server"},
			why: "engines never import host or the server"},
		{pkg: module + "/host", forbidden: []string{module + "/engine"},
			why: "host and engine meet only through wire over NATS"},
		{pkg: module + "/host/hub", forbidden: []string{module + "/engine", module + "/host/client", module + "/host/api", module + "/host/repl", module + "/host/bench"},
			why: "the hub never imports the client side; they meet through wire over NATS"},
		{pkg: module + "/host/client", forbidden: []string{module + "/engine", module + "/host/hub", module + "/host/api", "github.com/nats-io/nats-server"},
			why: "the client never imports the hub (nor its server) nor the Starlark API above it"},
		{pkg: module + "/host/api", forbidden: []string{module + "/engine", module + "/host/hub", module + "/host/repl", "github.com/nats-io/nats-server"},
			why: "the client API never imports the hub (nor its server) nor the REPL that uses it"},
		{pkg: module + "/host/repl", forbidden: []string{module + "/engine", module + "/host/hub", "github.com/nats-io/nats-server"},
			why: "the REPL is a client; it never imports the hub"},
		{pkg: module + "/host/kernel", forbidden: []string{module + "/engine", module + "/host/hub", "github.com/nats-io/nats-server"},
			why: "the Jupyter kernel is a client; it never imports the hub"},
		{pkg: module + "/host/bench", forbidden: []string{module + "/engine", module + "/host/hub", "github.com/nats-io/nats-server"},
			why: "the benchmark runner is a client; it never imports the hub"},
		{pkg: module + "/starlib/wire", forbidden: []string{module + "/conf", module + "/host", module + "/engine", module + "/transport", module + "/starlib/ship", module + "/starlib/num"},
			why: "wire imports nothing of pirun: the codec, envelopes, subjects and error kinds are the one vocabulary every side shares"},
		{pkg: module + "/transport", allowed: []string{module + "/transport", module + "/starlib/wire", "github.com/nats-io/nats.go", "github.com/nats-io/nkeys", "github.com/nats-io/nuid", "github.com/klauspost/compress", "golang.org/x/crypto", "golang.org/x/sys", "go.starlark.net"},
			why: "the transport is NATS and wire's framing only (go.starlark.net comes in only through wire)"},
		{pkg: module + "/engine/comm", forbidden: []string{module + "/host", module + "/engine/", "github.com/nats-io/nats-server"},
			why: "the communicator never imports the engine daemon above it, the host or the server"},
	} {
		for _, dep := range deps(t, rule.pkg) {
			if isStd(dep) {
				continue
			}
			for _, f := range rule.forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s imports %s: %s", rule.pkg, dep, rule.why)
				}
			}
			if rule.allowed != nil && !hasPrefix(dep, rule.allowed) {
				t.Errorf("%s depends on %s: %s", rule.pkg, dep, rule.why)
			}
		}
	}
}

// TestDirectImports checks rules on a package's own imports (not its
// dependencies'): the transport imports no Starlark itself.
func TestDirectImports(t *testing.T) {
	for _, rule := range []struct {
		pkg       string
		forbidden []string
		why       string
	}{
		{pkg: module + "/transport", forbidden: []string{"go.starlark.net"},
			why: "the transport moves bytes: NATS yes, Starlark no"},
	} {
		out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", rule.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", rule.pkg, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			for _, f := range rule.forbidden {
				if imp == f || strings.HasPrefix(imp, f+"/") {
					t.Errorf("%s imports %s: %s", rule.pkg, imp, rule.why)
				}
			}
		}
	}
}

func deps(t *testing.T, pkg string) []string {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func isStd(p string) bool { return !strings.Contains(strings.SplitN(p, "/", 2)[0], ".") }

func hasPrefix(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

// TestOnlyMainExits checks that only host/cmd/pirun (and the release
// builder host/cmd/release) reads os.Args,
// installs signal handlers or calls os.Exit (non-test files).
func TestOnlyMainExits(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}} {{join .GoFiles \",\"}}", module+"/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	banned := map[string]bool{"os.Args": true, "os.Exit": true, "signal.Notify": true, "signal.NotifyContext": true}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, files, _ := strings.Cut(line, " ")
		if strings.HasSuffix(dir, "/host/cmd/pirun") || strings.HasSuffix(dir, "/host/cmd/release") {
			continue
		}
		fset := token.NewFileSet()
		for _, file := range strings.Split(files, ",") { // non-test files of this build
			f, err := parser.ParseFile(fset, filepath.Join(dir, file), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && banned[x.Name+"."+sel.Sel.Name] {
					t.Errorf("%s: %s.%s outside host/cmd/pirun", fset.Position(sel.Pos()), x.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}
