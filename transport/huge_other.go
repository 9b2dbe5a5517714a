//go:build !linux

package transport

// adviseHuge does nothing where transparent huge pages are not asked for
// with madvise.
func adviseHuge([]byte) {}

// endHuge does nothing where adviseHuge does nothing.
func endHuge([]byte) {}
