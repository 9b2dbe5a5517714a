package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSignature(t *testing.T) {
	s, err := newSigner("hmac-sha256", "secret")
	if err != nil {
		t.Fatal(err)
	}
	// Python: hmac.new(b"secret", b'{"a":1}{}{}{}', hashlib.sha256).hexdigest()
	for _, test := range []struct {
		parts []string
		want  string
	}{
		{[]string{`{"a":1}`, `{}`, `{}`, `{}`}, "5439160579203ae5952244a353b0f81b6ca58a3fb44727217799b393ee79601c"},
	} {
		var parts [][]byte
		for _, p := range test.parts {
			parts = append(parts, []byte(p))
		}
		got := string(s.mac(parts...))
		if got != test.want {
			t.Errorf("mac(%q) = %s, want %s", test.parts, got, test.want)
		}
		if !s.verify([]byte(got), parts...) {
			t.Errorf("verify(mac(%q)) = false, want true", test.parts)
		}
		if !s.verify([]byte(strings.ToUpper(got)), parts...) {
			t.Errorf("verify(upper-case mac(%q)) = false, want true", test.parts)
		}
		bad := []byte(got)
		bad[0] ^= 1
		if s.verify(bad, parts...) {
			t.Errorf("verify(altered mac) = true, want false")
		}
	}
	other, _ := newSigner("hmac-sha256", "other")
	if got, want := string(other.mac([]byte("x"))), string(s.mac([]byte("x"))); got == want {
		t.Errorf("mac under two keys = %q for both, want different", got)
	}
	if _, err := newSigner("hmac-md5", "k"); err == nil {
		t.Errorf("newSigner(hmac-md5) = nil error, want one naming the scheme")
	}
	var none *signer
	if !none.verify([]byte("anything"), []byte("x")) || none.mac([]byte("x")) != nil {
		t.Errorf("a connection without a key must sign with \"\" and accept any signature")
	}
}

func TestSignatureKnownValue(t *testing.T) {
	// The value Python's hmac.new(b"key", digestmod=sha256) gives for the
	// four parts h, p, m, c concatenated.
	s, _ := newSigner("hmac-sha256", "key")
	got := string(s.mac([]byte("h"), []byte("p"), []byte("m"), []byte("c")))
	want := string(s.mac([]byte("hpmc")))
	if got != want {
		t.Errorf("mac(h, p, m, c) = %s, want mac(hpmc) = %s", got, want)
	}
}

func TestFraming(t *testing.T) {
	s, _ := newSigner("hmac-sha256", "k")
	m := &Message{
		Identities: [][]byte{[]byte("client-1")},
		Header:     Header{MsgID: "1", Session: "s", MsgType: "execute_request", Version: ProtocolVersion},
		Parent:     json.RawMessage(`{}`),
		Metadata:   json.RawMessage(`{}`),
		Content:    json.RawMessage(`{"code":"1+1"}`),
		Buffers:    [][]byte{[]byte("buf")},
	}
	frames, err := s.encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 8 || !bytes.Equal(frames[1], delimiter) {
		t.Fatalf("encode = %d frames with %q second, want 8 with the delimiter second", len(frames), frames[1])
	}
	got, err := s.decode(frames)
	if err != nil {
		t.Fatalf("decode(encode(m)) error %v", err)
	}
	if string(got.Identities[0]) != "client-1" || got.Header != m.Header || string(got.Content) != string(m.Content) ||
		len(got.Buffers) != 1 || string(got.Buffers[0]) != "buf" {
		t.Errorf("decode(encode(m)) = %+v, want %+v", got, m)
	}

	for _, test := range []struct {
		name   string
		frames [][]byte
		want   string
	}{
		{"no delimiter", [][]byte{[]byte("a"), []byte("b")}, "no <IDS|MSG> delimiter"},
		{"too few frames", [][]byte{delimiter, []byte("sig"), []byte("{}")}, "want at least 5"},
		{"bad signature", append([][]byte{delimiter, []byte("00")}, frames[3:7]...), "bad signature"},
		{"header not JSON", signed(s, "{", "{}", "{}", "{}"), "header"},
		{"no msg_type", signed(s, `{"msg_id":"1"}`, "{}", "{}", "{}"), "no msg_type"},
		{"content not an object", signed(s, `{"msg_type":"x"}`, "{}", "{}", "[1]"), "content: not a JSON object"},
	} {
		_, err := s.decode(test.frames)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: decode error = %v, want one containing %q", test.name, err, test.want)
		}
	}
	if _, err := s.decode(append([][]byte{delimiter, []byte("00")}, frames[3:7]...)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("decode of a badly signed message = %v, want ErrBadSignature", err)
	}
}

// signed returns the frames of four JSON parts, correctly signed.
func signed(s *signer, header, parent, meta, content string) [][]byte {
	h, p, m, c := []byte(header), []byte(parent), []byte(meta), []byte(content)
	return [][]byte{delimiter, s.mac(h, p, m, c), h, p, m, c}
}

func TestConnInfo(t *testing.T) {
	for _, test := range []struct {
		ci   ConnInfo
		want string // "" = valid
	}{
		{ConnInfo{IP: "127.0.0.1", ShellPort: 1, Key: "k"}, ""},
		{ConnInfo{Transport: "ipc", IP: "x"}, `transport "ipc"`},
		{ConnInfo{}, "ip: missing"},
		{ConnInfo{IP: "127.0.0.1", HBPort: 70000}, "hb_port: 70000 is not a port"},
		{ConnInfo{IP: "127.0.0.1", Key: "k", SignatureScheme: "hmac-md5"}, `signature_scheme "hmac-md5"`},
	} {
		err := test.ci.Validate()
		switch {
		case test.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", test.ci, err)
		case test.want != "" && (err == nil || !strings.Contains(err.Error(), test.want)):
			t.Errorf("Validate(%+v) = %v, want an error containing %q", test.ci, err, test.want)
		}
	}
}

func TestByteOffset(t *testing.T) {
	for _, test := range []struct {
		s    string
		n    int
		want int
	}{
		{"abc", 2, 2}, {"héllo", 2, 3}, {"héllo", 99, 6}, {"x", -1, 0}, {"€a", 1, 3},
	} {
		if got := byteOffset(test.s, test.n); got != test.want {
			t.Errorf("byteOffset(%q, %d) = %d, want %d", test.s, test.n, got, test.want)
		}
	}
}

func TestEnds(t *testing.T) {
	if got := ends(3); len(got) != 3 || got[2] != 2 {
		t.Errorf("ends(3) = %v, want [0 1 2]", got)
	}
	got := ends(100)
	if len(got) != 2*edge+1 || got[edge] != -1 || got[len(got)-1] != 99 {
		t.Errorf("ends(100) = %v, want the first %d, -1, the last %d", got, edge, edge)
	}
}
