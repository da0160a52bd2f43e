package node_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/parleychat/parley/shared/client"
	"github.com/parleychat/parley/shared/protocol"
)

// TestCIDInAnotherRoomRefused: a cid is the client's name for one message;
// re-using it in another room must not acknowledge the first room's
// message (the client would believe its second message stored).
func TestCIDInAnotherRoomRefused(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	s := signup(t, n.URL, "rita")
	api := client.NewAPI(n.URL, http.DefaultClient)
	if _, err := api.CreateRoom(context.Background(), s.AccessToken, "other"); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, n.URL, n.URL)
	c.auth(s.AccessToken)
	c.send(protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: "c1", Body: "in general"})
	if f := c.next(); f.Type != protocol.TypeAck || f.Room != "general" {
		t.Fatalf("first send: %+v, want ack in general", f)
	}
	c.send(protocol.Frame{Type: protocol.TypeSend, Room: "other", CID: "c1", Body: "in other"})
	if f := c.next(); f.Type != protocol.TypeError || f.Code != protocol.ErrConflict || f.Ref != "c1" {
		t.Fatalf("same cid in another room: %+v, want error conflict ref c1", f)
	}
	c.send(protocol.Frame{Type: protocol.TypeHistory, ID: "h", Room: "other"})
	if f := c.next(); len(f.Messages) != 0 {
		t.Fatalf("room other holds %+v, want nothing", f.Messages)
	}
	c.send(protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: "c1", Body: "in general"})
	if f := c.next(); f.Type != protocol.TypeAck || f.Offset != 1 {
		t.Fatalf("resend in the original room: %+v, want ack of offset 1", f)
	}
}

// TestBodiesNormalisedAndBidiRefused: bodies are stored in NFC, and a body
// with a bidi override or isolate is refused and stores nothing.
func TestBodiesNormalisedAndBidiRefused(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	c := dialRaw(t, n.URL, n.URL)
	c.auth(signup(t, n.URL, "sven").AccessToken)
	for i, body := range []string{"abc\u202Egpj.exe", "x\u2066y\u2069", "\u202Aa"} {
		cid := string(rune('a' + i))
		c.send(protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: cid, Body: body})
		if f := c.next(); f.Type != protocol.TypeError || f.Code != protocol.ErrBadRequest || f.Ref != cid {
			t.Fatalf("body %+q: %+v, want bad_request", body, f)
		}
	}
	c.send(protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: "nfc", Body: "cafe\u0301 \u200d"})
	if f := c.next(); f.Type != protocol.TypeAck || f.Offset != 1 {
		t.Fatalf("decomposed body: %+v, want ack of offset 1", f)
	}
	c.send(protocol.Frame{Type: protocol.TypeHistory, ID: "h", Room: "general"})
	f := c.next()
	if len(f.Messages) != 1 || f.Messages[0].Body != "caf\u00e9 \u200d" {
		t.Fatalf("history = %+v, want one message \"caf\\u00e9 \\u200d\"", f.Messages)
	}
}
