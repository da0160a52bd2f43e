package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/server/store/storetest"
	"github.com/parleychat/parley/shared/testenv"
)

// openPostgresAt opens the database at url, closed when t ends.
func openPostgresAt(t testing.TB, url string) *store.Postgres {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), url, 10)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgresAt(t, testenv.Postgres(t)) })
}

// TestPostgresMultiNode runs separate pools, as separate nodes would, on
// one database; they also migrate it at once on start.
func TestPostgresMultiNode(t *testing.T) {
	storetest.RunMultiNode(t, func(t *testing.T, n int) []store.Store {
		url := testenv.Postgres(t)
		stores := make([]store.Store, n)
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() { stores[i] = openPostgresAt(t, url) })
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		return stores
	})
}

func TestPostgresReopen(t *testing.T) {
	ctx := context.Background()
	url := testenv.Postgres(t)
	s := openPostgresAt(t, url)
	if _, err := s.CreateRoom(ctx, "kept", "alice"); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openPostgresAt(t, url)
	if r, err := s.Room(ctx, "kept"); err != nil || r.CreatedBy != "alice" {
		t.Fatalf("after reopen: Room = %+v, %v", r, err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 7 {
		t.Fatalf("schema_migrations rows = %d, %v; want 7 (one per migration)", n, err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (999, 'future')`); err != nil {
		t.Fatal(err)
	}
	if s, err := store.OpenPostgres(ctx, url, 2); err == nil {
		_ = s.Close()
		t.Fatal("OpenPostgres accepted a database from a newer version")
	}
}

// TestPostgresServerRestart checks that appends fail while the database
// is down, consume no offset, and work again once it is back.
func TestPostgresServerRestart(t *testing.T) {
	ctx := context.Background()
	srv := testenv.NewPostgres(t)
	s := openPostgresAt(t, srv.FreshDatabase(t))
	if _, err := s.CreateRoom(ctx, "r", "alice"); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	msg := store.Message{Room: "r", Author: "alice", Body: "before"}
	if _, _, err := s.Append(ctx, msg); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	down, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, _, err := s.Append(down, msg); err == nil {
		t.Fatal("Append succeeded with the database down")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var m store.Message
	testenv.Eventually(t, 60*time.Second, "Append after restart", func() error {
		var err error
		m, _, err = s.Append(ctx, store.Message{Room: "r", Author: "alice", Body: "after"})
		return err
	})
	if m.Offset != 2 {
		t.Fatalf("offset after restart = %d, want 2", m.Offset)
	}
}

// TestPostgresAppendAllRetriesATwinCommittedMeanwhile: two nodes append
// the same batch (one author, the same cids) to a room at once. Each
// batch checks its cids on its statement's snapshot, then waits for the
// room's row; the one that gets the row second still sees no twin
// (READ COMMITTED rechecks the row, not the snapshot), so it is the
// unique index that refuses its insert and aborts its batch. AppendAll
// must try again, find the twins and return them as duplicates: one copy
// stored, the same offsets for both callers. The test holds the room's
// row until both batches wait for it, so the conflict happens every round.
func TestPostgresAppendAllRetriesATwinCommittedMeanwhile(t *testing.T) {
	ctx := context.Background()
	url := testenv.Postgres(t)
	nodes := []*store.Postgres{openPostgresAt(t, url), openPostgresAt(t, url)}
	if _, err := nodes[0].CreateRoom(ctx, "race", "alice"); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const rounds, batch = 5, 3
	for round := range rounds {
		var ms []store.Message
		for j := range batch {
			ms = append(ms, store.Message{Room: "race", Author: "alice", Body: "twin", CID: fmt.Sprintf("c%d-%d", round, j)})
		}
		got, errs := appendBothWhileRoomHeld(t, conn, nodes, ms)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: node %d: AppendAll: %v", round, i, err)
			}
		}
		checkTwins(t, round, got[0], got[1])
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM messages WHERE room = 'race' AND author = 'alice' AND body = 'twin'`).Scan(&n); err != nil || n != rounds*batch {
		t.Fatalf("stored %d messages (%v), want %d: one copy of each", n, err, rounds*batch)
	}
}

// appendBothWhileRoomHeld runs ms through AppendAll on every node at once
// while conn holds the room's row, and lets go once every batch waits
// for it.
func appendBothWhileRoomHeld(t *testing.T, conn *pgx.Conn, nodes []*store.Postgres, ms []store.Message) ([][]store.Appended, []error) {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after the commit below, a no-op
	if _, err := tx.Exec(ctx, `SELECT 1 FROM rooms WHERE name = $1 FOR UPDATE`, ms[0].Room); err != nil {
		t.Fatal(err)
	}
	got, errs := make([][]store.Appended, len(nodes)), make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, s := range nodes {
		wg.Go(func() { got[i], errs[i] = s.AppendAll(ctx, ms) })
	}
	testenv.Eventually(t, 30*time.Second, "every batch waits for the room's row", func() error {
		var waiting int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			return err
		}
		if waiting < len(nodes) {
			return fmt.Errorf("%d of %d wait", waiting, len(nodes))
		}
		return nil
	})
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return got, errs
}

// checkTwins checks that two AppendAll results of one batch agree on
// every offset, and that exactly one stored each message.
func checkTwins(t *testing.T, round int, a, b []store.Appended) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("round %d: %d and %d results", round, len(a), len(b))
	}
	for j := range a {
		if a[j].Offset != b[j].Offset || a[j].Offset == 0 || a[j].CID != b[j].CID {
			t.Fatalf("round %d, message %d: offsets %d and %d (cids %q, %q)", round, j, a[j].Offset, b[j].Offset, a[j].CID, b[j].CID)
		}
		if a[j].Dup == b[j].Dup {
			t.Fatalf("round %d, message %d: dup %v and %v, want one stored and one duplicate", round, j, a[j].Dup, b[j].Dup)
		}
	}
}
