// This file defines Engine, the [engine] table, and its defaults.

package conf

import "time"

// Engine is the [engine] table of a pirun.toml or of a standalone file given
// to `pirun engine --config FILE`: the settings of one `pirun engine`
// process and of the engines it runs. Get one from [DefaultEngine],
// [LoadEngine] or a [Profile]; it is plain data, safe to copy.
type Engine struct {
	// Connect is an engine connection file or a nats:// or tls:// URL; ""
	// means the profile's security/engine-connection.toml.
	Connect string `toml:"connect"`
	// Engines is the number of engines in the process; 0 means one per CPU.
	Engines int `toml:"engines"`
	// Name is shown in output prefixes and `pirun status`; "" means the
	// host name.
	Name string `toml:"name"`
	// DataDir is the only folder the files module may read; "" means none
	// was configured and the caller decides (the zero-set-up mode uses the
	// script's folder).
	DataDir string `toml:"data_dir"`
	// OutDir is the only folder the files module may write; "" means the
	// caller decides: the profile's out/ folder for `pirun engine`, the
	// data_dir in the zero-set-up mode.
	OutDir string `toml:"out_dir"`
	// MaxOutBytes bounds the total size of OutDir's files, those there
	// before the process started included (overwriting counts the
	// difference, removing gives the bytes back); 0 means the default, 1GiB.
	MaxOutBytes Size `toml:"max_out_bytes"`
	// Preload lists .star files run into every engine's namespace at start,
	// in order.
	Preload []string `toml:"preload"`
	// Startup is Starlark code run into every namespace at start, after
	// Preload (ipyparallel's startup_command).
	Startup string `toml:"startup"`
	// MaxSteps bounds the Starlark steps of one task; 0 means no bound.
	MaxSteps uint64 `toml:"max_steps"`
	// TaskTimeout bounds one task's run time; 0 means none.
	TaskTimeout Duration `toml:"task_timeout"`
	// MaxArrayBytes bounds one num array's elements, in bytes: a larger
	// array is an error naming its shape and this limit, not an
	// out-of-memory kill. 0 means a share of this machine's memory: half
	// of it divided among the process's engines (see the engine package).
	MaxArrayBytes Size `toml:"max_array_bytes"`
	// MaxMemory bounds the memory of one engine's task, in bytes: a task
	// whose allocations pass it fails with a MemoryError naming it,
	// instead of the process being killed for lack of memory. 0 means a
	// share of this machine's memory: (RAM × 0.8 − 256MiB) divided among
	// the process's engines (see the engine package).
	MaxMemory Size `toml:"max_memory"`
	// Heartbeat is how often the process tells the hub it is alive.
	Heartbeat Duration `toml:"heartbeat"`
	// ReconnectWait is the pause between attempts to reach a lost hub.
	ReconnectWait Duration `toml:"reconnect_wait"`
	// Grace is how long to keep trying without a hub before exiting; 0
	// means reconnect forever.
	Grace Duration `toml:"grace"`
	// SSH is a [user@]gateway[:port] to tunnel the hub connection through
	// with the system ssh; "" connects directly.
	SSH string `toml:"ssh"`
	// PartSize is the size of the parts of the large messages this
	// process sends; 0 means the largest the hub's max_payload allows
	// (1 MiB parts for a message larger than that).
	PartSize Size `toml:"part_size"`
	// ReassemblyPerSender bounds the bytes of one sender's incomplete
	// large messages this process holds, and so the largest message it
	// takes from one sender.
	ReassemblyPerSender Size `toml:"reassembly_per_sender"`
	// ReassemblyTotal bounds the bytes of all incomplete large messages.
	ReassemblyTotal Size `toml:"reassembly_total"`
	// ReassemblyStall is how long an incomplete message may go without a
	// part before it is dropped.
	ReassemblyStall Duration `toml:"reassembly_stall"`
}

// The defaults of the large-message settings of [hub] and [engine] (the
// transport package's own defaults).
const (
	DefaultReassemblyPerSender = 288 * MiB // a 256 MiB value (SPEC §6) with its task
	DefaultReassemblyTotal     = GiB
	DefaultReassemblyStall     = Duration(30 * time.Second)
)

// DefaultEngine returns the settings of an empty [engine] table. Each call
// returns a fresh value.
func DefaultEngine() Engine {
	return Engine{
		Heartbeat:     Duration(time.Second),
		ReconnectWait: Duration(time.Second),

		ReassemblyPerSender: DefaultReassemblyPerSender,
		ReassemblyTotal:     DefaultReassemblyTotal,
		ReassemblyStall:     DefaultReassemblyStall,
	}
}

// Validate reports every invalid value of e in one [*Error] (with an empty
// File, keys under "engine."), or returns nil.
func (e Engine) Validate() error { return errorOf("", e.problems("engine")) }
