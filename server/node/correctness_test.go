package node_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/server/store"
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

// TestHistoryPageCappedInBytes: a history request for 50 messages of 8 KB
// each answers the newest that fit in protocol.HistoryPageMaxBytes, with
// more=true, and paging back from there reaches the rest.
func TestHistoryPageCappedInBytes(t *testing.T) {
	t.Parallel()
	n := startNode(t, func(c *node.Config) { c.SendBurst = 100 })
	c := dialRaw(t, n.URL, n.URL)
	c.auth(signup(t, n.URL, "hugo").AccessToken)
	big := strings.Repeat("é", protocol.MaxBodyRunes)
	const sent = 45
	for i := 0; i < sent; i++ {
		c.send(protocol.Frame{Type: protocol.TypeSend, Room: "general", CID: fmt.Sprint("h", i), Body: big})
		if f := c.next(); f.Type != protocol.TypeAck {
			t.Fatalf("send %d: %+v", i, f)
		}
	}
	m := store.Message{Room: "general", Author: "hugo", Body: big, CID: "h10"}
	fit := protocol.HistoryPageMaxBytes / hub.MessageCost(&m)
	var offsets []int64
	before := int64(0)
	for page := 0; ; page++ {
		c.send(protocol.Frame{Type: protocol.TypeHistory, ID: "h", Room: "general", Before: before, Limit: 50})
		f := c.next()
		if len(f.Messages) == 0 || len(f.Messages) > fit {
			t.Fatalf("page %d holds %d messages, want 1..%d", page, len(f.Messages), fit)
		}
		if page == 0 && (len(f.Messages) != fit || !f.More || f.Messages[len(f.Messages)-1].Offset != sent) {
			t.Fatalf("first page: %d messages ending at %d, more=%v; want the newest %d and more", len(f.Messages), f.Messages[len(f.Messages)-1].Offset, f.More, fit)
		}
		for _, m := range f.Messages {
			offsets = append([]int64{m.Offset}, offsets...)
		}
		if !f.More {
			break
		}
		before = f.Messages[0].Offset
	}
	if len(offsets) != sent {
		t.Fatalf("paging back collected %d messages, want %d", len(offsets), sent)
	}
}
