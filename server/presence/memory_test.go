package presence_test

import (
	"testing"

	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/presence/presencetest"
)

func TestMemory(t *testing.T) {
	presencetest.Run(t, func(t *testing.T) presence.Presence {
		m := presence.NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		return m
	})
}

// TestMemoryCountsJoins: Memory counts Joins, so a user joined twice stays
// until the second Leave (Redis keeps one entry per node instead).
func TestMemoryCountsJoins(t *testing.T) {
	m := presence.NewMemory()
	defer m.Close()
	presencetest.Join(t, m, "room", "zoe", "zoe")
	presencetest.Leave(t, m, "room", "zoe")
	presencetest.WantUsers(t, m, "room", "zoe")
	presencetest.Leave(t, m, "room", "zoe")
	presencetest.WantUsers(t, m, "room")
}
