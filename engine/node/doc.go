// Package node is the engine side of a machine: what `pirun engine` runs
// once main has read its flags and its connection file. [Run] dials the
// hub (trying again while none answers), builds the engine daemon
// (package engine) with the [engine] settings, and runs it; it says on
// the terminal what happens (connecting, joined as engines 4-7, hub lost,
// reconnected, stopping), and it ends the engines once their launcher or
// their hub has been gone for the grace period, so that `pirun cluster
// start` leaves no orphan on a Pi.
//
// Like every engine package it never imports host: main opens any ssh
// tunnel and reads the connection file before calling [Run].
package node
