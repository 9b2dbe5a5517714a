// This file defines how a Report reads: the table `pirun bench` prints.

package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
)

// WriteTable writes rep as the table `pirun bench` prints; local says the
// engines ran in the measuring process.
func (rep Report) WriteTable(w io.Writer, local bool) {
	where := "a cluster"
	if local {
		where = "local engines in this process"
	}
	fmt.Fprintf(w, "pirun bench: %d %s on %d %s (%s)\n\n", rep.Engines, plural(rep.Engines, "engine"),
		rep.Hosts, plural(rep.Hosts, "host"), where)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\tmeasured\n")
	fmt.Fprintf(tw, "apply_sync round trip, one engine\t%s µs median, %s µs p99 (%d calls)\n",
		decimal(rep.LatencyUS), decimal(rep.LatencyP99US), rep.Samples)
	fmt.Fprintf(tw, "load-balanced map, %s tasks, chunksize 1\t%s tasks/s\n", count(rep.Tasks), thousands(rep.Chunk1PerSec))
	fmt.Fprintf(tw, "the same, chunksize 100\t%s items/s\n", thousands(rep.Chunk100PerSec))
	fmt.Fprintf(tw, "%s separate apply_async, then wait\t%s tasks/s\n", count(rep.Tasks), thousands(rep.AsyncPerSec))
	fmt.Fprintf(tw, "push + pull of a %s-int list, one engine\t%.3f s\n", count(rep.PushPullInts), rep.PushPullS)
	fmt.Fprintf(tw, "scatter + gather of a %s list over %d %s\t%.3f s\n", count(rep.ScatterInts),
		rep.Engines, plural(rep.Engines, "engine"), rep.ScatterGatherS)
	printBandwidth(tw, rep)
	tw.Flush()
}

// printBandwidth writes the per-engine push and pull bandwidth: the
// median over engines, and each engine when there are few.
func printBandwidth(w io.Writer, rep Report) {
	if len(rep.PerEngine) == 0 {
		return
	}
	push, pull := make([]float64, 0, len(rep.PerEngine)), make([]float64, 0, len(rep.PerEngine))
	for _, pe := range rep.PerEngine {
		push, pull = append(push, pe.PushMBps), append(pull, pe.PullMBps)
	}
	fmt.Fprintf(w, "push / pull of a %s string, per engine\t%s / %s MB/s median of %d (slowest %s / %s)\n",
		bytesCount(rep.BlobBytes), decimal(medianOf(push)), decimal(medianOf(pull)), len(push),
		decimal(slices.Min(push)), decimal(slices.Min(pull)))
	if len(rep.PerEngine) > 16 {
		return
	}
	for _, pe := range rep.PerEngine {
		fmt.Fprintf(w, "  engine %d (%s)\t%s / %s MB/s\n", pe.ID, pe.Host, decimal(pe.PushMBps), decimal(pe.PullMBps))
	}
}

// medianOf returns the median of xs, which is not empty.
func medianOf(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// decimal formats x with three significant digits below 1000, else as
// thousands.
func decimal(x float64) string {
	switch {
	case x >= 1000:
		return thousands(x)
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// thousands formats x rounded to an integer with comma separators.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// count formats n as 10k or 2M when it is round, else as thousands.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return thousands(float64(n))
}

// bytesCount formats n bytes in KiB or MiB when round.
func bytesCount(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}
