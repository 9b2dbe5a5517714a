// Package launch starts pirun engines on other machines with the system ssh
// program and keeps track of what `pirun cluster start` started.
//
// It builds ssh command lines ([Target], [EngineCommand]) so that
// ~/.ssh/config and ssh agents apply, detects a host's platform from
// `uname -sm` ([ParsePlatform]) and copies the matching pirun build there
// ([Push]). It records a started cluster in a state file ([State]) whose
// processes are identified by pid and start time ([Process]), so that a
// later `pirun cluster stop` never signals a process that merely reuses a
// recorded pid. [Tunnel] forwards a local port to a hub through an ssh
// gateway. [Unit] and [ServiceInstall] are pirun-engine.service, the systemd
// service that runs a Pi's engines: the .deb that host/cmd/release builds
// ships the unit and maintainer scripts of the service/ folder, and `pirun
// engine install-service` installs the same for a binary copied by hand.
//
// [TuneGC] sets a pirun process's garbage collector for its role.
//
// The package imports only the standard library and conf; it never imports engine
// or host/cmd.
package launch
