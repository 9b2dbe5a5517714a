//go:build !linux

// This file defines the huge-page advice where transparent huge pages do
// not exist: there is none.

package num

// adviseHuge does nothing outside Linux.
func adviseHuge([]byte) {}

// endHugePages does nothing outside Linux.
func endHugePages() {}
