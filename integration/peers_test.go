// This file defines TestPeerList: PEERS.md, the list of ipyparallel's
// and mpi4py's own tests and what became of each, stays true to the
// translations in testdata.

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPeerList checks that every test PEERS.md says passes, was fixed or
// is translated in part is named in the .star file it gives, that the
// file runs in TestStar (testdata/*.star), and that the counts line adds
// up.
func TestPeerList(t *testing.T) {
	doc, err := os.ReadFile("PEERS.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`^\| (\w+) \| ([a-z ]+) \| ([\w.]*) \|`)
	counts := make(map[string]int)
	texts := make(map[string]string)
	n := 0
	for _, line := range strings.Split(string(doc), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil || m[1] == "test" { // the tables' header rows
			continue
		}
		name, status, file := m[1], m[2], m[3]
		counts[status]++
		n++
		switch status {
		case "passes", "fixed", "partial":
		default:
			continue
		}
		if file == "" {
			t.Errorf("PEERS.md: %s is %s but names no file", name, status)
			continue
		}
		if _, ok := texts[file]; !ok {
			b, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Errorf("PEERS.md: %s: %v", name, err)
			}
			texts[file] = string(b)
		}
		if !regexp.MustCompile(`\b` + name + `\b`).MatchString(texts[file]) {
			t.Errorf("PEERS.md: %s is %s in %s, which does not name it", name, status, file)
		}
	}
	if n < 150 {
		t.Fatalf("PEERS.md lists %d tests; the peers have more than 150", n)
	}
	var parts []string
	for _, k := range []string{"passes", "fixed", "partial", "impossible", "not built", "not translated", "differs", "empty"} {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	want := "Counts: " + strings.Join(parts, ", ") + fmt.Sprintf(" (%d tests).", n)
	if !strings.Contains(string(doc), want) {
		t.Errorf("PEERS.md's counts line is not %q", want)
	}
}
