// This file defines the documentation that inspection (a notebook's
// shift-tab, ? in jupyter console) shows for the host's builtins, the
// client's methods and the views' methods, keyed by the builtin's
// qualified name or the value's type.

package repl

// builtinDocs holds a def-style stanza and a sentence or two for each
// Starlark-visible name of the host API (SPEC §5).
var builtinDocs = map[string]string{
	"Client": `Client(profile=None, connect=None)

The cluster of this run (c = Client() is defined already); Client(profile="rpi") or
Client(connect=".../client-connection.toml") connects to another one.
c.ids, c[:] (DirectView), c[i], c.load_balanced_view(), c.wait_for_engines(n, timeout=30),
c.queue_status(), c.shutdown(targets=[...]), c.clear().`,
	"remote": `remote(f, targets=None, block=True)

Returns a callable that runs f on every target engine and returns the list of results.`,
	"parallel": `parallel(f, targets=None, block=True)

Returns pf: pf(seq, ...) splits its sequence arguments across the targets, calls f on each
chunk and concatenates the lists it returns; pf.map(seq) maps element-wise.`,
	"map": `map(f, *seqs, chunksize=None)

A blocking load-balanced map over all engines of the run's cluster: [f(x) for x in seq].`,
	"ref": `ref(name)

As an argument, means "the value of name in the engine's namespace".`,
	"wait": `wait(results, timeout=None)

Waits on several AsyncResults; returns whether all finished.`,

	"Client.wait_for_engines": `c.wait_for_engines(n, timeout=30)

Waits until the cluster has n engines; fails with NoEnginesError on timeout.`,
	"Client.queue_status": `c.queue_status()

{engine id: {"queue": n, "completed": n}, "unassigned": n}`,
	"Client.shutdown":    "c.shutdown(targets=None)\n\nStops the target engines (all by default); they leave c.ids.",
	"Client.clear":       "c.clear(targets=None)\n\nEmpties the target engines' namespaces.",
	"Client.direct_view": "c.direct_view(targets=None)\n\nA DirectView on the targets (all engines, lazily, by default); the same as c[:].",
	"Client.load_balanced_view": `c.load_balanced_view(targets=None)

A LoadBalancedView over all engines (or the targets): a task goes to an idle engine.
lview.apply(f, *args), lview.map(f, *seqs, chunksize=1, ordered=True); flags block, retries,
timeout, after, follow as attributes or per call.`,

	"DirectView": `DirectView: a set of engines addressed together (c[:], c[0], c[1:3], c[[0, 2]]).

apply(f, *args, **kwargs), apply_sync, apply_async; map(f, *seqs), map_sync, map_async;
execute(code), run(path); push(dict), pull(name); scatter(name, seq), gather(name);
view["a"] = v / view["a"]; remote(f), parallel(f); wait(timeout), abort(), shutdown(); block.`,
	"DirectView.apply":       "view.apply(f, *args, **kwargs)\n\nRuns f on every target: a list with one result per engine (c[i]: the single result); an AsyncResult unless view.block.",
	"DirectView.apply_sync":  "view.apply_sync(f, *args, **kwargs)\n\nRuns f on every target and waits: a list with one result per engine (c[i]: the single result).",
	"DirectView.apply_async": "view.apply_async(f, *args, **kwargs)\n\nRuns f on every target: an AsyncResult.",
	"DirectView.map":         "view.map(f, *seqs)\n\nSplits the sequences evenly and in order across the targets and maps f over them; an AsyncResult unless view.block.",
	"DirectView.map_sync":    "view.map_sync(f, *seqs)\n\nview.map, waiting for the list of results.",
	"DirectView.map_async":   "view.map_async(f, *seqs)\n\nview.map, returning an AsyncResult.",
	"DirectView.execute":     "view.execute(code, block=None)\n\nRuns code in each target engine's namespace (what %px does).",
	"DirectView.run":         "view.run(path, block=None)\n\nRuns a local file's code in each target engine's namespace.",
	"DirectView.push":        "view.push(dict, block=None)\n\nSets names in each target engine's namespace.",
	"DirectView.pull":        "view.pull(name or [names], block=None)\n\nOne value per engine of a name (or a list of names) in their namespaces.",
	"DirectView.scatter":     "view.scatter(name, seq, block=None)\n\nSplits seq into contiguous parts, in order, one per engine, bound to name there.",
	"DirectView.gather":      "view.gather(name, block=None)\n\nConcatenates name from each engine, in target order.",
	"DirectView.wait":        "view.wait(jobs=None, timeout=None)\n\nWaits for jobs (AsyncResults or task ids; the view's outstanding tasks by default); returns whether they finished.",
	"DirectView.abort":       "view.abort()\n\nAborts the view's queued and running tasks (TaskAborted).",
	"DirectView.shutdown":    "view.shutdown()\n\nStops the view's engines.",
	"DirectView.remote":      "view.remote(f)\n\nA callable that runs f on the view's engines.",
	"DirectView.parallel":    "view.parallel(f)\n\nA callable that splits its sequences across the view's engines (see parallel).",

	"LoadBalancedView": `LoadBalancedView: tasks go to idle engines (c.load_balanced_view()).

apply(f, *args), apply_sync, apply_async; map(f, *seqs, chunksize=1, ordered=True), map_sync,
map_async; block, retries (default 0), timeout (seconds a task may run), after, follow.`,
	"LoadBalancedView.apply":       "lview.apply(f, *args, **kwargs)\n\nRuns f once on an idle engine; an AsyncResult unless lview.block. Flags (retries, timeout, after, follow) as keywords.",
	"LoadBalancedView.apply_sync":  "lview.apply_sync(f, *args, **kwargs)\n\nRuns f once on an idle engine and waits for its value.",
	"LoadBalancedView.apply_async": "lview.apply_async(f, *args, **kwargs)\n\nRuns f once on an idle engine: an AsyncResult.",
	"LoadBalancedView.map":         "lview.map(f, *seqs, chunksize=1, ordered=True)\n\nMaps f over the sequences, chunksize items per task, each task to an idle engine; an AsyncResult unless lview.block.",
	"LoadBalancedView.map_sync":    "lview.map_sync(f, *seqs, chunksize=1, ordered=True)\n\nlview.map, waiting for the list of results.",
	"LoadBalancedView.map_async":   "lview.map_async(f, *seqs, chunksize=1, ordered=True)\n\nlview.map, returning an AsyncResult (ar.wait_interactive() shows its progress).",

	"AsyncResult": `AsyncResult: the handle of a non-blocking call.

get(timeout=None, return_exceptions=False), wait(timeout=None), ready(), successful(),
progress, len(ar), iteration, elapsed, stdout, engine_ids, task_ids, errors(),
wait_interactive() (a progress bar), abort().`,
	"AsyncResult.get":              "ar.get(timeout=None, return_exceptions=False)\n\nThe value; fails with the first task error (or puts errors in their slots with return_exceptions=True).",
	"AsyncResult.wait":             "ar.wait(timeout=None)\n\nWaits; returns whether every task finished.",
	"AsyncResult.ready":            "ar.ready()\n\nWhether every task finished.",
	"AsyncResult.successful":       "ar.successful()\n\nWhether it finished without errors (fails if not ready).",
	"AsyncResult.errors":           "ar.errors()\n\nA list: each task's error value, or None.",
	"AsyncResult.wait_interactive": "ar.wait_interactive()\n\nWaits, showing a progress bar (in a notebook: a display that updates).",
	"Client.wait":                  "c.wait(jobs=None, timeout=-1)\n\nWaits for jobs (AsyncResults or task ids; all this client's outstanding tasks by default); returns whether all finished (timeout -1: forever).",
	"Client.wait_interactive":      "c.wait_interactive(jobs=None, interval=1.0, timeout=-1)\n\nc.wait with a progress line.",
	"Client.close":                 "c.close(linger=None)\n\nCloses the connection of a Client(profile=...) or Client(connect=...); the run's own Client() only stops working.",
	"Client.abort":                 "c.abort(jobs=None, targets=None)\n\nStops this client's unfinished tasks (or jobs), queued or running; with targets, those on the target engines.",
	"Client.get_result":            "c.get_result(task_ids, block=False)\n\nAn AsyncHubResult for task ids: a detached job's results, from a second client or after a reconnect.",
	"Client.result_status":         "c.result_status(task_ids)\n\n{\"pending\": [...], \"completed\": [...]} from the hub's task records.",
	"Client.hub_history":           "c.hub_history()\n\nThe task ids of the hub's task records, oldest first.",

	"DirectView.update":       "view.update(dict)\n\nThe same as view.push(dict): view[\"a\"] = 1 for each key.",
	"DirectView.get":          "view.get(name)\n\nThe same as view.pull(name): view[\"a\"].",
	"DirectView.clear":        "view.clear(targets=None, block=None)\n\nEmpties the namespaces of the view's engines (or the targets).",
	"DirectView.queue_status": "view.queue_status(targets=None, verbose=False)\n\nc.queue_status for the view's engines (or the targets).",
	"DirectView.imap":         "view.imap(f, *seqs)\n\nview.map_async(f, *seqs): iterate over it for the results in order.",
	"DirectView.temp_flags":   "view.temp_flags(**flags)\n\nA view whose calls use these flags (Starlark has no with): view.temp_flags(block=True).apply(f).",
	"LoadBalancedView.wait":   "lview.wait(jobs=None, timeout=None)\n\nWaits for jobs (all the view's by default); returns whether all finished.",
	"LoadBalancedView.abort":  "lview.abort(jobs=None)\n\nStops the view's unfinished tasks (or jobs), queued or running.",
	"LoadBalancedView.imap":   "lview.imap(f, *seqs)\n\nlview.map_async(f, *seqs): iterate over it for the results.",

	"AsyncResult.abort": "ar.abort()\n\nStops queued tasks (TaskAborted) and running ones, by cancelling their Starlark thread.",
}
