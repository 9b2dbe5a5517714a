package api

import (
	"bytes"
	"strings"
	"testing"
)

func TestRankFailure(t *testing.T) {
	for _, test := range []struct {
		te   TaskError
		want string
	}{
		{TaskError{Engine: 3, Host: "pi4", Kind: "ValueError", Message: "bad"}, "rank 1 (engine 3 on pi4): ValueError: bad"},
		{TaskError{Engine: 3, Kind: "ValueError", Message: "bad"}, "rank 1 (engine 3 on a host without a name): ValueError: bad"},
		{TaskError{Engine: 0, Host: "vm", Backtrace: "Traceback\n  x.star:1: in <toplevel>\nError: boom\n"}, "rank 1 (engine 0 on vm): Traceback\n  x.star:1: in <toplevel>\nError: boom"},
	} {
		if got := RankFailure(1, &test.te); got != test.want {
			t.Errorf("RankFailure(%+v) = %q, want %q", test.te, got, test.want)
		}
	}
}

func TestRankWriter(t *testing.T) {
	var out bytes.Buffer
	w := NewRankWriter(&out)
	w.SetRanks([]int{4, 2})
	w.Write([]byte("[engine 2 vm] hello\n[engine 4 vm] world\n[engine 9 vm] other\n"))
	if got, want := out.String(), "[rank 1] hello\n[rank 0] world\n[engine 9 vm] other\n"; got != want {
		t.Errorf("RankWriter wrote %q, want %q", got, want)
	}
	if strings.Contains(out.String(), "engine 2") {
		t.Error("a rank's engine prefix was kept")
	}
}
