package client

import (
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

func msgFrame(offset int64) []byte {
	b, err := protocol.Encode(protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{
		Room: "general", Offset: offset, Author: "alice", CID: NewCID(),
		Body: strings.Repeat("hello parley ", 8), TS: time.Now().UnixMilli(),
	}})
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkDecodeMsg measures protocol.Decode of a typical msg frame.
func BenchmarkDecodeMsg(b *testing.B) {
	data := msgFrame(12345)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protocol.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDispatchMsg measures the client's whole path for one incoming
// msg frame: decode, validate, dedupe, outbox check, OnEvent.
func BenchmarkDispatchMsg(b *testing.B) {
	const ring = 1024
	frames := make([][]byte, ring)
	for i := range frames {
		frames[i] = msgFrame(int64(i + 1))
	}
	delivered := 0
	c := New(Config{URL: "ws://unused", OnEvent: func(ev Event) {
		if ev.Kind == EventMessage {
			delivered++
		}
	}})
	_ = c.Subscribe("general", 0)
	cn := newConn(nil, 1, protocol.Frame{User: "bob"}, time.Minute, 16)
	b.SetBytes(int64(len(frames[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == ring {
			i = 0
			c.rooms["general"].last = 0
		}
		c.handle(cn, frames[i])
		i++
	}
	if delivered == 0 {
		b.Fatal("nothing delivered")
	}
}

// BenchmarkDispatchDuplicate measures dropping an already seen msg frame.
func BenchmarkDispatchDuplicate(b *testing.B) {
	data := msgFrame(1)
	c := New(Config{URL: "ws://unused"})
	_ = c.Subscribe("general", 5)
	cn := newConn(nil, 1, protocol.Frame{User: "bob"}, time.Minute, 16)
	b.ReportAllocs()
	for b.Loop() {
		c.handle(cn, data)
	}
}
