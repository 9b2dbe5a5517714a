package dashtest

import "time"

// PageState is what a test reads from the rendered dashboard.
type PageState struct {
	Search  string // location.search: the token must leave the address
	Conn    string // the connection badge: "live" once the event stream is up
	Engines []struct{ ID, Host, Arch, State, Done string }
	Jobs    []struct{ ID, Done, Total, Count string }
	Hosts   []struct {
		Host   string
		Gauges []string
		Flags  []string
	}
	Output int    // engine output tails shown
	Rate   string // the tasks/s line's SVG path
}

const readPage = `(() => {
  const txt = (root, sel) => { const e = root.querySelector(sel); return e ? e.textContent : ""; };
  if (!document.querySelector("#conn")) return {search: location.search}; // not loaded yet
  return {
    search: location.search,
    conn: document.querySelector("#conn").dataset.state,
    engines: [...document.querySelectorAll("#engines tbody tr")].map(tr => ({
      id: txt(tr, "td.c-id"), host: txt(tr, "td.c-host"), arch: txt(tr, "td.c-arch"), state: txt(tr, "td.c-state"), done: txt(tr, "td.c-done") })),
    jobs: [...document.querySelectorAll("#jobs .job")].map(d => ({
      id: d.dataset.jobId, done: d.dataset.done, total: d.dataset.total, count: txt(d, ".count") })),
    hosts: [...document.querySelectorAll("#hosts .host")].map(d => ({
      host: txt(d, ".host-head b"),
      gauges: [...d.querySelectorAll(".gauge")].map(g => g.dataset.gauge),
      flags: [...d.querySelectorAll(".flag")].map(f => f.textContent) })),
    output: document.querySelectorAll("#output .out").length,
    rate: document.querySelector("#rate-line").getAttribute("d") || "",
  };
})()`

// State polls the page until cond holds, failing the test after d with
// what the page showed last.
func (b *Browser) State(what string, d time.Duration, cond func(PageState) bool) PageState {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var st PageState
		b.Eval(readPage, &st)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not within %v; the page shows %+v", what, d, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
