package store_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/parleychat/parley/server/store"
)

func TestUnreachable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", fmt.Errorf("get room: %w", store.ErrNotFound), false},
		{"conflict", store.ErrConflict, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"cancelled", context.Canceled, false},
		{"refused", fmt.Errorf("append: %w", refused), true},
		{"cut", fmt.Errorf("append: %w", io.ErrUnexpectedEOF), true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
	} {
		if got := store.Unreachable(c.err); got != c.want {
			t.Errorf("%s: Unreachable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
