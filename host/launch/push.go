// This file defines Push: copying a pirun build to a host over ssh, once.

package launch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// PushPath is where [Push] puts pirun on a host, under the login's home.
const PushPath = "~/.pirun/bin/pirun"

// Probe asks a host for its platform (`uname -sm`) and the SHA-256 of the
// file at dest ("" when there is none or sha256sum is missing), in one ssh
// connection.
func Probe(ctx context.Context, program string, t Target, dest string) (Platform, string, error) {
	remote := "uname -sm; sha256sum " + QuotePath(dest) + " 2>/dev/null || true"
	out, err := Output(ctx, program, t, "uname", remote, nil)
	if err != nil {
		return Platform{}, "", err
	}
	first, rest, _ := strings.Cut(string(out), "\n")
	p, err := ParsePlatform(first)
	if err != nil {
		return p, "", fmt.Errorf("%s: %w", t, err)
	}
	sum, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	return p, sum, nil
}

// FileSHA256 returns the hex SHA-256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Push copies the local file to dest on t (mode 0755, replaced atomically
// by a rename, its folder created), unless remoteSum, the SHA-256 that
// [Probe] found there, already matches. It reports whether it copied.
func Push(ctx context.Context, program string, t Target, local, dest, remoteSum string) (bool, error) {
	sum, err := FileSHA256(local)
	if err != nil {
		return false, fmt.Errorf("push pirun to %s: %w", t, err)
	}
	if sum == remoteSum {
		return false, nil
	}
	f, err := os.Open(local)
	if err != nil {
		return false, fmt.Errorf("push pirun to %s: %w", t, err)
	}
	defer f.Close()
	tmp := dest + ".tmp"
	remote := fmt.Sprintf("mkdir -p %s && cat > %s && chmod 755 %s && mv -f %s %s",
		QuotePath(path.Dir(dest)), QuotePath(tmp), QuotePath(tmp), QuotePath(tmp), QuotePath(dest))
	if _, err := Output(ctx, program, t, "copy pirun to "+dest, remote, f); err != nil {
		return false, err
	}
	return true, nil
}
