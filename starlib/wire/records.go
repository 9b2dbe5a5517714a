// This file defines the task records of SPEC §15: what clients tell the
// hub of their tasks, what the hub keeps and answers, and the pseudo
// client that detached jobs' results go to.

package wire

// SubjectRecords receives clients' Records: their tasks submitted and
// finished, which the hub keeps as TaskRecords.
const SubjectRecords = "pirun.hub.rec"

// RecordsFrom is the subject on which client c sends its Records: the hub
// lets a client publish only with its own id as the last token, so no
// client can write another's records.
func RecordsFrom(c string) string { return SubjectRecords + "." + c }

// DetachedClient is the Client of a detached=True task: engines send its
// results to ClientResults(DetachedClient), which only the hub reads; the
// hub keeps them and forwards them to the task's owner and to whoever
// asks with QueryResults. So a detached job outlives its client, and the
// abort of a client whose connection closed leaves it alone.
const DetachedClient = "detached"

// Records is a batch of a client's task events, sent on SubjectRecords.
type Records struct {
	Client string      `wire:"1"` // the reporting client's id (the owner)
	Events []TaskEvent `wire:"2"`
}

// TaskEvent is one step of a task's life as its client saw it.
type TaskEvent struct {
	Task     uint64 `wire:"1"`
	Engine   int    `wire:"2"` // the engine, -1 for load-balanced tasks until known
	Status   Status `wire:"3"` // 0 when submitted, else the outcome
	Time     int64  `wire:"4"` // unix nanoseconds: submitted, or finished
	Started  int64  `wire:"5"` // unix nanoseconds, with an outcome
	Label    string `wire:"6"` // what was called, at submission
	Detached bool   `wire:"7"` // submitted with detached=True
	Engines  []int  `wire:"8"` // at submission of a direct task: its engines
}

// TaskRecord is the hub's record of one task.
type TaskRecord struct {
	ID        uint64 `wire:"1"`
	Client    string `wire:"2"` // the submitting client ("" until it is known)
	Engine    int    `wire:"3"` // -1 until known
	Status    Status `wire:"4"` // 0 while pending
	Submitted int64  `wire:"5"` // unix nanoseconds
	Started   int64  `wire:"6"`
	Completed int64  `wire:"7"`
	Label     string `wire:"8"`
	Detached  bool   `wire:"9"`
	Result    bool   `wire:"10"` // the hub keeps its result (detached jobs)
	Note      string `wire:"11"` // why a detached result is gone: evicted past the bound
	Engines   []int  `wire:"12"` // a direct task's engines (one result each)
	Done      []int  `wire:"13"` // the engines whose results the hub has
	// Segment is the one file of records written before Segments;
	// read when loading them, no longer written.
	Segment string `wire:"14"`
	// Segments are the hub's files under state/results holding the
	// task's results (one per engine of a direct task on several
	// engines may land in different files).
	Segments []string `wire:"15"`
	// Failed is the first failure among a direct task's engines while
	// others have not answered: the task's status once they all have.
	Failed Status `wire:"16"`
}

// Pending reports whether the task has not finished as far as the hub knows.
func (r *TaskRecord) Pending() bool { return r.Status == 0 }

// String names a status for people: "pending" for 0.
func (s Status) String() string {
	switch s {
	case 0:
		return "pending"
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	case StatusAborted:
		return "aborted"
	case StatusTimeout:
		return "timeout"
	case StatusLost:
		return "lost"
	case StatusImpossible:
		return "impossible"
	}
	return "unknown"
}

// TaskStore is what the hub writes to state/ for detached jobs: the
// load-balanced tasks not yet finished (to run again after a restart).
type TaskStore struct {
	Bundles [][]byte `wire:"1"`
	Tasks   []Task   `wire:"2"`
	Senders []string `wire:"3"` // the client that submitted each of Tasks
}

// RecordStore is the file of task records the hub keeps under state/.
type RecordStore struct {
	Records []TaskRecord `wire:"1"`
}
