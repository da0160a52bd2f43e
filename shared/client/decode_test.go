package client

import (
	"strings"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

func TestDecodeNodeFrame(t *testing.T) {
	big, err := protocol.Encode(protocol.Frame{Type: protocol.TypeHistory, ID: "h1", Room: "r",
		Messages: []protocol.Message{{Room: "r", Offset: 1, Author: "a", Body: strings.Repeat("x", 2*protocol.MaxFrameBytes)}}})
	if err != nil {
		t.Fatal(err)
	}
	if f, err := decodeNodeFrame(big); err != nil || len(f.Messages) != 1 {
		t.Fatalf("large frame: %v", err)
	}
	pad := strings.Repeat(" ", protocol.MaxFrameBytes)
	for _, bad := range []string{
		`{"v":2,"type":"msg"}` + pad,
		`{"v":1}` + pad,
		`{"v":1,"type":"msg"` + pad,
		`[]`, `{"v":1}`, ``,
	} {
		if _, err := decodeNodeFrame([]byte(bad)); err == nil {
			t.Errorf("decoded %.30q", bad)
		}
	}
}

func FuzzHandle(f *testing.F) {
	f.Add([]byte(`{"v":1,"type":"msg","msg":{"room":"r","offset":3,"author":"a","body":"x"}}`))
	f.Add([]byte(`{"v":1,"type":"history","id":"g1","room":"r","messages":[{"room":"r","offset":2,"author":"a"}]}`))
	f.Add([]byte(`{"v":1,"type":"subscribed","room":"r","epoch":2,"head":1}`))
	f.Add([]byte(`{"v":1,"type":"error","code":"forbidden","ref":"g1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := New(Config{URL: "ws://unused"})
		_ = c.Subscribe("r", 1)
		cn := newConn(nil, 1, protocol.Frame{User: "a"}, minPing, 1024)
		c.handle(cn, data)
		c.handle(cn, data)
		if rs := c.rooms["r"]; rs != nil && len(rs.buf) > 0 && rs.buf[0].Offset <= rs.last {
			t.Fatalf("buffer holds offset %d at or below last %d", rs.buf[0].Offset, rs.last)
		}
	})
}
