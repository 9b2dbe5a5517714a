// This file feeds the dashboard (package dash) from the hub: a Source over
// the registry and the scheduler, the rate meter fed by heartbeats, and
// engine output and clients' job reports, read only while a page watches.

package hub

import (
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/host/dash"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// Dashboard timings.
const (
	jobsTimeout = 3 * time.Second  // a client's jobs vanish when it stops reporting
	keepLost    = 10 * time.Minute // lost engines stay on the page this long
)

// dashFeed is the hub's side of the dashboard. The rate meter is fed by
// every heartbeat (an atomic add); output and job reports are subscribed
// to only while a page watches, so nobody watching costs the hub nothing.
type dashFeed struct {
	h    *Hub
	srv  *dash.Server
	rate *dash.RateMeter
	tail *dash.Tail

	mu   sync.Mutex
	subs []*nats.Subscription // while watched
	jobs map[string]clientJobs
	lost map[int]lostEngine
}

// clientJobs is a client's latest report.
type clientJobs struct {
	report wire.Jobs
	at     time.Time
}

// lostEngine is an engine the hub lost, shown as "lost" for a while.
type lostEngine struct {
	info wire.EngineInfo
	at   time.Time
}

// startDash starts the dashboard on h.cfg.HTTP.
func (h *Hub) startDash() error {
	f := &dashFeed{h: h, rate: dash.NewRateMeter(0, 0), tail: dash.NewTail(0),
		jobs: map[string]clientJobs{}, lost: map[int]lostEngine{}}
	srv, err := dash.New(dash.Config{Addr: h.cfg.HTTP, Token: h.cfg.HTTPToken, Source: dash.SourceFunc(f.snapshot),
		Rate: f.rate, Tail: f.tail, Watching: f.watching, Logger: h.log})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	f.srv = srv
	h.dash = f // before the goroutines and subscriptions that read it start
	return nil
}

// DashURL returns the dashboard's address (with its token when it needs
// one), or "" when the hub serves none.
func (h *Hub) DashURL() string {
	if h.dash == nil {
		return ""
	}
	return h.dash.srv.URL()
}

// stop stops the dashboard and its subscriptions.
func (f *dashFeed) stop() {
	f.srv.Shutdown()
	f.watching(false)
}

// watching subscribes to engine output and job reports when the first
// page opens, and unsubscribes when the last leaves.
func (f *dashFeed) watching(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !on {
		for _, s := range f.subs {
			s.Unsubscribe()
		}
		f.subs = nil
		clear(f.jobs)
		return
	}
	if f.subs != nil || f.h.stopping() {
		return
	}
	for subj, cb := range map[string]nats.MsgHandler{wire.ClientOutput("*") + ".*": f.onOutput, wire.SubjectJobs: f.onJobs} {
		s, err := f.h.nc.Subscribe(subj, cb)
		if err != nil {
			f.h.log.Warn("dashboard: subscribe", "subject", subj, "err", err)
			continue
		}
		f.subs = append(f.subs, s)
	}
}

func (f *dashFeed) onOutput(m *nats.Msg) {
	var o wire.Output
	if err := wire.UnmarshalMsg(m.Data, &o); err == nil {
		f.tail.Write(o.Engine, o.Text)
	}
}

func (f *dashFeed) onJobs(m *nats.Msg) {
	var r wire.Jobs
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil || r.Client == "" {
		f.h.log.Debug("dashboard: drop a malformed job report", "err", err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(r.Jobs) == 0 {
		delete(f.jobs, r.Client)
		return
	}
	if len(r.Jobs) > 1000 {
		r.Jobs = r.Jobs[:1000]
	}
	f.jobs[r.Client] = clientJobs{report: r, at: time.Now()}
}

// heartbeat counts the tasks finished since the daemon's previous
// heartbeat (h.mu held; cheap: it runs whether or not anyone watches).
func (f *dashFeed) heartbeat(now time.Time, prev, cur []wire.EngineStat) {
	if f == nil {
		return
	}
	n := 0
	for _, s := range cur {
		// An engine's first heartbeat here (it joined, or came back after
		// a hub restart) sets its count; later ones add what changed.
		for _, p := range prev {
			if p.ID == s.ID && s.Done >= p.Done {
				n += int(s.Done - p.Done)
				break
			}
		}
	}
	if n > 0 {
		f.rate.Add(now, n)
	}
}

// gone records engines that left: lost ones stay on the page a while,
// stopped ones and their output go at once.
func (f *dashFeed) gone(engines []wire.EngineInfo, lost bool) {
	if f == nil {
		return
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range engines {
		if lost {
			f.lost[e.ID] = lostEngine{info: e, at: now}
		} else {
			f.tail.Forget(e.ID)
		}
	}
}

// joined forgets that engines were lost: they are back.
func (f *dashFeed) joined(ids []int) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		delete(f.lost, id)
	}
}

// snapshot is the dashboard's Source.
func (f *dashFeed) snapshot() dash.Snapshot {
	now := time.Now()
	h := f.h
	s := dash.Snapshot{Hub: h.ClientURL(), Summary: dash.Summary{Unassigned: h.sched.queued()}}
	if s.Hub == "" {
		s.Hub = "in-process hub " + h.id[:8]
	}
	h.mu.Lock()
	hosts := map[string]dash.Host{}
	for id := range h.nextID {
		e := h.engines[id]
		if e == nil {
			continue
		}
		s.Engines = append(s.Engines, engineRow(now, e))
		if d := e.daemon; d.host != nil {
			if old, ok := hosts[d.reg.Host]; !ok || old.Age > now.Sub(d.hostAt).Seconds() {
				hosts[d.reg.Host] = hostRow(now, d)
			}
		}
	}
	h.mu.Unlock()
	for _, hr := range hosts {
		s.Hosts = append(s.Hosts, hr)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, l := range f.lost {
		if now.Sub(l.at) > keepLost {
			delete(f.lost, id)
			f.tail.Forget(id)
			continue
		}
		s.Engines = append(s.Engines, dash.Engine{ID: id, Host: l.info.Host, Name: l.info.Name, Arch: l.info.Arch, State: "lost"})
	}
	for c, r := range f.jobs {
		if now.Sub(r.at) > jobsTimeout {
			delete(f.jobs, c)
			continue
		}
		s.Jobs = append(s.Jobs, jobRows(now, r)...)
	}
	return s
}

// engineRow is engine e's row (h.mu held).
func engineRow(now time.Time, e *engineEntry) dash.Engine {
	row := dash.Engine{ID: e.info.ID, Host: e.info.Host, Name: e.info.Name, Arch: e.info.Arch, State: "unknown"}
	if row.Name == row.Host { // the default name: the page would say "rpi1 (rpi1)"
		row.Name = ""
	}
	d := e.daemon
	for _, st := range d.stats {
		if st.ID != e.info.ID {
			continue
		}
		since := now.Sub(d.lastSeen) // the stats are this old
		row.State, row.Task, row.Queue, row.Done, row.Errors = st.State.String(), st.Task, st.Queue, st.Done, st.Failed
		row.Uptime = (time.Duration(st.Uptime) + since).Seconds()
		if st.TaskFor > 0 {
			row.TaskAge = (time.Duration(st.TaskFor) + since).Seconds()
		}
		break
	}
	return row
}

// hostRow is daemon d's machine (h.mu held).
func hostRow(now time.Time, d *daemonEntry) dash.Host {
	f := d.host
	row := dash.Host{Host: d.reg.Host, Arch: arch(d.reg), CPUs: f.CPUs, CPUPercent: f.CPUPercent,
		MemUsed: f.MemUsed, MemTotal: f.MemTotal, TempC: f.TempC, Throttled: f.Throttled,
		Age: now.Sub(d.hostAt).Seconds()}
	if len(f.Load) == 3 {
		row.Load1, row.Load5, row.Load15 = &f.Load[0], &f.Load[1], &f.Load[2]
	}
	return row
}

// jobRows are a client's jobs as the dashboard shows them.
func jobRows(now time.Time, r clientJobs) []dash.Job {
	who := r.report.Who
	if who == "" {
		who = r.report.Client[:min(8, len(r.report.Client))]
	}
	out := make([]dash.Job, 0, len(r.report.Jobs))
	for _, j := range r.report.Jobs {
		age := time.Duration(j.Age) + now.Sub(r.at)
		out = append(out, dash.Job{ID: r.report.Client[:min(4, len(r.report.Client))] + "-" + strconv.FormatUint(j.ID, 10), Client: who,
			Label: j.Label, Done: j.Done, Total: j.Total, Failed: j.Failed, Age: age.Seconds()})
	}
	return out
}
