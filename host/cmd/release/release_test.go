package main

import (
	"strings"
	"testing"
)

func TestDebVersion(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-4-gabc1234", "1.2.3+4.gabc1234"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+4.gabc1234.dirty"},
		{"v1.2.3-rc1", "1.2.3~rc1"},
		{"v1.2.3-rc1-2-g0123abc", "1.2.3~rc1+2.g0123abc"},
		{"7f12f98", "0.0~git7f12f98"},
		{"7f12f98-dirty", "0.0~git7f12f98.dirty"},
		{"abcdef0", "0.0~gitabcdef0"},
		{"beta-1", "0.0~beta~1"},
		{"1.2.3-test", "1.2.3~test"},
	} {
		if got := debVersion(test.in); got != test.want {
			t.Errorf("debVersion(%q) = %q, want %q", test.in, got, test.want)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for _, test := range []struct {
		in string
		ok bool
	}{
		{"v1.2.3-4-gabc1234-dirty", true},
		{"7f12f98", true},
		{"1.2~rc1+x", true},
		{"", false},
		{"-v1", false},
		{"1.2 3", false},
		{"1.2/3", false},
		{"1.2\"", false},
	} {
		err := checkVersion(test.in)
		if (err == nil) != test.ok {
			t.Errorf("checkVersion(%q) = %v, want ok %v", test.in, err, test.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "as git describe prints") {
			t.Errorf("checkVersion(%q) = %v, want it to say what a version looks like", test.in, err)
		}
	}
}
