package hostinfo

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// pi4 is the /proc and /sys files of a Raspberry Pi 4 that has been
// under-voltage and throttled (get_throttled 0x50005), written by tree.
// (Built by the test rather than kept in testdata: Go module zips refuse
// the ':' in soc:firmware.)
var pi4 = map[string]string{
	"proc/stat": "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0\n" +
		"cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0\n" +
		"cpu1 1335736 38652 617432 11081329 4118 0 3128 0 0 0\n" +
		"cpu2 1693004 48453 651247 11208468 3292 0 2089 0 0 0\n" +
		"cpu3 5710133 170625 1243984 11195394 3143 0 2103 0 0 0\n" +
		"intr 199292624 0 0 0\nctxt 342345723\nbtime 1764900000\nprocs_running 2\n",
	"proc/loadavg": "1.52 0.98 0.61 3/211 12345\n",
	"proc/meminfo": "MemTotal:        3884360 kB\nMemFree:         2100000 kB\n" +
		"MemAvailable:    3300000 kB\nBuffers:           60000 kB\nCached:           900000 kB\n",
	"sys/class/thermal/thermal_zone0/temp":                "61835\n",
	"sys/devices/platform/soc/soc:firmware/get_throttled": "50005\n",
}

// pi5 has no get_throttled, only the rpi_volt hwmon device (not at
// hwmon0), an old kernel's meminfo without MemAvailable, and no loadavg.
var pi5 = map[string]string{
	"proc/stat":                              "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n",
	"proc/meminfo":                           "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 300 kB\n",
	"sys/class/thermal/thermal_zone0/temp":   "48250\n",
	"sys/class/hwmon/hwmon0/name":            "cpu_thermal\n",
	"sys/class/hwmon/hwmon3/name":            "rpi_volt\n",
	"sys/class/hwmon/hwmon3/in0_lcrit_alarm": "1\n",
}

// tree writes files under a fresh folder and returns a Collector on it.
func tree(t *testing.T, files map[string]string) (*Collector, string) {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		write(t, filepath.Join(root, name), text)
	}
	return New(filepath.Join(root, "proc"), filepath.Join(root, "sys")), root
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCollectFirstCall(t *testing.T) {
	for _, test := range []struct {
		name  string
		files map[string]string
		want  Figures
	}{
		{"pi4", pi4, Figures{CPUs: 4, Load: []float64{1.52, 0.98, 0.61},
			MemUsed: (3884360 - 3300000) * 1024, MemTotal: 3884360 * 1024,
			TempC: ptr(61.835), Throttled: ptr(UnderVoltage | ThrottledNow | UnderVoltageOccurred | ThrottledOccurred)}},
		{"pi5", pi5, Figures{CPUs: 1, MemUsed: 500 * 1024, MemTotal: 1000 * 1024,
			TempC: ptr(48.25), Throttled: ptr(UnderVoltage)}},
		{"nothing", map[string]string{}, Figures{}},
		{"garbage", map[string]string{"proc/stat": "cpu a b c d\n", "proc/loadavg": "x y z\n",
			"proc/meminfo": "MemTotal: lots\n", "sys/class/thermal/thermal_zone0/temp": "-2147483\n",
			"sys/devices/platform/soc/soc:firmware/get_throttled": "zz\n"}, Figures{}},
	} {
		t.Run(test.name, func(t *testing.T) {
			c, _ := tree(t, test.files)
			if got := c.Collect(); !reflect.DeepEqual(got, test.want) {
				t.Errorf("Collect() = %s, want %s", show(got), show(test.want))
			}
		})
	}
}

func TestCPUPercentFromPreviousCall(t *testing.T) {
	c, root := tree(t, pi5)
	stat := filepath.Join(root, "proc/stat")
	for i, test := range []struct {
		stat string
		want *float64
	}{
		{"cpu  100 0 100 800 0 0 0 0 0 0\n", nil},              // first call: no previous counters
		{"cpu  250 0 150 900 100 0 0 0 0 0\n", ptr(50.0)},      // +200 busy of +400
		{"cpu  250 0 150 900 100 0 0 0 0 0\n", ptr(50.0)},      // no time passed: the last figure
		{"cpu  250 0 150 1300 100 0 0 0 0 0\n", ptr(0.0)},      // only idle
		{"cpu  350 50 150 1300 100 0 25 25 0 0\n", ptr(100.0)}, // only busy (nice, softirq, steal)
		{"cpu  10 0 10 10 0 0 0 0 0 0\n", nil},                 // counters went back: a reboot
	} {
		write(t, stat, test.stat)
		got := c.Collect().CPUPercent
		if !reflect.DeepEqual(got, test.want) {
			t.Errorf("call %d: CPUPercent = %v, want %v", i, deref(got), deref(test.want))
		}
	}
}

func TestFiguresTravelInAnEnvelope(t *testing.T) {
	c, _ := tree(t, pi4)
	c.Collect()
	c.prev.busy -= 10 // make the second call have a CPU %
	want := c.Collect()
	want.TempC = ptr(0.0) // a zero behind a pointer is kept, not dropped
	data, err := wire.MarshalMsg(&want)
	if err != nil {
		t.Fatal(err)
	}
	var got Figures
	if err := wire.UnmarshalMsg(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnmarshalMsg(MarshalMsg(f)) = %s, want %s", show(got), show(want))
	}
}

func TestCollectOnThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("hostinfo reads Linux's /proc and /sys; this is %s", runtime.GOOS)
	}
	Collect()
	f := Collect()
	if f.CPUs < 1 || f.MemTotal == 0 || f.MemUsed > f.MemTotal || len(f.Load) != 3 {
		t.Errorf("Collect() on this Linux machine = %s, want CPUs, load and memory", show(f))
	}
}

func BenchmarkCollect(b *testing.B) {
	c := New("/proc", "/sys")
	for b.Loop() {
		c.Collect()
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func show(f Figures) string {
	s := reflect.ValueOf(f)
	out := "{"
	for i := range s.NumField() {
		v := s.Field(i)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		out += fmt.Sprintf("%s:%v ", s.Type().Field(i).Name, v.Interface())
	}
	return out + "}"
}
