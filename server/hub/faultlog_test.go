package hub_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parleychat/parley/server/broker"
	"github.com/parleychat/parley/server/hub"
	"github.com/parleychat/parley/server/presence"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/testenv"
)

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(substr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), substr)
}

// TestRedisDownLogsOnce: 200 messages published while Redis is down write
// one warning, not 200; the recovery is logged once Redis is back.
func TestRedisDownLogsOnce(t *testing.T) {
	ctx := context.Background()
	rs := testenv.StartRedis(t)
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.EnsureRoom(ctx, "general"); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	br, err := broker.NewRedis(broker.RedisOptions{URL: rs.URL(), Prefix: t.Name() + ":", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	h := hub.New(hub.Config{Store: st, Broker: br, Presence: presence.NewMemory(), Logger: log})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	local := &recorder{user: "local"}
	testenv.Eventually(t, waitTimeout, "subscribed", testenv.Cond(func() bool { return h.Subscribe(ctx, local, "general", 0) == nil }))
	rs.Stop()
	const n = 200
	var offsets []int64
	for i := 0; i < n; i++ {
		m, _, err := st.Append(ctx, store.Message{Room: "general", Author: "ann", Body: "x", CID: fmt.Sprint("c", i)})
		if err != nil {
			t.Fatal(err)
		}
		offsets = append(offsets, m.Offset)
		if err := h.PublishMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, waitTimeout, "local gets all 200", local.hasOffsets(offsets...))
	if got := h.Stats().PublishFailures; got < n {
		t.Fatalf("publish failures = %d, want at least %d", got, n)
	}
	if got := logs.count("broker publish (delivering locally) failing"); got != 1 {
		t.Fatalf("%d publishes with Redis down logged %d failure lines, want 1", n, got)
	}
	if got := logs.count("level=WARN"); got > 5 {
		t.Fatalf("%d publishes with Redis down logged %d warnings in all, want a handful", n, got)
	}
	rs.Start()
	testenv.Eventually(t, waitTimeout, "recovery logged", testenv.Cond(func() bool {
		m, _, err := st.Append(ctx, store.Message{Room: "general", Author: "ann", Body: "back"})
		if err == nil {
			_ = h.PublishMessage(ctx, m)
		}
		return logs.count("broker publish (delivering locally) recovered") == 1
	}))
}
