// Package dash serves the live dashboard of SPEC §13: a page showing every
// engine, every host's figures, the jobs in flight, tasks/s over the last
// minutes and the tail of each engine's output, updated once a second over
// server-sent events; GET /api/status gives the same data as JSON.
//
// It imports nothing of the hub. The hub feeds it through [Source], whose
// Snapshot is plain data defined here, and through two cheap feeds it may
// keep whether or not anyone watches: a [RateMeter] counting finished tasks
// and a [Tail] of engine output. Snapshots are built only while a page is
// open or someone polls the API, so a dashboard nobody watches costs the
// hub an idle listening socket and nothing else; Config.Watching tells the
// hub when pages come and go, for feeds it would rather keep only then.
//
// When the listen address is not loopback every request needs the token
// that [Server.Token] returns: `?token=` once, then an HttpOnly cookie.
//
// Routes (GET and HEAD only):
//
//	/             the page (assets embedded: index.html, app.css, app.js)
//	/api/status   the Snapshot as JSON
//	/api/events   server-sent events: a "status" event with the Snapshot, each second
package dash
