// This file defines the errors of using a cluster: it cannot be reached,
// it has too few engines, or a task names an engine that is gone. The
// first two map to exit status 3.

package client

import (
	"errors"
	"fmt"
)

// ClusterError means the cluster cannot be used: no hub, refused
// credentials, a timeout talking to it. pirun exits with status 3.
type ClusterError struct{ Msg string }

func (e *ClusterError) Error() string { return e.Msg }

// NoEnginesError means fewer engines than needed are connected.
type NoEnginesError struct {
	Want, Have int
	Hint       string // how to start engines
	Cause      error
}

func (e *NoEnginesError) Error() string {
	msg := fmt.Sprintf("NoEnginesError: %d engine(s) connected, %d needed", e.Have, e.Want)
	if e.Cause != nil {
		msg += " (" + e.Cause.Error() + ")"
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// EngineGoneError means a task was addressed to an engine that is not
// (or no longer) connected.
type EngineGoneError struct{ ID int }

func (e *EngineGoneError) Error() string {
	return fmt.Sprintf("EngineError: engine %d is not connected (c.ids lists the engines there are)", e.ID)
}

// IsCluster reports whether err means the cluster was unavailable (exit 3).
func IsCluster(err error) bool {
	var ce *ClusterError
	var ne *NoEnginesError
	return errors.As(err, &ce) || errors.As(err, &ne)
}
