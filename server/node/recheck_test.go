package node_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/protocol"
)

// TestRecheckClosesSocketOfSessionEndedWithoutBroadcast ends a session
// in the store behind the node's back (as if the node had missed the
// broadcast: another node ended it while Redis was down). The periodic
// recheck finds it and closes the socket the usual way: a session_ended
// error frame, then 4502. A socket of another session stays open.
func TestRecheckClosesSocketOfSessionEndedWithoutBroadcast(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := startNode(t, func(c *node.Config) {
		c.DataDir = dir
		c.SessionRecheck = 100 * time.Millisecond
	})
	gone, kept := signup(t, n.URL, "frank"), signup(t, n.URL, "grace")
	sockGone, sockKept := liveSocket(t, n.URL, gone), liveSocket(t, n.URL, kept)

	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByName(ctx, "frank")
	if err != nil {
		t.Fatal(err)
	}
	if ended, err := db.EndSessions(ctx, u.ID, ""); err != nil || len(ended) != 1 {
		t.Fatalf("end frank's sessions in the store: %v, %v", ended, err)
	}

	if f := sockGone.next(); f.Type != protocol.TypeError || f.Code != protocol.ErrSessionEnded {
		t.Fatalf("before the close: %+v, want an error frame session_ended", f)
	}
	sockGone.expectClose(websocket.StatusCode(protocol.CloseSessionEnded))
	sockKept.send(protocol.Frame{Type: protocol.TypePing, ID: "p"})
	if f := sockKept.next(); f.Type != protocol.TypePong {
		t.Fatalf("other session's socket: %+v, want pong", f)
	}
}

func TestSessionRecheckFlag(t *testing.T) {
	t.Parallel()
	env := func(string) string { return "" }
	c, err := node.ParseFlags("test", nil, env, new(strings.Builder))
	if err != nil || c.SessionRecheck != time.Minute {
		t.Fatalf("default --session-recheck: %v, %v; want 1m", c.SessionRecheck, err)
	}
	if _, err := node.ParseFlags("test", []string{"--session-recheck", "0s"}, env, new(strings.Builder)); err == nil {
		t.Fatal("--session-recheck 0s accepted")
	}
	c, err = node.ParseFlags("test", nil, func(k string) string {
		if k == "PARLEY_SESSION_RECHECK" {
			return "30s"
		}
		return ""
	}, new(strings.Builder))
	if err != nil || c.SessionRecheck != 30*time.Second {
		t.Fatalf("PARLEY_SESSION_RECHECK=30s: %v, %v", c.SessionRecheck, err)
	}
}
