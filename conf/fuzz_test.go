package conf

import (
	"errors"
	"os"
	"testing"
)

// FuzzLoadProfile feeds arbitrary bytes to the profile, engine and
// connection-file loaders (after the file is read): they never panic, a
// success is valid, and a failure is an *Error with a message per problem.
func FuzzLoadProfile(f *testing.F) {
	for _, path := range []string{"examples/pirun.toml", "examples/engine.toml", "testdata/problems.toml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(encodeConnFile(validConn()))
	f.Add([]byte("[[hosts]]\nhost = \"a\"\n[[hosts]]\nuser = {x = [1, {y = 2}]}\n"))
	f.Add([]byte("hub = [{}]\nengine.preload = [[1]]\n\"\" = 1\n[\"a.b\".c]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseProfile("F", data)
		checkLoaded(t, "profile", err, func() error { return p.Validate() })
		e, err := parseEngine("F", data)
		checkLoaded(t, "engine", err, func() error { return e.Validate() })
		c, err := parseConnFile("F", data)
		checkLoaded(t, "connection file", err, func() error { return c.Validate() })
	})
}

// checkLoaded checks one loader's result.
func checkLoaded(t *testing.T, what string, err error, validate func() error) {
	t.Helper()
	if err == nil {
		if verr := validate(); verr != nil {
			t.Fatalf("%s loaded without error but Validate() = %v", what, verr)
		}
		return
	}
	var cerr *Error
	if !errors.As(err, &cerr) || cerr.File != "F" || len(cerr.Problems) == 0 {
		t.Fatalf("%s error = %#v, want an *Error for F with problems", what, err)
	}
	for _, p := range cerr.Problems {
		if p.Msg == "" {
			t.Fatalf("%s problem without a message: %+v", what, p)
		}
	}
}
