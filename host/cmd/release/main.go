// Command release builds pirun's release artifacts into dist/: for
// linux/amd64, arm64, arm GOARM=7 and GOARM=6, a tarball with the binary,
// README.md, LICENSE and the systemd unit; a .deb per Debian architecture
// (amd64, arm64, armhf, and pirun-armv6 for the Pi Zero and Pi 1) made with
// dpkg-deb; and SHA256SUMS over them all.
//
// Run it from the repository:
//
//	go run ./host/cmd/release [--out dist] [--version V]
//
// The builds are reproducible: the same source, Go toolchain, dpkg and
// version give byte-identical files. Binaries are built with -trimpath,
// -buildvcs=false and CGO_ENABLED=0, the version (default: git describe
// --tags --always --dirty) stamped into `pirun version` with -ldflags -X.
// Every archive entry gets the time SOURCE_DATE_EPOCH (default: the last
// commit's time), owner 0:0 and a sorted place.
//
// The packaging files (unit, maintainer scripts, the commented
// /etc/pirun/pirun.toml) live in host/launch/service/, shared with `pirun
// engine install-service`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"
)

// target is one platform pirun is released for.
type target struct {
	name    string // in file names: amd64, arm64, armv7, armv6
	goarch  string
	goarm   string
	debArch string // the Debian architecture
	debPkg  string // the Debian package name
}

// targets are the release platforms, in release order.
var targets = []target{
	{"amd64", "amd64", "", "amd64", "pirun"},
	{"arm64", "arm64", "", "arm64", "pirun"},
	{"armv7", "arm", "7", "armhf", "pirun"},
	{"armv6", "arm", "6", "armhf", "pirun-armv6"},
}

// release is one run: where the sources are, what it makes, and when.
type release struct {
	repo    string    // the repository root
	out     string    // the output folder
	version string    // as `pirun version` prints it
	epoch   time.Time // the time of every archive entry
	work    string    // a scratch folder, removed at the end
	man     []byte    // pirun.1, made from the help of a pirun built for this machine
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	out := fs.String("out", "dist", "the folder the artifacts go to (created when missing)")
	version := fs.String("version", "", "the version to stamp (default: git describe --tags --always --dirty)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./host/cmd/release [--out dist] [--version V]\n\n"+
			"Builds pirun's tarballs, .debs and SHA256SUMS, reproducibly (SOURCE_DATE_EPOCH\n"+
			"sets the archive times; default: the last commit's time).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; run with --help for usage", fs.Arg(0))
	}
	r, err := newRelease(ctx, *out, *version)
	if err != nil {
		return err
	}
	defer os.RemoveAll(r.work)
	files, err := r.build(ctx)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Println(filepath.Join(r.out, f))
	}
	return nil
}

// newRelease finds the repository, the version and the time, and makes
// the output and scratch folders.
func newRelease(ctx context.Context, out, version string) (*release, error) {
	repo, err := output(ctx, "", "git", "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("run it inside pirun's git repository: %w", err)
	}
	if version == "" {
		if version, err = output(ctx, repo, "git", "describe", "--tags", "--always", "--dirty"); err != nil {
			return nil, err
		}
	}
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	epoch, err := sourceDate(ctx, repo)
	if err != nil {
		return nil, err
	}
	if out, err = filepath.Abs(out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "pirun-release-")
	if err != nil {
		return nil, err
	}
	return &release{repo: repo, out: out, version: version, epoch: epoch, work: work}, nil
}

// checkVersion accepts what git describe prints: letters, digits, '.',
// '-', '+' and '~', starting with a letter or digit.
func checkVersion(v string) error {
	ok := v != "" && strings.IndexFunc(v[:1], isAlnum) == 0
	for _, r := range v {
		ok = ok && (isAlnum(r) || strings.ContainsRune(".-+~", r))
	}
	if !ok {
		return fmt.Errorf("version %q: use letters, digits, '.', '-', '+' or '~', starting with a letter or digit (as git describe prints)", v)
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
