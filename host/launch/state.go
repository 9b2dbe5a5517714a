// This file defines State, the file in which `pirun cluster start` records
// the processes it started, so that `pirun cluster stop` finds them even
// after the master was restarted.

package launch

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/pirun-dev/pirun/conf"
)

// The kinds of [Child].
const (
	KindLocal = "local" // a `pirun engine` process on this machine
	KindSSH   = "ssh"   // an ssh process running `pirun engine` on a host
)

// State is a started cluster: the supervisor process that runs the hub,
// and the processes it started. It is plain data.
type State struct {
	Profile    string    `json:"profile"`
	Supervisor Process   `json:"supervisor"`
	Started    time.Time `json:"started"`
	HubURL     string    `json:"hub_url"`
	Dashboard  string    `json:"dashboard,omitempty"` // the hub's dashboard URL, with its token ([hub] http)
	Grace      string    `json:"grace"`               // how long launched engines outlive their hub
	Ready      bool      `json:"ready"`               // the engines joined, or the wait for them ended
	Log        string    `json:"log,omitempty"`       // the supervisor's log file
	Children   []Child   `json:"children"`
}

// Child is a process the supervisor started.
type Child struct {
	Kind      string   `json:"kind"` // KindLocal or KindSSH
	Host      string   `json:"host"` // the [[hosts]] host, or "localhost"
	Process   Process  `json:"process"`
	Command   []string `json:"command"`
	Engines   int      `json:"engines"`              // asked for; 0 means one per CPU there
	RemotePID int      `json:"remote_pid,omitempty"` // the engine process on the host
	Pushed    string   `json:"pushed,omitempty"`     // the build copied there, if any
	Joined    []int    `json:"joined,omitempty"`     // the ids of its engines in the hub
	Error     string   `json:"error,omitempty"`      // why it failed or ended, if it did
}

// WriteState writes s to path atomically (a temporary file of mode 0600
// in the same folder, renamed over path).
func WriteState(path string, s *State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("write cluster state: %w", err)
	}
	if err := conf.WriteFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write cluster state: %w", err)
	}
	return nil
}

// ReadState reads the state file at path. A missing file gives an error
// for which errors.Is(err, fs.ErrNotExist) holds.
func ReadState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cluster state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read cluster state %s: %w (remove the file if no cluster of this profile runs)", path, err)
	}
	return &s, nil
}
