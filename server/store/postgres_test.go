package store_test

import (
	"context"
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
