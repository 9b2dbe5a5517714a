// This file defines the build of every target and SHA256SUMS.

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pirun-dev/pirun/host/cli"
)

// build makes every artifact into r.out and returns their names, SHA256SUMS
// last.
func (r *release) build(ctx context.Context) ([]string, error) {
	if err := r.manPage(ctx); err != nil {
		return nil, err
	}
	var files []string
	for _, t := range targets {
		bin, err := r.goBuild(ctx, t)
		if err != nil {
			return nil, err
		}
		tgz, err := r.tarball(t, bin)
		if err != nil {
			return nil, err
		}
		deb, err := r.deb(ctx, t, bin)
		if err != nil {
			return nil, err
		}
		files = append(files, tgz, deb)
	}
	slices.Sort(files)
	if err := r.sums(files); err != nil {
		return nil, err
	}
	return append(files, "SHA256SUMS"), nil
}

// goBuild builds pirun for t into the scratch folder.
func (r *release) goBuild(ctx context.Context, t target) (string, error) {
	bin := filepath.Join(r.work, "pirun-"+t.name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+r.version, "-o", bin, "./host/cmd/pirun")
	cmd.Dir = r.repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+t.goarch, "GOARM="+t.goarm, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build for linux/%s: %w\n%s", t.name, err, out)
	}
	return bin, nil
}

// manPage makes pirun.1 from the help text of a pirun built for this
// machine (the release builds may not run here).
func (r *release) manPage(ctx context.Context) error {
	bin := filepath.Join(r.work, "pirun-help")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-o", bin, "./host/cmd/pirun")
	cmd.Dir = r.repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build for the man page: %w\n%s", err, out)
	}
	man, err := cli.Man(r.version, r.epoch.UTC().Format(time.DateOnly), func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, bin, append([]string{"help"}, args...)...).Output()
		return string(out), err
	})
	r.man = []byte(man)
	return err
}

// sums writes SHA256SUMS over files, in sha256sum's format.
func (r *release) sums(files []string) error {
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(r.out, f))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), f)
	}
	return os.WriteFile(filepath.Join(r.out, "SHA256SUMS"), []byte(b.String()), 0o644)
}

// sourceDate is SOURCE_DATE_EPOCH, else the time of the last commit.
func sourceDate(ctx context.Context, repo string) (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		var err error
		if s, err = output(ctx, repo, "git", "log", "-1", "--format=%ct"); err != nil {
			return time.Time{}, err
		}
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: expected seconds since 1970, such as 1764900000", s)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// output runs a command in dir and returns its trimmed standard output.
func output(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(string(out)), nil
}

// describeRE matches git describe's "TAG-N-gHASH[-dirty]".
var describeRE = regexp.MustCompile(`^(.+)-([0-9]+)-g([0-9a-f]+)(-dirty)?$`)

// debVersion turns a version as git describe prints it into a Debian
// version that sorts the same way: a leading "v" goes, "1.2-3-gabc" (3
// commits after 1.2) becomes "1.2+3.gabc", another '-' becomes '~' (a
// pre-release: 1.2~rc1 sorts before 1.2), a bare commit hash becomes
// "0.0~gitHASH" and another version without a leading digit "0.0~" and it.
func debVersion(v string) string {
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		v = v[1:]
	}
	if m := describeRE.FindStringSubmatch(v); m != nil {
		v = m[1] + "+" + m[2] + ".g" + m[3]
		if m[4] != "" {
			v += ".dirty"
		}
	}
	if m := hashRE.FindStringSubmatch(v); m != nil {
		v = "0.0~git" + m[1]
		if m[2] != "" {
			v += ".dirty"
		}
		return v
	}
	v = strings.ReplaceAll(v, "-", "~")
	if v[0] < '0' || v[0] > '9' {
		v = "0.0~" + v
	}
	return v
}

// hashRE matches git describe --always without a tag: "HASH[-dirty]".
var hashRE = regexp.MustCompile(`^([0-9a-f]{7,40})(-dirty)?$`)
