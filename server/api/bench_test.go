package api

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/parleychat/parley/shared/protocol"
)

// BenchmarkListRooms measures one authenticated GET /api/rooms over a real
// socket: token verify, a store read of 20 rooms, JSON encoding.
func BenchmarkListRooms(b *testing.B) {
	e := newEnv(b, nil)
	s := e.signup("bench", "password1")
	for i := range 20 {
		if r := e.do("POST", protocol.PathRooms, roomBody(fmt.Sprintf("room-%02d", i)), bearer(s)...); r.status != http.StatusCreated {
			b.Fatalf("create room: %d %s", r.status, r.body)
		}
	}
	req, err := http.NewRequest("GET", e.url+protocol.PathRooms, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.AccessToken)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
