// This file defines Install: the kernelspec that `pirun kernel install`
// writes for this binary.

package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Install writes the kernelspec for this binary (see [SpecDir] for user
// and prefix): the kernel connects to profile's cluster, or starts n local
// engines (0: one per CPU). It returns the folder it wrote.
func Install(user bool, prefix, profile string, n int, getenv func(string) string) (string, error) {
	var flags []string
	switch {
	case profile != "" && n != 0:
		return "", fmt.Errorf("--profile and -n: a kernel either connects to a profile's cluster or starts local engines; give one")
	case n < 0:
		return "", fmt.Errorf("-n %d: want a number of engines ≥ 1 (or 0 for one per CPU)", n)
	case profile != "":
		flags = []string{"--profile", profile}
	case n > 0:
		flags = []string{"-n", strconv.Itoa(n)}
	}
	binary, err := os.Executable()
	if err == nil {
		binary, err = filepath.EvalSymlinks(binary)
	}
	if err != nil {
		return "", fmt.Errorf("cannot find this binary's path: %w", err)
	}
	dir, err := SpecDir(user, prefix, getenv)
	if err == nil {
		err = WriteSpec(dir, NewSpec(binary, flags))
	}
	return dir, err
}
