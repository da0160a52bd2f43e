package hub

import (
	"bytes"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

func TestRouteHeaded(t *testing.T) {
	frame := []byte(`{"v":1,"type":"msg","msg":{"room":"r","offset":42}}`)
	kind, off, got, ok := route("r", headed(kindMsg, 42, frame))
	if !ok || kind != kindMsg || off != 42 || !bytes.Equal(got, frame) {
		t.Fatalf("route(headed msg) = %c %d %q %v", kind, off, got, ok)
	}
	typing := []byte(`{"v":1,"type":"typing","room":"r","user":"ann"}`)
	if kind, _, got, ok := route("r", headed(kindTyping, 0, typing)); !ok || kind != kindTyping || !bytes.Equal(got, typing) {
		t.Fatalf("route(headed typing) = %c %q %v", kind, got, ok)
	}
	if kind, _, _, ok := route("r", presenceAnnouncement); !ok || kind != kindPresence {
		t.Fatalf("route(presence announcement) = %c %v", kind, ok)
	}
	removed := []byte(`{"v":1,"type":"removed","room":"r","user":"ann","code":"kicked"}`)
	if kind, _, got, ok := route("r", headed(kindRemoved, 0, removed)); !ok || kind != kindRemoved || !bytes.Equal(got, removed) {
		t.Fatalf("route(headed removed) = %c %q %v", kind, got, ok)
	}
}

// TestRouteBareFrames: payloads of nodes from before the header route the
// same, by decoding; a message for another room is refused.
func TestRouteBareFrames(t *testing.T) {
	msg, _ := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{Room: "r", Offset: 7, Author: "ann", Body: "hi", TS: 1}})
	if kind, off, got, ok := route("r", msg); !ok || kind != kindMsg || off != 7 || !bytes.Equal(got, msg) {
		t.Fatalf("route(bare msg) = %c %d %q %v", kind, off, got, ok)
	}
	if _, _, _, ok := route("other", msg); ok {
		t.Fatal("a bare msg of room r routed in room other")
	}
	pres, _ := protocol.Encode(protocol.Frame{Type: protocol.TypePresence, Room: "r"})
	if kind, _, _, ok := route("r", pres); !ok || kind != kindPresence {
		t.Fatalf("route(bare presence) = %c %v", kind, ok)
	}
	rem, _ := protocol.Encode(protocol.Frame{Type: protocol.TypeRemoved, Room: "r", User: "ann", Code: protocol.RemovedKicked})
	if kind, _, _, ok := route("r", rem); !ok || kind != kindRemoved {
		t.Fatalf("route(bare removed) = %c %v", kind, ok)
	}
}

func TestRouteRefusesGarbage(t *testing.T) {
	for _, p := range []string{
		"", "\n", "m\n{}", "m0\n{}", "m-3\n{}", "mx\n{}", "m99999999999999999999999\n{}",
		"t1\n{}", "p7\n{}", "r3\n{}", "x\n{}", "m12", "{not json", `{"v":1,"type":"ack"}`,
		"m" + string(bytes.Repeat([]byte("1"), 40)) + "\n{}",
	} {
		if kind, off, _, ok := route("r", []byte(p)); ok {
			t.Errorf("route(%q) = %c %d, want refused", p, kind, off)
		}
	}
}

func FuzzRoute(f *testing.F) {
	f.Add([]byte("m42\n{}"))
	f.Add([]byte("t\n{}"))
	f.Add(presenceAnnouncement)
	f.Add([]byte(`{"v":1,"type":"msg","msg":{"room":"r","offset":3,"author":"a"}}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		kind, off, frame, ok := route("r", p)
		if !ok {
			return
		}
		if kind == kindMsg && off <= 0 {
			t.Fatalf("route(%q): message offset %d", p, off)
		}
		if len(frame) > len(p) {
			t.Fatalf("route(%q): frame longer than the payload", p)
		}
		if kind == kindMsg && p[0] != '{' {
			// A headed message round-trips.
			if k2, o2, f2, ok2 := route("r", headed(kind, off, frame)); !ok2 || k2 != kind || o2 != off || !bytes.Equal(f2, frame) {
				t.Fatalf("route(headed(route(%q))) differs", p)
			}
		}
	})
}
