// Package integration holds pirun's tests across real processes and real
// NATS servers: the pirun binary built once per test run, .star files run
// against a cluster with an assert module, scripts/ run through the CLI
// with golden output, SIGKILLed engines, and the dependency rules between
// packages.
//
// Set PIRUN_LOGGING=debug to see the hub's and engines' logs.
package integration
