// Package cli holds the words of pirun's command line: the help of every
// command ([HelpOf]), how flags are parsed and their mistakes reported
// ([Parse]: -n4, -n 4, -n=4 and --n=4 alike, with a "did you mean"
// from [Suggest]), the name of each flag's value ([Placeholder]), the
// cluster flags of every command that runs Starlark ([RunFlags]), the
// shell completion scripts and candidates ([Completion],
// [CompleteLines]) and the man page ([Man]).
//
// It imports only the standard library, conf (profile folders) and
// host/launch's service names; host/cmd/pirun defines the other flags
// and runs the commands, and host/cmd/release ships the man page.
package cli
