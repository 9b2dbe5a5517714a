// This file defines the protocol messages exchanged by clients, the hub and
// engine daemons. See doc.go for who sends what on which subject.

package wire

import (
	"reflect"
	"strconv"
)

// Kind says what a Task asks an engine to do.
type Kind uint8

// The task kinds.
const (
	KindApply   Kind = iota + 1 // call Bundle with Payload = [refs, args, kwargs]
	KindMap                     // call Bundle once per item of Payload = [refs, [args...]]; result is a list
	KindExecute                 // run Code (named File) in the engine's namespace
	KindPush                    // Payload = [refs, {name: value}] set into the namespace
	KindPull                    // Names read from the namespace
	KindClear                   // empty the namespace
	KindPing                    // do nothing; used to wait for an engine's queue to drain
)

var kindNames = [...]string{"?", "apply", "map", "execute", "push", "pull", "clear", "ping"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Task is one unit of work for one or more engines of a daemon.
//
// A direct task names its Targets; a load-balanced task is sent to the hub
// with no targets and the hub fills in exactly one.
type Task struct {
	ID       uint64   `wire:"1"`  // unique within Client
	Client   string   `wire:"2"`  // the submitting client's id: results go to ClientResults(Client)
	Kind     Kind     `wire:"3"`  //
	Targets  []int    `wire:"4"`  // engine ids
	Bundle   int      `wire:"5"`  // 1 + index into Batch.Bundles; 0 = none
	Payload  []byte   `wire:"6"`  // codec-encoded arguments, see Kind
	Code     string   `wire:"7"`  // source text, KindExecute
	File     string   `wire:"8"`  // Code's file name, for error positions
	Names    []string `wire:"9"`  // KindPull
	Timeout  int64    `wire:"10"` // nanoseconds the task may run; 0 = the engine's default
	Retries  int      `wire:"11"` // load-balanced: how many times to rerun it when its engine dies
	Exclude  []int    `wire:"12"` // load-balanced: engines it must not run on
	Allowed  []int    `wire:"13"` // load-balanced: engines it may run on (follow); nil = any
	Attempt  int      `wire:"14"` // load-balanced: 0 for the first run
	Comm     *Comm    `wire:"15"` // SPMD job, nil outside one
	Label    string   `wire:"16"` // what the user called, for errors and status ("f at job.star:3")
	Balanced bool     `wire:"17"` // dispatched by the hub's scheduler: report Done to it
	// Owner is the client that submitted a detached task (Client is
	// DetachedClient): the only client that may abort it. Receivers set
	// it from the proven sender (the subject's last token), never from
	// what a client claims; "" for other tasks, whose owner is Client.
	Owner string `wire:"18"`
}

// OwnerID returns the client that owns t: Owner for a detached task,
// else Client.
func (t *Task) OwnerID() string {
	if t.Client == DetachedClient {
		return t.Owner
	}
	return t.Client
}

// Comm binds a task to an SPMD job: Ranks[i] is the engine id of rank i,
// and Daemons[i] the daemon that runs it (its identity, to which the hub
// pins the subjects of its messages: see CommTo).
type Comm struct {
	Job     string   `wire:"1"`
	Ranks   []int    `wire:"2"`
	Daemons []string `wire:"3"`
}

// Batch carries tasks that share function bundles, in one message.
type Batch struct {
	Bundles [][]byte `wire:"1"`
	Tasks   []Task   `wire:"2"`
}

// Status is the outcome of a task.
type Status uint8

// The task outcomes.
const (
	StatusOK         Status = iota + 1
	StatusError             // the task raised an error: Err
	StatusAborted           // aborted before or while it ran
	StatusTimeout           // ran past its timeout
	StatusLost              // its engine died or was lost
	StatusImpossible        // it can never run (no engine fits its constraints)
)

// Result is the outcome of one task on one engine.
type Result struct {
	Task     uint64 `wire:"1"`
	Engine   int    `wire:"2"`
	Status   Status `wire:"3"`
	Value    []byte `wire:"4"` // codec-encoded value when StatusOK
	Err      *Error `wire:"5"`
	Stdout   string `wire:"6"`
	Started  int64  `wire:"7"` // unix nanoseconds
	Finished int64  `wire:"8"`
	Attempt  int    `wire:"9"`
	Host     string `wire:"10"`
	// Items, for a KindMap task whose items failed: Value then holds a list
	// with None at each failed index, and Err describes the first failure.
	Items []ItemError `wire:"11"`
}

// ItemError is the failure of one item of a KindMap task.
type ItemError struct {
	Index int   `wire:"1"`
	Err   Error `wire:"2"`
}

// Error describes a failure on an engine, in the user's terms.
type Error struct {
	Type      ErrorKind `wire:"1"` // RemoteError, EngineError, TimeoutError, TaskAborted, ...
	Message   string    `wire:"2"`
	Backtrace string    `wire:"3"` // Starlark traceback naming the user's file:line
}

// Results carries finished tasks for one client.
type Results struct {
	Results []Result `wire:"1"`
}

// Output is a piece of print output streamed live from a running task.
type Output struct {
	Task   uint64 `wire:"1"`
	Engine int    `wire:"2"`
	Host   string `wire:"3"`
	Text   string `wire:"4"`
}

// Register is an engine daemon's request to join the hub.
type Register struct {
	Protocol int    `wire:"1"`
	Version  string `wire:"2"`
	GOOS     string `wire:"3"`
	GOARCH   string `wire:"4"`
	GOARM    string `wire:"5"`
	Host     string `wire:"6"`
	PID      int    `wire:"7"`
	Name     string `wire:"8"`
	Daemon   string `wire:"9"`  // the daemon's id: its subjects are DaemonTasksFrom(Daemon, s) and DaemonControlFrom(Daemon, s)
	Engines  int    `wire:"10"` // how many engines it runs
	Reclaim  []int  `wire:"11"` // ids it had before a reconnect, to keep
	Started  int64  `wire:"12"` // unix nanoseconds
	ConnID   uint64 `wire:"13"` // the daemon's NATS client id, so the hub sees its connection close
}

// Registered is the hub's answer to Register.
type Registered struct {
	HubID     string `wire:"1"`
	IDs       []int  `wire:"2"`
	Heartbeat int64  `wire:"3"` // nanoseconds between heartbeats
	Error     string `wire:"4"` // set when refused
	Protocol  int    `wire:"5"`
	Version   string `wire:"6"`
}

// EngineState is what an engine is doing.
type EngineState uint8

// The engine states.
const (
	StateIdle EngineState = iota + 1
	StateBusy
	StateStopping
)

func (s EngineState) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateBusy:
		return "busy"
	case StateStopping:
		return "stopping"
	}
	return "unknown"
}

// EngineStat is one engine's counters.
type EngineStat struct {
	ID     int         `wire:"1"`
	State  EngineState `wire:"2"`
	Task   string      `wire:"3"` // label of the running task
	Queue  int         `wire:"4"` // tasks waiting
	Done   uint64      `wire:"5"` // tasks finished
	Uptime int64       `wire:"6"` // nanoseconds
	Failed uint64      `wire:"7"` // tasks finished that did not succeed (error, timeout, abort)
	// TaskFor is how long the running task has run when the stat was
	// taken, in nanoseconds: a duration, not a start time, so that the
	// clocks of engine and hub need not agree.
	TaskFor int64 `wire:"8"`

	// The task ids of a verbose OpStats (never in heartbeats), of the
	// asking client's tasks only: waiting, running, and the last
	// MaxDoneIDs finished.
	QueueIDs []uint64 `wire:"20"`
	TaskIDs  []uint64 `wire:"21"`
	DoneIDs  []uint64 `wire:"22"`
}

// PulledFunction is the only field of the struct that stands for a
// function in a pull's result: its value is the function's bundle
// (package ship), which the host rebuilds into a callable.
const PulledFunction = "__pirun_function__"

// MaxDoneIDs is how many finished task ids an engine keeps for a
// verbose queue_status.
const MaxDoneIDs = 1000

// Heartbeat is a daemon's periodic sign of life.
type Heartbeat struct {
	Daemon  string       `wire:"1"`
	Engines []EngineStat `wire:"2"`
	Leaving bool         `wire:"3"` // the daemon is stopping cleanly: forget it now
	Host    *HostFigures `wire:"4"` // the machine's figures, for the dashboard; nil from older daemons
}

// HostFigures is one reading of an engine daemon's machine, for the
// dashboard; it mirrors engine/hostinfo.Figures field for field (wire
// imports nothing of pirun). Optional figures are nil when the machine
// has no source for them.
type HostFigures struct {
	CPUs       int       `wire:"1"`
	CPUPercent *float64  `wire:"2"` // 0-100, all CPUs, since the previous reading
	Load       []float64 `wire:"3"` // 1, 5 and 15 minute load averages
	MemUsed    uint64    `wire:"4"` // bytes
	MemTotal   uint64    `wire:"5"` // bytes
	TempC      *float64  `wire:"6"` // SoC temperature
	Throttled  *uint32   `wire:"7"` // the Raspberry Pi firmware's throttling word
}

// Jobs is a client's report of its calls in flight, sent on SubjectJobs
// about once a second while it has any (and once, empty, when the last
// ends), for the dashboard's jobs.
type Jobs struct {
	Client string `wire:"1"` // the client's id
	Who    string `wire:"2"` // user@host, for people
	Jobs   []Job  `wire:"3"`
}

// Job is one call in flight: a map, an apply to a view, ...
type Job struct {
	ID     uint64 `wire:"1"` // the id of its first task
	Label  string `wire:"2"` // what it runs, e.g. "map(f)"
	Done   int    `wire:"3"` // tasks finished
	Total  int    `wire:"4"` // tasks
	Failed int    `wire:"5"` // tasks finished that did not succeed
	Age    int64  `wire:"6"` // nanoseconds since it was submitted
}

// EngineInfo describes one engine for clients and status.
type EngineInfo struct {
	ID      int    `wire:"1"`
	Daemon  string `wire:"2"`
	Host    string `wire:"3"`
	Name    string `wire:"4"`
	PID     int    `wire:"5"`
	Arch    string `wire:"6"` // GOOS/GOARCH[/vGOARM]
	Version string `wire:"7"`
	Joined  int64  `wire:"8"` // unix nanoseconds
}

// EventKind says what happened to engines.
type EventKind uint8

// The event kinds.
const (
	EventJoined  EventKind = iota + 1
	EventLost              // died or unreachable
	EventStopped           // shut down on request
)

// Event announces engines joining or leaving; Tasks lists load-balanced
// tasks that were running on lost engines and will not be retried (their
// results follow as StatusLost).
type Event struct {
	Kind    EventKind    `wire:"1"`
	Engines []EngineInfo `wire:"2"`
	Epoch   uint64       `wire:"3"` // the roster version after this change
}

// ControlOp is an operation on engines' queues.
type ControlOp uint8

// The control operations.
const (
	OpAbort       ControlOp = iota + 1 // abort Tasks of Client (queued or running)
	OpRevoke                           // give back Tasks not started yet (reply: Revoked)
	OpStats                            // reply with EngineStats
	OpShutdown                         // stop Engines
	OpRegister                         // the hub does not know this daemon: register again
	OpResend                           // send Client the results of Tasks again, if the daemon still has them; the reply says which it received
	OpAbortClient                      // abort every task of Client, queued or running (its connection closed)
)

// Control is a request on a daemon's or the scheduler's control subject.
type Control struct {
	Op      ControlOp `wire:"1"`
	Client  string    `wire:"2"`
	Tasks   []uint64  `wire:"3"`
	Engines []int     `wire:"4"`
	Verbose bool      `wire:"20"` // OpStats: add Client's task ids (EngineStat.QueueIDs…)
}

// ControlReply answers a Control request.
type ControlReply struct {
	Revoked []uint64     `wire:"1"`
	Stats   []EngineStat `wire:"2"`
	Error   string       `wire:"3"`
	Aborted []TaskRef    `wire:"20"` // an admin abort: the tasks it stopped
	Known   []uint64     `wire:"21"` // OpResend: the asked tasks the daemon received
}

// Done reports finished load-balanced tasks to the hub's scheduler.
type Done struct {
	Engine int       `wire:"1"`
	Tasks  []TaskRef `wire:"2"`
}

// TaskRef names a task across clients.
type TaskRef struct {
	Client string `wire:"1"`
	ID     uint64 `wire:"2"`
}

// QueryOp is a client's question to the hub.
type QueryOp uint8

// The query operations.
const (
	QueryEngines     QueryOp = iota + 1 // the live engines
	QueryQueueStatus                    // per-engine queue and completed counts, and unassigned tasks
	QueryShutdown                       // stop Engines (all when empty and All is set)
	QueryTasks                          // task records: of Tasks, or the Limit most recent (records.go)
	QueryResults                        // send Client the kept results of Tasks (detached jobs), and their records
)

// Query is a client's request to the hub.
type Query struct {
	Op      QueryOp  `wire:"1"`
	Engines []int    `wire:"2"`
	All     bool     `wire:"3"`
	Client  string   `wire:"4"`
	Tasks   []uint64 `wire:"5"`  // QueryTasks, QueryResults
	Limit   int      `wire:"6"`  // QueryTasks without Tasks: how many records; 0 = all kept
	Verbose bool     `wire:"20"` // QueryQueueStatus: add the asking client's task ids
	Hub     bool     `wire:"21"` // QueryShutdown: stop every engine, then the hub (shutdown(hub=True))
}

// QueryReply answers a Query.
type QueryReply struct {
	HubID      string       `wire:"1"`
	Engines    []EngineInfo `wire:"2"`
	Stats      []EngineStat `wire:"3"`
	Unassigned int          `wire:"4"`
	Error      string       `wire:"5"`
	URL        string       `wire:"6"`
	Epoch      uint64       `wire:"7"` // the roster version Engines reflects
	Records    []TaskRecord `wire:"8"` // QueryTasks, QueryResults
	Unknown    []uint64     `wire:"9"` // QueryTasks, QueryResults: ids the hub has no record of
	// UnassignedIDs are the asking client's load-balanced tasks waiting
	// for an engine (a verbose QueryQueueStatus).
	UnassignedIDs []uint64 `wire:"20"`
}

// RefKind says what a payload reference stands for.
type RefKind uint8

// The payload reference kinds.
const (
	RefNamespace RefKind = iota + 1 // ref("Name"): the engine's value of Name
	RefFunction                     // a function shipped as Bundle (see package ship)
	RefUniverse                     // a universal builtin such as len, by Name
)

// PayloadRef is one entry of a payload's reference table: a value that
// is not plain data, which the codec writes as a reference to its index.
type PayloadRef struct {
	Kind   RefKind `wire:"1"`
	Name   string  `wire:"2"`
	Bundle []byte  `wire:"3"`
}

// EncodePayloadRefs writes a payload's reference table.
func EncodePayloadRefs(e *Encoder, refs []PayloadRef) {
	e.EncodeArrayHead(len(refs))
	for i := range refs {
		encodeStruct(e, reflect.ValueOf(&refs[i]).Elem())
	}
}

// DecodePayloadRefs reads a payload's reference table.
func DecodePayloadRefs(d *Decoder) ([]PayloadRef, error) {
	n, err := d.DecodeArrayHead()
	if err != nil {
		return nil, err
	}
	refs := make([]PayloadRef, 0, min(n, 64))
	for range n {
		var r PayloadRef
		if err := decodeStruct(d, reflect.ValueOf(&r).Elem(), 0); err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	return refs, nil
}
