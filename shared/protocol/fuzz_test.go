package protocol

import (
	"bytes"
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
		`{"v":1,"type":"react","room":"general","cid":"r1","target":3,"body":"👍"}`,
		`{"v":1,"type":"msg","msg":{"room":"general","offset":3,"author":"a","body":"b","ts":1,"reactions":[{"emoji":"👍","count":1,"users":["a"]}],"reacted":4}}`,
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

// FuzzNextFrame splits arbitrary messages into frames: the frames it
// returns hold no newline and are not blank, splitting always ends, and
// the frames of a batch built with AppendBatch come back unchanged.
func FuzzNextFrame(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"pong","id":"1"}`,
		"{\"v\":1,\"type\":\"pong\"}\n{\"v\":1,\"type\":\"msg\"}",
		"\n\n{}\n \n",
		"a\r\nb",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var frames [][]byte
		rest := data
		for n := 0; ; n++ {
			if n > len(data) {
				t.Fatalf("more frames than bytes in %q", data)
			}
			var fr []byte
			fr, rest = NextFrame(rest)
			if fr == nil {
				break
			}
			if bytes.IndexByte(fr, '\n') >= 0 || len(bytes.TrimSpace(fr)) == 0 {
				t.Fatalf("frame %q from %q", fr, data)
			}
			_, _ = Decode(fr)
			frames = append(frames, fr)
		}
		var batch []byte
		for _, fr := range frames {
			batch = AppendBatch(batch, fr)
		}
		rest = batch
		for i := range frames {
			var fr []byte
			fr, rest = NextFrame(rest)
			if !bytes.Equal(fr, frames[i]) {
				t.Fatalf("frame %d of rebuilt batch = %q, want %q", i, fr, frames[i])
			}
		}
		if fr, _ := NextFrame(rest); fr != nil {
			t.Fatalf("rebuilt batch has an extra frame %q", fr)
		}
	})
}
