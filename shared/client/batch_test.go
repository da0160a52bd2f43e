//go:build !js

package client

import (
	"slices"
	"testing"

	"github.com/parleychat/parley/shared/client/internal/peer"
	"github.com/parleychat/parley/shared/protocol"
	"github.com/parleychat/parley/shared/testenv"
)

// TestClientReadsBatchedMessages: the client asks for the batch feature,
// and handles every frame of a message that carries several, including
// frames after the welcome in the welcome's own message.
func TestClientReadsBatchedMessages(t *testing.T) {
	t.Parallel()
	p := peer.New(t)
	p.Configure(func(h *peer.Hooks) {
		h.AfterWelcome = []protocol.Frame{protocol.ErrorFrame(protocol.ErrBadRequest, "early", "sent with welcome")}
		h.OnFrame = func(c *peer.Conn, f protocol.Frame) bool {
			if f.Type != protocol.TypeSubscribe {
				return false
			}
			c.Subscribe(f.Room)
			msg := func(o int64) protocol.Frame {
				return protocol.Frame{Type: protocol.TypeMsg, Msg: &protocol.Message{Room: f.Room, Offset: o, Author: "bob", Body: "b", TS: 1}}
			}
			c.SendBatch(protocol.Frame{Type: protocol.TypeSubscribed, Room: f.Room, Epoch: 1, Head: 0}, msg(1), msg(2), msg(3))
			return true
		}
	})
	rec := &recorder{}
	c := New(testConfig(p, rec))
	if err := c.Subscribe("general", 0); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	testenv.Eventually(t, waitTimeout, "three messages from one batch", testenv.Cond(func() bool { return len(rec.offsets("general")) == 3 }))
	if got := rec.offsets("general"); !equalOffsets(got, seq(1, 3)) {
		t.Fatalf("offsets = %v", got)
	}
	errs := rec.kind(EventError)
	if len(errs) != 1 || errs[0].Ref != "early" {
		t.Fatalf("error events = %+v, want the one sent with welcome", errs)
	}
	evs := rec.all()
	if evs[0].Kind != EventConnected {
		t.Fatalf("first event = %v, want connected before the frames after welcome", evs[0].Kind)
	}
	if f := p.Features(); len(f) != 1 || !slices.Contains(f[0], protocol.FeatureBatch) {
		t.Fatalf("auth features = %q, want batch", f)
	}
}
