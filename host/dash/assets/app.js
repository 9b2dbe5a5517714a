// pirun dashboard: renders /api/events snapshots. Hand-written, no build
// step, no library. Every value from the hub is written with textContent.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmtInt(n) { return Number(n || 0).toLocaleString("en-US"); }

function fmtRate(r) {
  if (r >= 100) return Math.round(r).toLocaleString("en-US");
  if (r >= 10) return r.toFixed(1);
  return r.toFixed(2).replace(/\.?0+$/, "") || "0";
}

function fmtAge(s) {
  if (!s || s < 0) return "";
  if (s < 10) return s.toFixed(1) + " s";
  if (s < 120) return Math.round(s) + " s";
  if (s < 7200) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
}

function fmtBytes(b) {
  const gib = b / (1 << 30);
  if (gib >= 1) return gib.toFixed(1) + " GiB";
  return Math.round(b / (1 << 20)) + " MiB";
}

// sync keeps container's children in step with items, reusing the element
// of each key so that nothing flickers and scroll positions stay.
function sync(container, items, key, make, update) {
  const old = new Map();
  for (const child of container.children) old.set(child.dataset.key, child);
  let prev = null;
  for (const item of items) {
    const k = String(key(item));
    let node = old.get(k);
    if (node) old.delete(k);
    else { node = make(item); node.dataset.key = k; }
    update(node, item);
    const want = prev ? prev.nextSibling : container.firstChild;
    if (node !== want) container.insertBefore(node, want);
    prev = node;
  }
  for (const node of old.values()) node.remove();
}

function setBar(bar, frac, cls) {
  const i = bar.firstChild;
  i.style.width = (Math.max(0, Math.min(1, frac)) * 100).toFixed(1) + "%";
  i.className = cls || "";
}

function makeBar() {
  const b = el("div", "bar");
  b.append(el("i"));
  return b;
}

// ---- summary -------------------------------------------------------------

function renderSummary(snap) {
  const s = snap.summary;
  const vals = {
    engines: fmtInt(s.engines), hosts: fmtInt(s.hosts), busy: fmtInt(s.busy),
    queued: fmtInt(s.queued + s.unassigned), done: fmtInt(s.done), errors: fmtInt(s.errors),
    rate: fmtRate(s.rate),
  };
  for (const [k, v] of Object.entries(vals)) $(`[data-sum="${k}"]`).textContent = v;
  $("#hub").textContent = snap.hub ? "hub " + snap.hub : "";
  const job = snap.jobs[0];
  document.title = `pirun · ${s.busy}/${s.engines} busy` + (job && job.total ? ` · ${Math.floor((100 * job.done) / job.total)}%` : "");
}

// ---- jobs ----------------------------------------------------------------

function makeJob() {
  const d = el("div", "job");
  const head = el("div", "job-head");
  head.append(el("span", "label"), el("span", "count"));
  const bar = makeBar();
  bar.append(el("i", "failed"));
  d.append(head, bar, el("div", "job-foot"));
  return d;
}

function updateJob(d, j) {
  d.dataset.jobId = j.id;
  d.dataset.done = j.done;
  d.dataset.total = j.total;
  $(".label", d).textContent = j.label || "job " + j.id;
  const pct = j.total ? Math.floor((100 * j.done) / j.total) : 0;
  $(".count", d).textContent = `${fmtInt(j.done)} / ${fmtInt(j.total)} · ${pct}%`;
  const bar = $(".bar", d);
  const ok = j.total ? (j.done - j.failed) / j.total : 0;
  const failed = j.total ? j.failed / j.total : 0;
  setBar(bar, ok);
  const f = bar.children[1];
  f.style.left = (ok * 100).toFixed(1) + "%";
  f.style.width = (failed * 100).toFixed(1) + "%";
  const foot = $(".job-foot", d);
  foot.replaceChildren(`${j.client || "client"} · running ${fmtAge(j.age_s) || "0 s"}`);
  if (j.failed) foot.append(" · ", el("span", "bad", `${fmtInt(j.failed)} failed`));
}

// ---- rate plot -----------------------------------------------------------

function renderRate(snap) {
  const r = snap.rate || [];
  const step = snap.rate_step_s || 1;
  const n = r.length;
  const span = n * step;
  $("#rate-span").textContent = n ? "· last " + (span >= 120 ? Math.round(span / 60) + " min" : span + " s") : "";
  $("#rate-from").textContent = n ? "−" + (span >= 120 ? Math.round(span / 60) + " min" : span + " s") : "";
  let top = Math.max(1, ...r);
  const mag = Math.pow(10, Math.floor(Math.log10(top)));
  top = Math.ceil(top / mag) * mag; // a round number above the peak
  $("#rate-max").textContent = fmtRate(top);
  if (n < 2) {
    $("#rate-line").setAttribute("d", "");
    $("#rate-area").setAttribute("d", "");
    return;
  }
  const pts = r.map((v, i) => [(i / (n - 1)) * 300, 100 - (v / top) * 100]);
  const line = "M" + pts.map(p => p[0].toFixed(2) + "," + p[1].toFixed(2)).join("L");
  $("#rate-line").setAttribute("d", line);
  $("#rate-area").setAttribute("d", line + "L300,100L0,100Z");
}

// ---- hosts ---------------------------------------------------------------

function makeHost() {
  const d = el("div", "host");
  const head = el("div", "host-head");
  head.append(el("b"), el("span"));
  d.append(head, el("div", "gauges"), el("div", "flags"));
  return d;
}

function gauge(name, frac, text, cls) {
  const g = el("div", "gauge");
  g.dataset.gauge = name;
  const bar = makeBar();
  setBar(bar, frac, cls);
  g.append(el("span", "name", name), bar, el("span", "val", text));
  return g;
}

function level(frac, warn, bad) {
  return frac >= bad ? "bad" : frac >= warn ? "warn" : "";
}

function updateHost(d, h) {
  d.dataset.host = h.host;
  $(".host-head b", d).textContent = h.host;
  const sub = [h.engines + (h.engines === 1 ? " engine" : " engines")];
  if (h.arch) sub.push(h.arch);
  if (h.age_s > 5) sub.push("figures " + fmtAge(h.age_s) + " old");
  $(".host-head span", d).textContent = sub.join(" · ");
  const gs = [];
  if (h.cpu_percent != null) {
    const f = h.cpu_percent / 100;
    gs.push(gauge("CPU", f, Math.round(h.cpu_percent) + " %", level(f, .75, .95)));
  }
  if (h.load1 != null) {
    const f = h.cpus ? h.load1 / h.cpus : 0;
    gs.push(gauge("load", f, [h.load1, h.load5, h.load15].map(v => (v ?? 0).toFixed(2)).join(" "), level(f, 1, 1.5)));
  }
  if (h.mem_total) {
    const f = h.mem_used / h.mem_total;
    gs.push(gauge("mem", f, fmtBytes(h.mem_used) + " / " + fmtBytes(h.mem_total), level(f, .8, .92)));
  }
  if (h.temp_c != null) {
    const f = h.temp_c / 85; // the Pi's firmware throttles from 80-85 °C
    gs.push(gauge("temp", f, h.temp_c.toFixed(1) + " °C", h.temp_c >= 80 ? "bad" : h.temp_c >= 70 ? "warn" : "ok"));
  }
  $(".gauges", d).replaceChildren(...gs);
  const flags = $(".flags", d);
  if (h.throttled == null) flags.replaceChildren();
  else if (!h.throttle_flags || !h.throttle_flags.length) flags.replaceChildren(el("span", "flag fine", "not throttled"));
  else flags.replaceChildren(...h.throttle_flags.map(f => el("span", f.endsWith("since boot") ? "flag" : "flag now", f)));
}

// ---- engines -------------------------------------------------------------

const engineCols = ["id", "host", "arch", "state", "task", "queue", "done", "errors"];

function makeEngine() {
  const tr = el("tr");
  for (const c of engineCols) {
    const td = el("td", "c-" + c);
    if (c === "queue" || c === "done" || c === "errors") { td.classList.add("num"); td.dataset.label = c; }
    tr.append(td);
  }
  return tr;
}

function updateEngine(tr, e) {
  tr.dataset.engineId = e.id;
  tr.dataset.state = e.state;
  const td = c => tr.children[engineCols.indexOf(c)];
  td("id").textContent = e.id;
  td("host").textContent = e.name ? `${e.host} (${e.name})` : e.host;
  td("arch").textContent = e.arch;
  td("state").replaceChildren(el("span", "badge " + e.state, e.state));
  const task = td("task");
  task.title = e.task || "";
  if (e.task) task.replaceChildren(e.task, el("span", "age", fmtAge(e.task_age_s)));
  else task.replaceChildren(el("span", "muted", "—"));
  td("queue").textContent = fmtInt(e.queue);
  td("done").textContent = fmtInt(e.done);
  td("errors").textContent = fmtInt(e.errors);
  td("errors").classList.toggle("some", e.errors > 0);
}

// ---- output --------------------------------------------------------------

function makeOut() {
  const d = el("div", "out");
  d.append(el("h3"), el("pre"));
  return d;
}

function renderOutput(snap) {
  const byId = new Map(snap.engines.map(e => [String(e.id), e]));
  const ids = Object.keys(snap.output || {}).filter(id => snap.output[id].length).sort((a, b) => a - b);
  sync($("#output"), ids, id => id, makeOut, (d, id) => {
    const e = byId.get(id);
    $("h3", d).textContent = `[engine ${id}${e ? " " + e.host : ""}]`;
    const pre = $("pre", d);
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    const text = snap.output[id].join("\n");
    if (pre.textContent !== text) {
      pre.textContent = text;
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    }
  });
  $("#output-empty").hidden = ids.length > 0;
}

// ---- wiring --------------------------------------------------------------

let lastSnap = null;

function render(snap) {
  lastSnap = snap;
  renderSummary(snap);
  sync($("#jobs"), snap.jobs, j => j.id, makeJob, updateJob);
  $("#jobs-empty").hidden = snap.jobs.length > 0;
  renderRate(snap);
  sync($("#hosts"), snap.hosts, h => h.host, makeHost, updateHost);
  sync($("#engines tbody"), snap.engines, e => e.id, makeEngine, updateEngine);
  $("#engines-empty").hidden = snap.engines.length > 0;
  renderOutput(snap);
  document.body.dataset.updated = snap.time;
}

function setConn(state, text) {
  const c = $("#conn");
  c.dataset.state = state;
  c.textContent = text;
}

function connect() {
  if (!window.EventSource) { poll(); return; }
  const es = new EventSource("api/events");
  es.addEventListener("status", ev => {
    setConn("live", "live");
    render(JSON.parse(ev.data));
  });
  es.onerror = () => setConn("lost", es.readyState === EventSource.CLOSED ? "disconnected — reload to retry" : "reconnecting…");
}

async function poll() {
  for (;;) {
    try {
      const r = await fetch("api/status", { cache: "no-store" });
      if (!r.ok) throw new Error(await r.text());
      render(await r.json());
      setConn("live", "live");
    } catch (e) {
      setConn("lost", "reconnecting…");
    }
    await new Promise(res => setTimeout(res, 2000));
  }
}

// The token came once in the address; the cookie keeps it now, so keep it
// out of the history and of anyone reading over a shoulder.
if (new URLSearchParams(location.search).has("token")) {
  history.replaceState(null, "", location.pathname);
}
connect();
