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
