// This file defines the cluster flags that every command running Starlark
// shares: a script run, pirun mpi, the REPL, bench and the kernel.

package cli

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/pirun-dev/pirun/conf"
)

// RunFlags are the flags of a command that runs on a cluster: local
// engines, or the cluster of a connection file or profile.
type RunFlags struct {
	N       int
	Quiet   bool
	Verbose bool
	Connect string
	Profile string
	SSH     string
	HTTP    string        // the local hub's dashboard address
	Timeout time.Duration // pirun mpi: for the engines the ranks need
}

// Register declares the flags on fs; n says what -n counts for the
// command.
func (f *RunFlags) Register(fs *flag.FlagSet, n string) {
	fs.IntVar(&f.N, "n", 0, n)
	fs.BoolVar(&f.Quiet, "quiet", false, "do not stream engine print output")
	fs.BoolVar(&f.Verbose, "v", false, "debug logs on stderr")
	fs.StringVar(&f.Connect, "connect", "", "a client connection file: use that cluster instead of local engines")
	fs.StringVar(&f.Profile, "profile", "", "use the cluster of this profile (its security/client-connection.toml)")
	fs.StringVar(&f.SSH, "ssh", "", "reach the hub through an ssh tunnel to [user@]gateway[:port] (with --connect or --profile)")
	fs.StringVar(&f.HTTP, "http", "", "serve the local cluster's live dashboard at host:port, e.g. 127.0.0.1:8080")
}

// CheckEngines says what is wrong with -n, or "": it must be 0 (one
// engine per CPU) or more.
func (f RunFlags) CheckEngines() string {
	if f.N < 0 {
		return fmt.Sprintf("-n %d: want a number of engines ≥ 1 (or 0 for one per CPU)", f.N)
	}
	return ""
}

// Grace is a flag.Value for pirun engine --grace: a duration such as
// 60s, or 0.
type Grace conf.Duration

func (g *Grace) String() string {
	if g == nil {
		return "0s"
	}
	return time.Duration(*g).String()
}

func (g *Grace) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return errors.New("expected a duration such as 60s, or 0")
	}
	*g = Grace(d)
	return nil
}
