package conf

import (
	"math/rand"
	"os"
	"testing"
	"time"
)

func TestZZStress(t *testing.T) {
	seed, _ := os.ReadFile("examples/pirun.toml")
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 20000; n++ {
		b := append([]byte(nil), seed...)
		for k := 0; k < 1+r.Intn(8); k++ {
			i := r.Intn(len(b))
			switch r.Intn(3) {
			case 0:
				b[i] = byte(r.Intn(256))
			case 1:
				b = append(b[:i], b[min(len(b), i+r.Intn(20)):]...)
			case 2:
				j := r.Intn(len(b))
				b = append(b[:i], append(append([]byte(nil), b[j:min(len(b), j+r.Intn(40))]...), b[i:]...)...)
			}
			if len(b) == 0 {
				b = []byte("x")
			}
		}
		start := time.Now()
		parseProfile("F", b)
		parseEngine("F", b)
		parseConnFile("F", b)
		if d := time.Since(start); d > 200*time.Millisecond {
			os.WriteFile("/tmp/slow.toml", b, 0o644)
			t.Fatalf("slow input (%v), saved /tmp/slow.toml", d)
		}
	}
}
