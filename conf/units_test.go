package conf

import (
	"testing"
	"time"
)

func TestDurationUnmarshalText(t *testing.T) {
	for _, test := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: " 250ms ", want: 250 * time.Millisecond},
		{in: "0", want: 0},
		{in: "30", wantErr: `expected a duration with a unit such as "30s", got 30`},
		{in: "abc", wantErr: `expected a duration such as "30s", "1m30s" or "250ms", got "abc"`},
		{in: "", wantErr: `expected a duration such as "30s", "1m30s" or "250ms", got ""`},
		{in: "-1s", wantErr: `expected a duration of 0 or more, got "-1s"`},
	} {
		var d Duration
		err := d.UnmarshalText([]byte(test.in))
		if got := errString(err); got != test.wantErr || time.Duration(d) != test.want {
			t.Errorf("UnmarshalText(%q) = %v, %q, want %v, %q", test.in, time.Duration(d), got, test.want, test.wantErr)
		}
	}
}

func TestDurationRoundTrip(t *testing.T) {
	for _, d := range []Duration{0, Duration(time.Second), Duration(90 * time.Minute), Duration(time.Nanosecond)} {
		text, _ := d.MarshalText()
		var got Duration
		if err := got.UnmarshalText(text); err != nil || got != d {
			t.Errorf("UnmarshalText(MarshalText(%v) = %q) = %v, %v, want %v", d, text, got, err, d)
		}
	}
}

func TestSizeUnmarshalText(t *testing.T) {
	for _, test := range []struct {
		in      string
		want    Size
		wantErr bool
	}{
		{in: "8MiB", want: 8 << 20},
		{in: "8 mib", want: 8 << 20},
		{in: "512KiB", want: 512 << 10},
		{in: "1GiB", want: 1 << 30},
		{in: "2TiB", want: 2 << 40},
		{in: "10MB", want: 10e6},
		{in: "3kb", want: 3000},
		{in: "1GB", want: 1e9},
		{in: "1TB", want: 1e12},
		{in: "100", want: 100},
		{in: "100B", want: 100},
		{in: "0", want: 0},
		{in: "", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "1.5MiB", wantErr: true},
		{in: "8 MiBs", wantErr: true},
		{in: "9223372036854775807B", want: 1<<63 - 1},
		{in: "9223372036854775808", wantErr: true},
		{in: "8388608TiB", wantErr: true}, // 2^63: overflows
	} {
		var s Size
		err := s.UnmarshalText([]byte(test.in))
		if (err != nil) != test.wantErr || s != test.want {
			t.Errorf("UnmarshalText(%q) = %d, %v, want %d, error %v", test.in, s, err, test.want, test.wantErr)
		}
	}
	var s Size
	want := `expected a size such as "8MiB", "512KiB" or a number of bytes, got "lots"`
	if got := errString(s.UnmarshalText([]byte("lots"))); got != want {
		t.Errorf("UnmarshalText(lots) error = %q, want %q", got, want)
	}
}

func TestSizeString(t *testing.T) {
	for _, test := range []struct {
		in   Size
		want string
	}{
		{0, "0B"}, {1, "1B"}, {1000, "1000B"}, {KiB, "1KiB"}, {8 * MiB, "8MiB"},
		{1536 * KiB, "1536KiB"}, {3 * GiB, "3GiB"}, {2 << 40, "2TiB"}, {-KiB, "-1KiB"},
	} {
		if got := test.in.String(); got != test.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(test.in), got, test.want)
		}
		if test.in < 0 {
			continue
		}
		text, _ := test.in.MarshalText()
		var back Size
		if err := back.UnmarshalText(text); err != nil || back != test.in {
			t.Errorf("UnmarshalText(%q) = %d, %v, want %d", text, back, err, test.in)
		}
	}
}

// errString returns err's message, or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
