// This file defines how the host runs a script: its text registered for
// shipping before it runs, load() relative to the loading file, and the
// host's predeclared names.

package api

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
)

// Script is one run of a Starlark program on the host.
type Script struct {
	Client  *client.Client
	Argv    []string
	Stdout  io.Writer // the script's own print output
	Connect func(ctx context.Context, profile, connect string) (*client.Client, error)

	once    sync.Once
	predecl starlark.StringDict
	err     error
	modules map[string]*loadEntry
}

type loadEntry struct {
	globals starlark.StringDict
	err     error
	loading bool
}

// Predeclared returns the host's predeclared names for this script.
func (s *Script) Predeclared() (starlark.StringDict, error) {
	s.once.Do(func() {
		s.predecl, s.err = starlib.Predeclared(starlib.Host, Builtins(s.Argv, s.Connect))
	})
	return s.predecl, s.err
}

// NewThread returns a thread for the script, bound to ctx.
func (s *Script) NewThread(ctx context.Context, name, dir string) *starlark.Thread {
	th := &starlark.Thread{
		Name: name,
		Print: func(_ *starlark.Thread, msg string) {
			fmt.Fprintln(s.Stdout, msg)
		},
		Load: s.load,
	}
	SetClient(th, s.Client)
	SetDir(th, dir)
	starlib.SetContext(th, ctx)
	return th
}

// Check compiles src, named path, without running it: syntax and resolve
// errors are reported (with file:line:col) before anything is sent.
func (s *Script) Check(path string, src []byte) error {
	predecl, err := s.Predeclared()
	if err != nil {
		return err
	}
	_, _, err = starlark.SourceProgramOptions(starlib.FileOptions(), path, src, predecl.Has)
	return starlib.Explain(src, err)
}

// RunFile runs the file at path; its text is registered before it runs.
func (s *Script) RunFile(ctx context.Context, path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read script: %w", err)
	}
	return s.Run(ctx, path, src)
}

// Run runs src, named path. Errors are *starlark.EvalError (with a
// traceback), syntax or resolve errors, or the cluster errors.
func (s *Script) Run(ctx context.Context, path string, src []byte) error {
	predecl, err := s.Predeclared()
	if err != nil {
		return err
	}
	if err := s.Client.Sources().Add(path, src); err != nil {
		return err
	}
	th := s.NewThread(ctx, "main", filepath.Dir(path))
	stop := starlib.BindCancel(ctx, th)
	defer stop()
	_, err = starlark.ExecFileOptions(starlib.FileOptions(), th, path, src, predecl)
	return starlib.Explain(src, err)
}

// Load is the script's thread.Load: it runs a module once, relative to
// the folder of the loading file, registering its text for shipping.
func (s *Script) Load(th *starlark.Thread, module string) (starlark.StringDict, error) {
	return s.load(th, module)
}

// load runs a module once, relative to the folder of the loading file.
func (s *Script) load(th *starlark.Thread, module string) (starlark.StringDict, error) {
	dir := filepath.Dir(th.CallFrame(0).Pos.Filename())
	path := module
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, module)
	}
	if s.modules == nil {
		s.modules = make(map[string]*loadEntry)
	}
	if e := s.modules[path]; e != nil {
		if e.loading {
			return nil, fmt.Errorf("load(%q): cycle: %s loads itself", module, path)
		}
		return e.globals, e.err
	}
	e := &loadEntry{loading: true}
	s.modules[path] = e
	e.globals, e.err = s.exec(th, path)
	e.loading = false
	return e.globals, e.err
}

func (s *Script) exec(parent *starlark.Thread, path string) (starlark.StringDict, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := s.Client.Sources().Add(path, src); err != nil {
		return nil, err
	}
	predecl, err := s.Predeclared()
	if err != nil {
		return nil, err
	}
	th := s.NewThread(starlib.Context(parent), "load "+path, filepath.Dir(path))
	stop := starlib.BindCancel(starlib.Context(parent), th)
	defer stop()
	globals, err := starlark.ExecFileOptions(starlib.FileOptions(), th, path, src, predecl)
	return globals, starlib.Explain(src, err)
}
