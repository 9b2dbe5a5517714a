// This file defines Profile, the schema of a profile's pirun.toml, and its
// defaults.

package conf

import (
	"log/slog"
	"time"
)

// The values of [Hub.TLS].
const (
	TLSOff   = "off"   // plain TCP
	TLSAuto  = "auto"  // the hub makes a private CA and certificate in security/
	TLSFiles = "files" // the certificate, key and CA come from Hub.TLSCert/TLSKey/TLSCA
)

// DefaultHubPort is the hub's port unless a profile says otherwise (NATS's
// usual port).
const DefaultHubPort = 4222

// Profile is a profile's pirun.toml: the hub, this machine's engines, the
// cluster launcher and its SSH hosts, and logging. Get one from
// [DefaultProfile] or [LoadProfile]; it is plain data, safe to copy.
type Profile struct {
	Hub     Hub     `toml:"hub"`
	Engine  Engine  `toml:"engine"`
	Cluster Cluster `toml:"cluster"`
	Hosts   []Host  `toml:"hosts"`
	Log     Log     `toml:"log"`
}

// Hub is the [hub] table: how `pirun hub` listens and judges engines.
type Hub struct {
	// IP is the address to listen on; "*" means all interfaces.
	IP string `toml:"ip"`
	// Port is the TCP port; 0 (or -1) picks a free one.
	Port int `toml:"port"`
	// Advertise is the host or host:port that engines and clients should
	// dial, written into the connection files; "" lets the hub derive it.
	Advertise string `toml:"advertise"`
	// MaxPayload is the largest NATS message, 1KiB..64MiB; larger values
	// are sent in chunks.
	MaxPayload Size `toml:"max_payload"`
	// Heartbeat is how often the hub expects a sign of life from engines.
	Heartbeat Duration `toml:"heartbeat"`
	// EngineTimeout is how long an engine may stay silent before the hub
	// doubts it. An engine is lost (its tasks retried) at once when its
	// connection closes; a silent one whose connection stays open (a
	// process stalled by a long allocation) is waited for until the hub's
	// PING/PONG finds it frozen (~16s) or for 30s. Longer than Heartbeat.
	EngineTimeout Duration `toml:"engine_timeout"`
	// TLS is TLSOff, TLSAuto or TLSFiles.
	TLS string `toml:"tls"`
	// TLSCert, TLSKey and TLSCA are PEM files used when TLS is TLSFiles;
	// TLSCA may be empty when the certificate comes from a public CA.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	TLSCA   string `toml:"tls_ca"`
	// TaskRecords is how many finished task records the hub keeps for
	// queue_status() and `pirun status`.
	TaskRecords int `toml:"task_records"`
	// ResultsMaxBytes bounds the results of detached=True jobs the hub
	// keeps on disk under the profile's state/ (SPEC §15); the oldest are
	// evicted past it.
	ResultsMaxBytes Size `toml:"results_max_bytes"`
	// DetachedMaxPending bounds the detached=True load-balanced tasks one
	// client may have pending (submitted, result not in); a submission
	// past it is refused whole, with the reason.
	DetachedMaxPending int `toml:"detached_max_pending"`
	// DetachedMaxBytes bounds the bytes of every client's pending
	// detached=True load-balanced tasks, which the hub keeps on disk
	// under state/detached.
	DetachedMaxBytes Size `toml:"detached_max_bytes"`
	// HTTP is the dashboard's address, host:port (":8080" for every
	// interface, which asks for a token); "" serves none.
	HTTP string `toml:"http"`
	// PartSize is the size of the parts of the large messages this
	// process sends; 0 means the largest the hub's max_payload allows.
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

// Cluster is the [cluster] table: `pirun cluster start`.
type Cluster struct {
	// Engines is the number of engines on this machine; 0 means one per CPU.
	Engines int `toml:"engines"`
	// SSH is the ssh program used to reach [[hosts]].
	SSH string `toml:"ssh"`
	// Grace is how long launched engines live on without their hub.
	Grace Duration `toml:"grace"`
}

// Host is one [[hosts]] table: a machine where `pirun cluster start`
// launches engines over SSH.
type Host struct {
	// Host is the name or address given to ssh (required).
	Host string `toml:"host"`
	// Engines is the number of engines there; 0 means one per remote CPU.
	Engines int `toml:"engines"`
	// User is the ssh login; "" leaves it to ssh (~/.ssh/config).
	User string `toml:"user"`
	// Pirun is the path of the pirun binary on the host.
	Pirun string `toml:"pirun"`
	// SSHOptions are extra arguments for ssh, such as ["-p", "2222"].
	SSHOptions []string `toml:"ssh_options"`
	// DataDir is the engines' data_dir on the host; "" keeps the default.
	DataDir string `toml:"data_dir"`
	// PushBinary copies this machine's matching pirun build to the host.
	PushBinary bool `toml:"push_binary"`
}

// Log is the [log] table: the hub's and engines' logs under the profile's
// log/ folder.
type Log struct {
	// Level is "debug", "info", "warn" or "error".
	Level string `toml:"level"`
	// MaxSize is the size at which a log file is rotated.
	MaxSize Size `toml:"max_size"`
	// MaxFiles is how many log files are kept, the current one included.
	MaxFiles int `toml:"max_files"`
}

// DefaultProfile returns the settings of a profile whose pirun.toml is
// empty. Each call returns a fresh value.
func DefaultProfile() Profile {
	return Profile{
		Hub: Hub{
			IP:              "127.0.0.1",
			Port:            DefaultHubPort,
			MaxPayload:      8 * MiB,
			Heartbeat:       Duration(time.Second),
			EngineTimeout:   Duration(3 * time.Second),
			TLS:             TLSOff,
			TaskRecords:     10000,
			ResultsMaxBytes: 256 * MiB,

			DetachedMaxPending: 100000,
			DetachedMaxBytes:   GiB,

			ReassemblyPerSender: DefaultReassemblyPerSender,
			ReassemblyTotal:     DefaultReassemblyTotal,
			ReassemblyStall:     DefaultReassemblyStall,
		},
		Engine:  DefaultEngine(),
		Cluster: Cluster{SSH: "ssh", Grace: Duration(time.Minute)},
		Log:     Log{Level: "info", MaxSize: 10 * MiB, MaxFiles: 3},
	}
}

// DefaultHost returns the defaults of one [[hosts]] table (everything but
// Host itself).
func DefaultHost() Host {
	return Host{Pirun: "pirun"}
}

// AllInterfaces reports whether the hub listens on every interface ("*",
// "0.0.0.0" or "::"), which `pirun hub` prints as a warning.
func (h Hub) AllInterfaces() bool {
	return h.IP == "*" || h.IP == "0.0.0.0" || h.IP == "::"
}

// SlogLevel returns Level as a slog.Level; an unknown level (which Validate
// rejects) counts as info.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Validate reports every invalid value of p in one [*Error] (with an empty
// File), or returns nil.
func (p Profile) Validate() error { return errorOf("", p.problems()) }
