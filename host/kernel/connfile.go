// This file defines ConnInfo, the JSON connection file with which Jupyter
// starts a kernel: where its five sockets listen and the signing key.

package kernel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// ConnInfo is a Jupyter connection file. It is plain data.
type ConnInfo struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnInfo reads and checks the connection file at path. Its error
// names the file and every problem found in it.
func ReadConnInfo(path string) (ConnInfo, error) {
	var ci ConnInfo
	data, err := os.ReadFile(path)
	if err != nil {
		return ci, fmt.Errorf("connection file: %w (Jupyter passes it as -f {connection_file})", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ci); err != nil {
		return ci, fmt.Errorf("connection file %s: not Jupyter's JSON connection file: %v", path, err)
	}
	if err := ci.Validate(); err != nil {
		return ci, fmt.Errorf("connection file %s: %w", path, err)
	}
	return ci, nil
}

// Validate reports every problem of ci in one error.
func (ci *ConnInfo) Validate() error {
	if ci.Transport == "" {
		ci.Transport = "tcp"
	}
	if ci.SignatureScheme == "" {
		ci.SignatureScheme = "hmac-sha256"
	}
	var problems []string
	if ci.Transport != "tcp" {
		problems = append(problems, fmt.Sprintf("transport %q: this kernel listens on tcp only", ci.Transport))
	}
	if ci.IP == "" {
		problems = append(problems, `ip: missing (e.g. "127.0.0.1")`)
	}
	for _, p := range ci.ports() {
		if *p.port < 0 || *p.port > 65535 {
			problems = append(problems, fmt.Sprintf("%s: %d is not a port (0 to 65535)", p.name, *p.port))
		}
	}
	if ci.Key != "" && ci.SignatureScheme != "hmac-sha256" {
		problems = append(problems, fmt.Sprintf("signature_scheme %q: want hmac-sha256", ci.SignatureScheme))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// namedPort is one of a connection's ports and its key in the file.
type namedPort struct {
	name string
	port *int
}

func (ci *ConnInfo) ports() []namedPort {
	return []namedPort{{"shell_port", &ci.ShellPort}, {"control_port", &ci.ControlPort},
		{"iopub_port", &ci.IOPubPort}, {"stdin_port", &ci.StdinPort}, {"hb_port", &ci.HBPort}}
}

// endpoint returns the ZeroMQ address of port.
func (ci *ConnInfo) endpoint(port int) string {
	return fmt.Sprintf("%s://%s:%d", ci.Transport, ci.IP, port)
}
