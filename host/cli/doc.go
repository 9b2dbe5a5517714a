// Package cli holds the words of pirun's command line: the help of every
// command ([HelpOf]), how flags are parsed and their mistakes reported
// ([Parse]: -n4, -n 4, -n=4 and --n=4 alike), the shell completion
// scripts ([Completion]) and the man page ([Man]).
//
// It imports only the standard library and host/launch's service names;
// host/cmd/pirun defines the flags and runs the commands, and
// host/cmd/release ships the man page.
package cli
