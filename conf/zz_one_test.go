package conf

import (
	"os"
	"testing"
	"time"
	"github.com/BurntSushi/toml"
)

func TestZZOne(t *testing.T) {
	b, _ := os.ReadFile("/tmp/slow.toml")
	for i := 0; i < 3; i++ {
		s := time.Now()
		var m map[string]toml.Primitive
		toml.Decode(string(b), &m)
		t1 := time.Since(s)
		_, err := parseProfile("F", b)
		t.Logf("toml %v, profile %v, %v err", t1, time.Since(s), err != nil)
	}
}
