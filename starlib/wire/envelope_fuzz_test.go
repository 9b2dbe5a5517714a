package wire

import "testing"

// FuzzUnmarshalMsg feeds arbitrary bytes to every envelope type: decoding
// must fail cleanly or succeed, never panic or hang, and what decodes must
// encode again.
func FuzzUnmarshalMsg(f *testing.F) {
	for _, m := range []any{
		&Batch{Bundles: [][]byte{{1, 2}}, Tasks: []Task{{ID: 1, Client: "c", Kind: KindApply, Targets: []int{0, 1}, Bundle: 1, Payload: []byte{0x80}, Comm: &Comm{Job: "j", Ranks: []int{0}}}}},
		&Results{Results: []Result{{Task: 1, Engine: 2, Status: StatusError, Err: &Error{Type: "RemoteError", Message: "m"}, Items: []ItemError{{Index: 1}}}}},
		&Register{Protocol: ProtocolVersion, Daemon: "d", Engines: 2, Reclaim: []int{3}},
		&Heartbeat{Daemon: "d", Engines: []EngineStat{{ID: 1, State: StateBusy}}},
		&Control{Op: OpAbort, Client: "c", Tasks: []uint64{1}},
		&Query{Op: QueryEngines},
	} {
		data, err := MarshalMsg(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range []any{&Batch{}, &Results{}, &Register{}, &Heartbeat{}, &Control{}, &Query{}, &Event{}, &Done{}, &Output{}, &Jobs{}} {
			if UnmarshalMsg(data, m) == nil {
				if _, err := MarshalMsg(m); err != nil {
					t.Errorf("%T decoded but does not encode again: %v", m, err)
				}
			}
		}
	})
}
