// Package conf defines pirun's configuration files: their schemas, their
// defaults, strict loading and validation. It reads files and nothing else:
// no flags, no network, no os.Args.
//
// # Files
//
// A profile is a folder (see [ProfileDir] and [Paths]) holding:
//
//   - pirun.toml: a [Profile] — [hub], [engine], [cluster], [[hosts]], [log];
//   - security/client-connection.toml and security/engine-connection.toml:
//     [ConnFile]s, mode 0600 in a 0700 folder, written by the hub;
//   - log/ and state/.
//
// An engine's own settings are the [engine] table ([Engine]) of a pirun.toml
// or of a standalone file given to `pirun engine --config FILE`
// ([LoadEngine]). Commented examples of both files are embedded
// ([ExampleProfile], [ExampleEngine]); `pirun profile create` writes the
// first with [WriteExampleProfile], and the tests decode both strictly.
//
// # Loading
//
// Every loader goes the same way: defaults ([DefaultProfile],
// [DefaultEngine]) → the TOML file decoded into them → every key the schema
// does not know is an error → Validate. Loading reports every problem at once
// in one [*Error], one line per [Problem], each naming the file, the line when
// known, the dotted key (engine.task_timeout, hosts[1].host) and what was
// expected. Unknown keys are errors, with the closest known key suggested.
// Relative paths in a file (data_dir, preload, connect, TLS files) are
// resolved against that file's folder, and a leading "~/" against $HOME.
//
// Durations are strings such as "30s" ([Duration]); sizes are strings such
// as "8MiB" or integers of bytes ([Size]).
//
// # Precedence
//
// A flag beats a PIRUN_* environment variable, which beats the TOML file,
// which beats the default. Flags belong to package main; [Profile.ApplyEnv]
// and [Engine.ApplyEnv] apply the environment on top of a loaded file.
//
// # Warnings
//
// Warnings are kept apart from errors, as nats-server does: [LoadConnFile]
// and [EnsureDirs] return them as a list of sentences for the caller to log.
//
// Every type here is plain data: copy it freely. No function keeps state
// between calls, so all of them are safe for concurrent use on distinct
// values.
package conf
