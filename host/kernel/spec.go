// This file defines the kernelspec: the kernel.json that tells Jupyter
// how to start pirun's kernel, and the folders it goes into.

package kernel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// SpecName is the kernelspec's name: the folder under kernels/.
const SpecName = "pirun"

// Spec is a kernel.json.
type Spec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env,omitempty"`
	Metadata      map[string]any    `json:"metadata"`
}

// NewSpec returns the kernelspec that starts binary (an absolute path)
// as "binary kernel -f {connection_file} flags...".
func NewSpec(binary string, flags []string) Spec {
	argv := append([]string{binary, "kernel", "-f", "{connection_file}"}, flags...)
	return Spec{Argv: argv, DisplayName: "pirun (Starlark)", Language: "starlark",
		InterruptMode: "message", Metadata: map[string]any{}}
}

// SpecDir returns the folder the kernelspec goes into, as
// "jupyter kernelspec install" chooses it: with user, the user's Jupyter
// data folder ($JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter, else
// ~/.local/share/jupyter); with prefix, PREFIX/share/jupyter; else the
// system folder /usr/local/share/jupyter.
func SpecDir(user bool, prefix string, getenv func(string) string) (string, error) {
	var data string
	switch {
	case user && prefix != "":
		return "", fmt.Errorf("--user and --prefix: give one of them")
	case prefix != "":
		abs, err := filepath.Abs(prefix)
		if err != nil {
			return "", fmt.Errorf("--prefix %s: %w", prefix, err)
		}
		data = filepath.Join(abs, "share", "jupyter")
	case user && getenv("JUPYTER_DATA_DIR") != "":
		data = getenv("JUPYTER_DATA_DIR")
	case user && getenv("XDG_DATA_HOME") != "":
		data = filepath.Join(getenv("XDG_DATA_HOME"), "jupyter")
	case user:
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("--user: no home folder: %w", err)
		}
		data = filepath.Join(home, ".local", "share", "jupyter")
	default:
		data = filepath.Join("/usr", "local", "share", "jupyter")
	}
	return filepath.Join(data, "kernels", SpecName), nil
}

// WriteSpec writes s as dir/kernel.json, creating dir.
func WriteSpec(dir string, s Spec) error {
	body, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kernelspec: %w (without root, use --user or --prefix DIR)", err)
	}
	path := filepath.Join(dir, "kernel.json")
	if err := os.WriteFile(path, append(body, '\n'), 0o644); err != nil {
		return fmt.Errorf("kernelspec: %w (without root, use --user or --prefix DIR)", err)
	}
	return nil
}
