package random_test

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib/random"
)

// draw evaluates expr (using the module as "random") n times on thread and
// returns the results as strings.
func draw(t *testing.T, thread *starlark.Thread, expr string, n int) []string {
	t.Helper()
	env := starlark.StringDict{"random": random.Module}
	out := make([]string, n)
	for i := range out {
		v, err := starlark.EvalOptions(&syntax.FileOptions{}, thread, "draw", expr, env)
		if err != nil {
			t.Fatalf("%s failed: %v", expr, err)
		}
		out[i] = v.String()
	}
	return out
}

// threadWith returns a thread drawing from src.
func threadWith(src *random.Source) *starlark.Thread {
	thread := &starlark.Thread{Name: "random"}
	random.SetSource(thread, src)
	return thread
}

func TestSameSeedSameSequence(t *testing.T) {
	for _, expr := range []string{
		"random.random()",
		"random.randint(0, 1000000)",
		"random.randrange(3, 1 << 200, 7)",
		"random.gauss(0, 1)",
		"random.sample(range(100), 5)",
		"random.choice('abcdefgh')",
	} {
		a := draw(t, threadWith(random.NewSource(7)), expr, 20)
		b := draw(t, threadWith(random.NewSource(7)), expr, 20)
		c := draw(t, threadWith(random.NewSource(8)), expr, 20)
		if !slices.Equal(a, b) {
			t.Errorf("%s with seed 7 twice = %v and %v, want equal", expr, a, b)
		}
		if slices.Equal(a, c) {
			t.Errorf("%s with seeds 7 and 8 = %v both, want different", expr, a)
		}
	}
}

func TestSeedRestarts(t *testing.T) {
	src := random.NewSource(1)
	thread := threadWith(src)
	first := draw(t, thread, "random.random()", 5)
	src.Seed(1)
	if again := draw(t, thread, "random.random()", 5); !slices.Equal(first, again) {
		t.Errorf("after Seed(1): %v, want %v", again, first)
	}
	draw(t, thread, "random.seed(1)", 1)
	if again := draw(t, thread, "random.random()", 5); !slices.Equal(first, again) {
		t.Errorf("after random.seed(1): %v, want %v", again, first)
	}
}

func TestStreamsAreIndependent(t *testing.T) {
	a, b := threadWith(random.NewSource(3)), threadWith(random.NewSource(3))
	want := draw(t, threadWith(random.NewSource(3)), "random.random()", 5)
	draw(t, a, "random.seed(99)", 1)
	draw(t, a, "random.random()", 3)
	if got := draw(t, b, "random.random()", 5); !slices.Equal(got, want) {
		t.Errorf("stream b after reseeding stream a = %v, want %v", got, want)
	}
}

func TestSourceOf(t *testing.T) {
	thread := new(starlark.Thread)
	if got := random.SourceOf(thread); got != nil {
		t.Errorf("SourceOf(new thread) = %p, want nil", got)
	}
	src := random.NewSource(1)
	random.SetSource(thread, src)
	if got := random.SourceOf(thread); got != src {
		t.Errorf("SourceOf after SetSource(src) = %p, want %p", got, src)
	}
	random.SetSource(thread, nil)
	if got := random.SourceOf(thread); got != nil {
		t.Errorf("SourceOf after SetSource(nil) = %p, want nil", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			thread := new(starlark.Thread) // the process-wide default, shared
			if i%2 == 0 {
				random.SetSource(thread, random.NewSource(int64(i))) // its own
			}
			draw(t, thread, "random.shuffle(list(range(10)))", 50)
			draw(t, thread, "random.random()", 50)
		})
	}
	wg.Wait()
}

// TestSequence: a seed gives the numbers it gave before (PCG from
// math/rand/v2 with the same seeds, read as rand.Rand.Float64 does), so
// that scripts seeded in one pirun version print the same in the next.
func TestSequence(t *testing.T) {
	ref := rand.New(rand.NewPCG(7, 0x9e3779b97f4a7c15))
	want := make([]string, 5)
	for i := range want {
		want[i] = starlark.Float(ref.Float64()).String()
	}
	if got := draw(t, threadWith(random.NewSource(7)), "random.random()", 5); !slices.Equal(got, want) {
		t.Errorf("random.random() with seed 7 = %v, want %v", got, want)
	}
	if want[0] != "0.5437464358405968" {
		t.Errorf("the first number of seed 7 = %s, want 0.5437464358405968 (as in earlier versions)", want[0])
	}
}

// TestBoundModule: Source.Module draws from its Source whatever the
// thread's, and its seed reseeds that Source.
func TestBoundModule(t *testing.T) {
	src := random.NewSource(7)
	env := starlark.StringDict{"random": src.Module()}
	thread := threadWith(random.NewSource(99)) // not used by the bound module
	want := draw(t, threadWith(random.NewSource(7)), "random.random()", 3)
	var got []string
	for range 3 {
		v, err := starlark.EvalOptions(&syntax.FileOptions{}, thread, "bound", "random.random()", env)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("Source(7).Module().random() = %v, want %v", got, want)
	}
	if _, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "bound", "random.seed(7)", env); err != nil {
		t.Fatal(err)
	}
	if got := draw(t, threadWith(src), "random.random()", 3); !slices.Equal(got, want) {
		t.Errorf("after the bound random.seed(7), the Source draws %v, want %v", got, want)
	}
}

func TestModuleFrozen(t *testing.T) {
	thread := new(starlark.Thread)
	env := starlark.StringDict{"random": random.Module}
	_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "f.star", "random.seed = None", env)
	if err == nil {
		t.Errorf("assigning random.seed succeeded, want an error")
	}
}

func TestShuffleDuringIteration(t *testing.T) {
	thread := threadWith(random.NewSource(1))
	env := starlark.StringDict{"random": random.Module}
	src := "def f():\n  l = [1, 2, 3]\n  for x in l:\n    random.shuffle(l)\nf()"
	_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "f.star", src, env)
	if err == nil || err.Error() != "random.shuffle: cannot assign to element of list during iteration" {
		t.Errorf("shuffle during iteration = %v, want the iteration error", err)
	}
}

func TestBigRange(t *testing.T) {
	thread := threadWith(random.NewSource(5))
	got := map[string]bool{}
	for _, v := range draw(t, thread, "random.randrange(3 << 64) // (1 << 64)", 300) {
		got[v] = true
	}
	if len(got) != 3 || !got["0"] || !got["1"] || !got["2"] {
		t.Errorf("randrange(3 << 64) // (1 << 64) over 300 draws took values %v, want 0, 1 and 2", got)
	}
}

func TestModuleAttrs(t *testing.T) {
	src := random.NewSource(1)
	for _, m := range []starlark.HasAttrs{random.Module, src.Module()} {
		names := m.AttrNames()
		if want := []string{"choice", "gauss", "randint", "random", "randrange", "sample", "seed", "shuffle", "uniform"}; !slices.Equal(names, want) {
			t.Errorf("AttrNames() = %v, want %v", names, want)
		}
		for _, name := range names {
			v, err := m.Attr(name)
			b, ok := v.(*starlark.Builtin)
			if err != nil || !ok || b.Name() != "random."+name {
				t.Errorf("Attr(%q) = %v, %v; want the builtin random.%s", name, v, err, name)
			}
		}
		if v, err := m.Attr("nosuch"); v != nil || err != nil {
			t.Errorf("Attr(%q) = %v, %v; want nil, nil", "nosuch", v, err)
		}
		names[0] = "changed"
		if m.AttrNames()[0] != "choice" {
			t.Errorf("AttrNames() shares its slice with callers, want a copy")
		}
	}
	got := draw(t, threadWith(src), `(str(random), type(random), "seed" in dir(random))`, 1)
	if want := `("<module \"random\">", "module", True)`; got[0] != want {
		t.Errorf("str, type and dir of random = %s, want %s", got[0], want)
	}
}
