package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/startest"
)

// TestStar runs every integration/testdata/*.star file against a fresh
// in-process cluster (2 engines unless `# pirun:engines>=N` asks for more);
// the test process is the client, and Client() in a file is that client.
// The engines read the file's folder as data_dir, except in a file with
// "# pirun:data_dir=gates" (see gateDir): a task such a file needs still
// queued or running polls for a gate the script opens, never sleeps.
func TestStar(t *testing.T) {
	files, err := filepath.Glob("testdata/*.star")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.star files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			runStarFile(t, file, clusterConfig{})
		})
	}
}

var separator = regexp.MustCompile(`(?m)^---$`)

// runStarFile runs one .star file on a fresh cluster shaped by cc (its
// engines and dataDir are set here).
func runStarFile(t *testing.T, file string, cc clusterConfig) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := startest.ParseDirectives(file, src)
	if err != nil {
		t.Fatal(err)
	}
	engines := max(dirs.MinEngines(), 2)
	timeout := dirs.Timeout()
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	cc.engines, cc.dataDir = engines, filepath.Dir(abs)
	var gates starlark.StringDict
	switch v := dirs["data_dir"]; v {
	case "":
	case "gates":
		cc.dataDir, gates = gateDir(t)
	default:
		t.Fatalf("%s: # pirun:data_dir=%s: want gates (or no such directive for the file's folder)", file, v)
	}
	if cc.outDir == "" {
		cc.outDir = t.TempDir() // never write into testdata
	}
	cl := startCluster(t, cc)
	// The chunks run under the file's name with the file's line numbers;
	// shipping finds functions in this text (separators blanked).
	if err := cl.Client.Sources().Add(abs, separator.ReplaceAll(src, nil)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := &api.Script{Client: cl.Client, Stdout: &out}
	predecl, err := s.Predeclared()
	if err != nil {
		t.Fatal(err)
	}
	if gates != nil {
		all := starlark.StringDict{}
		for name, v := range predecl {
			all[name] = v
		}
		for name, v := range gates {
			all[name] = v
		}
		predecl = all
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	startest.RunFile(t, abs, src, startest.Options{
		Predeclared: predecl,
		Context:     ctx,
		Setup: func(th *starlark.Thread) {
			api.SetClient(th, cl.Client)
			api.SetDir(th, filepath.Dir(abs))
			starlib.SetContext(th, ctx)
		},
		Load: s.Load,
	})
	if t.Failed() {
		t.Logf("script output:\n%s\nengine output:\n%s", out.String(), cl.Output)
	}
	_ = strings.TrimSpace
}

// gateDir makes the engines' data_dir of a file with "# pirun:data_dir=gates":
// a fresh empty folder, and the script's open_gate(name), which creates
// the file name in it. A task that must stay running or queued until the
// script is done with it polls files.exists(name) instead of sleeping for
// a time a loaded machine may exceed.
func gateDir(t *testing.T) (string, starlark.StringDict) {
	dir := t.TempDir()
	open := starlark.NewBuiltin("open_gate", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var name string
		if err := starlark.UnpackArgs(b.Name(), args, kw, "name", &name); err != nil {
			return nil, err
		}
		if !filepath.IsLocal(name) || filepath.Base(name) != name {
			return nil, fmt.Errorf("%s: %q: want a plain file name", b.Name(), name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return starlark.None, nil
	})
	return dir, starlark.StringDict{"open_gate": open}
}
