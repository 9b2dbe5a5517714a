package wire

import "testing"

func TestErrorKindsRoundTrip(t *testing.T) {
	for _, kind := range []ErrorKind{RemoteError, EngineError, TimeoutError, TaskAborted, MemoryError, ImpossibleDependency} {
		in := Results{Results: []Result{{Task: 1, Status: StatusError, Err: &Error{Type: kind, Message: "m"}}}}
		data, err := MarshalMsg(&in)
		if err != nil {
			t.Fatalf("MarshalMsg(%s): %v", kind, err)
		}
		var out Results
		if err := UnmarshalMsg(data, &out); err != nil {
			t.Fatalf("UnmarshalMsg(%s): %v", kind, err)
		}
		if got := out.Results[0].Err; got == nil || got.Type != kind || got.Error() != string(kind)+": m" {
			t.Errorf("round trip of a %s error = %+v, want type %s and Error() %q", kind, got, kind, string(kind)+": m")
		}
	}
}
