// Package cluster starts and reaches the parts of a pirun cluster from the
// master's side: it opens a profile (its folders, pirun.toml and logs),
// starts the profile's hub and writes its connection files ([OpenHub]),
// connects clients with a connection file, directly or through an ssh
// tunnel ([Connect]), runs the zero-set-up cluster of one process
// ([StartLocal]), asks a hub for its status ([Status]), and supervises
// the cluster that `pirun cluster start` launches here and over ssh
// ([RunSupervisor], [StartDetached], [Stop]).
//
// It is the room between host/cmd/pirun (flags, exit codes) and the parts
// it builds: host/hub, host/client and host/launch. Like every host
// package it never imports engine: the in-process engines of [StartLocal]
// are started by a function that main passes in.
//
// Errors that a user fixes in a flag, a file or the environment are
// *[ConfigError] (pirun exits 2); those of a cluster that cannot be
// reached are *client.ClusterError (exit 3).
package cluster
