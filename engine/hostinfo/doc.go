// Package hostinfo reads the figures of the machine an engine runs on: CPU
// use, load averages, memory and, on a Raspberry Pi, the SoC temperature and
// the firmware's throttling flags. The hub shows them on its dashboard.
//
// It reads /proc and /sys itself rather than through a library: five small
// files cover what the dashboard shows, the code builds the same on every
// release target with CGO_ENABLED=0, and both roots can be pointed at a fake
// tree in tests. A source that is missing or unreadable is left out of
// [Figures], never filled with a made-up value.
package hostinfo
