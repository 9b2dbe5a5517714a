package comm

import "errors"

// The causes a task's context is cancelled with. The engine cancels a
// task with them, and a rank that ends by one tells the other ranks which.
var (
	ErrAborted  = errors.New("task aborted")
	ErrTimeout  = errors.New("task timeout")
	ErrShutdown = errors.New("engine shut down")
)
