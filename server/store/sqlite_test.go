package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/server/store/storetest"
	"github.com/parleychat/parley/shared/protocol"
)

// openSQLiteAt opens the database file at path, closed when t ends.
func openSQLiteAt(t testing.TB, path string) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openSQLiteAt(t, filepath.Join(t.TempDir(), "parley.db"))
	})
}

func TestSQLiteInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openSQLiteAt(t, ":memory:") })
}

// TestSQLiteMultiNode opens one file several times, as several processes
// would: SQLite's locking must keep offsets dense.
func TestSQLiteMultiNode(t *testing.T) {
	storetest.RunMultiNode(t, func(t *testing.T, n int) []store.Store {
		path := filepath.Join(t.TempDir(), "parley.db")
		stores := make([]store.Store, n)
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() { stores[i] = openSQLiteAt(t, path) })
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		return stores
	})
}

func TestSQLiteReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	room, err := s.CreateRoom(ctx, "kept", "alice")
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if _, err := s.CreateUser(ctx, "alice", "h"); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	first, _, err := s.Append(ctx, store.Message{Room: "kept", Author: "alice", Body: "hi", CID: "c1"})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for range 2 {
		s := openSQLiteAt(t, path)
		got, err := s.Room(ctx, "kept")
		if err != nil || got.Epoch != room.Epoch || got.Head != 1 {
			t.Fatalf("after reopen: Room = %+v, %v; want epoch %d head 1", got, err, room.Epoch)
		}
		if _, err := s.UserByName(ctx, "ALICE"); err != nil {
			t.Fatalf("after reopen: UserByName: %v", err)
		}
		again, dup, err := s.Append(ctx, store.Message{Room: "kept", Author: "alice", Body: "hi", CID: "c1"})
		if err != nil || !dup || again.Offset != first.Offset || !again.TS.Equal(first.TS) {
			t.Fatalf("after reopen: resend = %+v dup %v, %v; want %+v", again, dup, err, first)
		}
	}
	if n := countMigrations(t, path); n != 7 {
		t.Fatalf("schema_migrations has %d rows after three opens, want 7 (one per migration)", n)
	}
}

func countMigrations(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	return n
}

func TestSQLiteRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	openSQLiteAt(t, path)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if s, err := store.OpenSQLite(context.Background(), path); err == nil {
		_ = s.Close()
		t.Fatal("OpenSQLite accepted a database from a newer version")
	}
}

// TestSQLiteDeleteErasesText checks that a deleted message's text, and
// its edits' text, are gone from the database file, not only from
// History.
func TestSQLiteDeleteErasesText(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "erase.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRoom(ctx, "r", "alice"); err != nil {
		t.Fatal(err)
	}
	m, _, err := s.Append(ctx, store.Message{Room: "r", Author: "alice", Body: "zebra-quartz-original", CID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.Message{
		{Room: "r", Author: "alice", CID: "e1", Kind: protocol.MsgEdit, Target: m.Offset, Body: "zebra-quartz-edited"},
		{Room: "r", Author: "alice", CID: "d1", Kind: protocol.MsgDelete, Target: m.Offset},
	} {
		if _, _, err := s.Amend(ctx, e, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil { // the last connection checkpoints the WAL
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("zebra-quartz")) {
			t.Errorf("%s still holds the deleted text", filepath.Base(f))
		}
	}
}
