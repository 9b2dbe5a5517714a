// This file defines the hub's registry file: the engine ids it has given
// out, kept across restarts so that engines which come back after a hub
// restart keep their ids and no new engine is given an id in use.

package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/pirun-dev/pirun/conf"
)

// registryFile is the JSON kept in Config.Registry.
type registryFile struct {
	HubID   string           `json:"hub_id"`
	NextID  int              `json:"next_id"`
	Daemons map[string][]int `json:"daemons"` // daemon id -> its engine ids, when last seen
}

// loadRegistry reads the registry file, if any. A file of another hub
// identity is ignored: its ids mean nothing to the engines of this one.
func (h *Hub) loadRegistry() error {
	if h.cfg.Registry == "" {
		return nil
	}
	data, err := os.ReadFile(h.cfg.Registry)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load hub registry: %w", err)
	}
	var r registryFile
	if err := json.Unmarshal(data, &r); err != nil || r.NextID < 0 {
		h.log.Warn("ignore a damaged hub registry; engines get new ids", "file", h.cfg.Registry, "err", err)
		return nil
	}
	if r.HubID != h.id {
		return nil
	}
	h.nextID = r.NextID
	for _, ids := range r.Daemons {
		if m := slices.Max(append(ids, -1)); m >= h.nextID {
			h.nextID = m + 1
		}
	}
	return nil
}

// saveRegistryLocked writes the registry file; h.mu is held. A failure is
// logged: the hub works on, only a restart would give new ids.
func (h *Hub) saveRegistryLocked() {
	if h.cfg.Registry == "" {
		return
	}
	r := registryFile{HubID: h.id, NextID: h.nextID, Daemons: make(map[string][]int, len(h.daemons))}
	for id, d := range h.daemons {
		r.Daemons[id] = d.ids
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		err = conf.WriteFileAtomic(h.cfg.Registry, data)
	}
	if err != nil {
		h.log.Warn("save hub registry", "file", h.cfg.Registry, "err", err)
	}
}
