package integration

import (
	"go/parser"
	"go/token"
	"os/exec"
	"strings"
	"testing"
)

// TestPackageDocs checks that every package has exactly one package doc
// comment, starting "Package NAME" (or "Command" for main).
func TestPackageDocs(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}} {{.Name}}", module+"/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, name, _ := strings.Cut(line, " ")
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		docs := 0
		for pname, p := range pkgs {
			if strings.HasSuffix(pname, "_test") {
				continue
			}
			for fname, f := range p.Files {
				if strings.HasSuffix(fname, "_test.go") || f.Doc == nil {
					continue
				}
				docs++
				want := "Package " + name
				if name == "main" {
					want = "Command "
				}
				if !strings.HasPrefix(f.Doc.Text(), want) {
					t.Errorf("%s: package doc starts %q, want %q", fname, firstLine(f.Doc.Text()), want)
				}
			}
		}
		if docs != 1 {
			t.Errorf("%s: %d package doc comments, want exactly 1", dir, docs)
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
