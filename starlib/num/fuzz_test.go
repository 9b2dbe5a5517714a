package num

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// FuzzIndexing runs random index and slice expressions on a few arrays:
// any outcome but a panic is fine (errors must be errors).
func FuzzIndexing(f *testing.F) {
	for _, s := range []string{"[1]", "[-1, 0]", "[1:3]", "[::-2]", "[[0, 0]]", "[num.greater(a, 2)]", "[0][1:]", ".T[1]", "[5:1:-1]", "[0, 0, 0]"} {
		f.Add(s, 0)
		f.Add(s, 1)
		f.Add(s, 2)
	}
	arrays := []string{"num.arange(6)", "num.arange(6).reshape(2, 3)", "num.array(3.5)"}
	f.Fuzz(func(t *testing.T, index string, which int) {
		if strings.ContainsAny(index, "\n;") || len(index) > 40 {
			return
		}
		if which < 0 {
			which = -which
		}
		src := "a = " + arrays[which%len(arrays)] + "\nb = a" + index + "\n"
		for _, code := range []string{src, src + "a" + index + " = 1\n", src + "s = str(b)\n"} {
			thread := &starlark.Thread{}
			thread.SetMaxExecutionSteps(1 << 20)
			SetLimits(thread, Limits{MaxArrayBytes: 1 << 20, MaxSteps: 1 << 20})
			_, _ = starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "fuzz", code, starlark.StringDict{"num": Module})
		}
	})
}
