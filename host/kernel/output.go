// This file defines the kernel's output writers: stdout and stderr as
// "stream" messages of the running (or last) cell, and the progress
// writer that turns a terminal progress bar ("\r... 3/10 tasks") into one
// display that updates in place.

package kernel

import (
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Stdout returns the writer whose text goes to the cell as stdout.
func (k *Kernel) Stdout() io.Writer { return streamWriter{k, "stdout"} }

// Stderr returns the writer whose text goes to the cell as stderr.
func (k *Kernel) Stderr() io.Writer { return streamWriter{k, "stderr"} }

// Progress returns the writer for progress bars drawn as on a terminal:
// each line rewritten after "\r" becomes an update of one display, and a
// line ended by "\n" ends it. Other text goes to stderr.
func (k *Kernel) Progress() io.Writer { return progressWriter{k} }

// streamWriter sends what it is given as one stream message.
type streamWriter struct {
	k    *Kernel
	name string
}

func (w streamWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		w.k.publish(w.k.parent.Load(), "stream", map[string]string{"name": w.name, "text": string(p)})
	}
	return len(p), nil
}

// progressState is the display a progress bar is drawn in.
type progressState struct {
	mu     sync.Mutex
	id     string // the display's id while a bar is shown, else ""
	seq    int
	parent *Header
}

type progressWriter struct{ k *Kernel }

func (w progressWriter) Write(p []byte) (int, error) {
	text := string(p)
	for text != "" {
		switch text[0] {
		case '\n':
			w.k.progressEnd()
			text = text[1:]
		case '\r':
			end := strings.IndexAny(text[1:], "\r\n")
			if end < 0 {
				end = len(text) - 1
			}
			w.k.progressBar(text[1 : end+1])
			text = text[end+1:]
		default:
			end := strings.IndexByte(text, '\r')
			if end < 0 {
				end = len(text)
			}
			w.k.publish(w.k.parent.Load(), "stream", map[string]string{"name": "stderr", "text": text[:end]})
			text = text[end:]
		}
	}
	return len(p), nil
}

// progressBar shows bar: in a new display, or as an update of the shown one.
func (k *Kernel) progressBar(bar string) {
	d := &k.disp
	d.mu.Lock()
	defer d.mu.Unlock()
	msgType := "update_display_data"
	if d.id == "" {
		d.seq++
		d.id, d.parent, msgType = fmt.Sprintf("pirun-progress-%s-%d", k.sess, d.seq), k.parent.Load(), "display_data"
	}
	k.publish(d.parent, msgType, map[string]any{"data": progressData(bar), "metadata": map[string]any{},
		"transient": map[string]string{"display_id": d.id}})
}

// progressEnd ends the shown bar: the next one gets a display of its own.
func (k *Kernel) progressEnd() {
	k.disp.mu.Lock()
	k.disp.id = ""
	k.disp.mu.Unlock()
}

// tasksDone finds "done/total tasks" in a progress line.
var tasksDone = regexp.MustCompile(`(\d+)/(\d+) tasks`)

// progressData is a bar's text and, when it counts tasks, an HTML
// <progress> element.
func progressData(bar string) map[string]string {
	data := map[string]string{"text/plain": bar}
	if m := tasksDone.FindStringSubmatch(bar); m != nil {
		label := bar
		if i := strings.Index(bar, " ["); i >= 0 {
			label = bar[:i]
		}
		rest := bar[strings.Index(bar, m[0]):]
		data["text/html"] = fmt.Sprintf(`<div><code>%s</code> <progress value="%s" max="%s" style="width:30em"></progress> %s</div>`,
			html.EscapeString(label), m[1], m[2], html.EscapeString(rest))
	}
	return data
}

// Progresser is a Session that can say how far the tasks of its running
// cell are: the kernel then shows a progress bar for a cell that runs
// long with tasks outstanding (a long map). Progress must be safe to call
// while Execute runs.
type Progresser interface {
	Progress() (done, total int)
}

// Delays of the progress bar of long cells.
const (
	progressAfter = time.Second            // a cell shorter than this shows no bar
	progressEvery = 250 * time.Millisecond // how often the bar is redrawn
)

// watchProgress draws, in a display of its own, how far a long cell's
// tasks are, until the returned function is called, unless the cell draws
// a bar itself (wait_interactive). The function returns once the bar's
// last update is out.
func (k *Kernel) watchProgress(parent *Header) (stop func()) {
	p, ok := k.session.(Progresser)
	if !ok {
		return func() {}
	}
	k.disp.mu.Lock()
	seq := k.disp.seq
	k.disp.mu.Unlock()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		started := time.Now()
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		id, last, lastTotal := "", "", 0
		draw := func(d, n int) {
			const width = 30
			fill := width * d / max(n, 1)
			bar := fmt.Sprintf("tasks [%s%s] %d/%d tasks %.1fs", strings.Repeat("#", fill), strings.Repeat(".", width-fill),
				d, n, time.Since(started).Seconds())
			if bar == last {
				return
			}
			msgType := "update_display_data"
			if id == "" {
				id, msgType = fmt.Sprintf("pirun-tasks-%s-%s", k.sess, newID()), "display_data"
			}
			last = bar
			k.publish(parent, msgType, map[string]any{"data": progressData(bar), "metadata": map[string]any{},
				"transient": map[string]string{"display_id": id}})
		}
		for {
			select {
			case <-quit:
				if id != "" {
					d, n := p.Progress()
					if n == 0 { // every call finished
						d, n = lastTotal, lastTotal
					}
					draw(d, n)
				}
				return
			case <-tick.C:
			}
			k.disp.mu.Lock()
			own := k.disp.seq == seq
			k.disp.mu.Unlock()
			if time.Since(started) < progressAfter || !own {
				continue
			}
			if d, n := p.Progress(); n > 0 && (d < n || id != "") {
				lastTotal = n
				draw(d, n)
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
