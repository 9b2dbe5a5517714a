// This file defines `pirun version`.

package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"

	"github.com/pirun-dev/pirun/host/launch"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// version is the release; set with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// goarm returns the GOARM this binary was built with, or "".
func goarm() string { return launch.ThisPlatform().GOARM }

func runVersion(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun version", flag.ContinueOnError)
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return unexpectedArg(e, fs)
	}
	fmt.Fprintf(e.stdout, "pirun %s\nprotocol %d\n%s\n%s\n", version, wire.ProtocolVersion, runtime.Version(), launch.ThisPlatform())
	return exitOK
}
