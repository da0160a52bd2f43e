package protocol

import (
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder and the validators, as a
// node does with whatever a client sends: none may panic, and every frame
// that decodes must survive a re-encode/decode round trip unchanged in its
// validation verdict.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"v":1,"type":"auth","token":"x.y.z"}`,
		`{"v":1,"type":"subscribe","room":"general","since":10}`,
		`{"v":1,"type":"send","room":"general","cid":"abc","body":"hi there"}`,
		`{"v":1,"type":"history","id":"1","room":"general","before":20,"limit":50}`,
		`{"v":1,"type":"msg","msg":{"room":"general","offset":1,"author":"a","body":"b","ts":1}}`,
		`{"v":1,"type":"typing","room":"general"}`,
		`{"v":1,"type":"ping","id":"p"}`,
		`{"v":1,"type":"send","room":"general","cid":"abc","body":"\u0000"}`,
		`{"v":1,"type":"subscribe","room":5}`,
		`{"v":1,"type":`,
		`[]`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Decode(data)
		if err != nil {
			return
		}
		verdict := ValidateClient(fr) == nil
		_ = ValidateServer(fr)
		b, err := Encode(fr)
		if err != nil {
			t.Fatalf("re-encode decoded frame: %v", err)
		}
		if len(b) > MaxFrameBytes {
			return // escaping grew it past the limit; the node would refuse it too
		}
		again, err := Decode(b)
		if err != nil {
			t.Fatalf("decode re-encoded frame %q: %v", b, err)
		}
		if (ValidateClient(again) == nil) != verdict {
			t.Fatalf("validation verdict changed after round trip: %q", b)
		}
	})
}
