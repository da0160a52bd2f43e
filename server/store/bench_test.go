package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley/server/store"
	"github.com/parleychat/parley/shared/testenv"
)

// benchStores opens each implementation on an empty database.
var benchStores = []struct {
	name string
	open func(b *testing.B) store.Store
}{
	{"SQLite", func(b *testing.B) store.Store {
		return openSQLiteAt(b, filepath.Join(b.TempDir(), "bench.db"))
	}},
	{"Postgres", func(b *testing.B) store.Store {
		return openPostgresAt(b, testenv.Postgres(b))
	}},
}

var benchBody = strings.Repeat("lorem ipsum ", 8) // ~100 bytes, a typical chat line

func benchRooms(b *testing.B, s store.Store, n int) []string {
	b.Helper()
	rooms := make([]string, n)
	for i := range rooms {
		rooms[i] = fmt.Sprintf("room%d", i)
		if _, err := s.CreateRoom(context.Background(), rooms[i], "bench"); err != nil {
			b.Fatal(err)
		}
	}
	return rooms
}

func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	for _, impl := range benchStores {
		b.Run(impl.name+"/Sequential", func(b *testing.B) {
			s := impl.open(b)
			room := benchRooms(b, s, 1)[0]
			i := 0
			for b.Loop() {
				i++
				m := store.Message{Room: room, Author: "alice", Body: benchBody, CID: fmt.Sprint(i)}
				if _, _, err := s.Append(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, nRooms := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/Parallel/%dRooms", impl.name, nRooms), func(b *testing.B) {
				s := impl.open(b)
				rooms := benchRooms(b, s, nRooms)
				var seq atomic.Int64
				b.SetParallelism(4) // 4×GOMAXPROCS senders
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := seq.Add(1)
						m := store.Message{Room: rooms[i%int64(nRooms)], Author: "alice", Body: benchBody, CID: fmt.Sprint(i)}
						if _, _, err := s.Append(ctx, m); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

func BenchmarkHistory(b *testing.B) {
	const stored = 10_000
	ctx := context.Background()
	for _, impl := range benchStores {
		s := impl.open(b)
		room := benchRooms(b, s, 1)[0]
		fillBench(b, s, room, stored)
		b.Run(impl.name+"/Newest50", func(b *testing.B) {
			for b.Loop() {
				if msgs, err := s.History(ctx, room, store.Page{Newest: true, Limit: 50}); err != nil || len(msgs) != 50 {
					b.Fatal(len(msgs), err)
				}
			}
		})
		b.Run(impl.name+"/Before50Random", func(b *testing.B) {
			for b.Loop() {
				before := 51 + rand.Int64N(stored-50)
				if msgs, err := s.History(ctx, room, store.Page{Before: before, Limit: 50}); err != nil || len(msgs) != 50 {
					b.Fatal(len(msgs), err)
				}
			}
		})
		b.Run(impl.name+"/After1000", func(b *testing.B) {
			for b.Loop() {
				if msgs, err := s.History(ctx, room, store.Page{After: stored / 2, Limit: 1000}); err != nil || len(msgs) != 1000 {
					b.Fatal(len(msgs), err)
				}
			}
		})
		b.Run(impl.name+"/Parallel/Newest50", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if msgs, err := s.History(ctx, room, store.Page{Newest: true, Limit: 50}); err != nil || len(msgs) != 50 {
						b.Error(len(msgs), err)
						return
					}
				}
			})
		})
	}
}

// fillBench appends n messages to room from a few goroutines.
func fillBench(b *testing.B, s store.Store, room string, n int) {
	b.Helper()
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				m := store.Message{Room: room, Author: "alice", Body: benchBody, CID: fmt.Sprint(i)}
				if _, _, err := s.Append(context.Background(), m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// BenchmarkAccess is the membership check every send and history request
// pays: one indexed read of a private room with 100 members.
func BenchmarkAccess(b *testing.B) {
	ctx := context.Background()
	for _, impl := range benchStores {
		b.Run(impl.name, func(b *testing.B) {
			s := impl.open(b)
			if _, err := s.CreateRoomOf(ctx, "club", "private", "owner"); err != nil {
				b.Fatal(err)
			}
			for i := range 100 {
				if err := s.AddMember(ctx, "club", fmt.Sprint("member", i), "member"); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				i++
				if a, err := s.Access(ctx, "club", fmt.Sprint("member", i%100)); err != nil || !a.CanRead() {
					b.Fatal(a, err)
				}
			}
		})
	}
}

// BenchmarkDeleteRoom deletes a private room of 50 members and 1000
// messages (each mentioning a member), with everything of it; the
// filling is not timed. Run it with a fixed count (-benchtime=20x):
// each iteration fills a room first.
func BenchmarkDeleteRoom(b *testing.B) {
	ctx := context.Background()
	for _, impl := range benchStores {
		b.Run(impl.name+"/1000Messages", func(b *testing.B) {
			s := impl.open(b)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				room := fmt.Sprint("club", i)
				if _, err := s.CreateRoomOf(ctx, room, "private", "owner"); err != nil {
					b.Fatal(err)
				}
				for m := range 50 {
					if err := s.AddMember(ctx, room, fmt.Sprint("member", m), "member"); err != nil {
						b.Fatal(err)
					}
				}
				for m := range 1000 {
					msg := store.Message{Room: room, Author: "owner", Body: fmt.Sprintf("@member%d %s", m%50, benchBody), CID: fmt.Sprint(room, "-", m)}
					if _, _, err := s.Append(ctx, msg); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if members, err := s.DeleteRoom(ctx, room); err != nil || len(members) != 51 {
					b.Fatal(len(members), err)
				}
			}
		})
	}
}

// BenchmarkAppendBatch compares a sender's 8 queued messages stored one
// Append at a time with one AppendAll: ns/msg is the cost per message.
func BenchmarkAppendBatch(b *testing.B) {
	ctx := context.Background()
	const size = 8
	for _, impl := range benchStores {
		for _, batched := range []bool{false, true} {
			name := impl.name + "/OneAtATime"
			if batched {
				name = impl.name + "/AppendAll8"
			}
			b.Run(name, func(b *testing.B) {
				s := impl.open(b)
				room := benchRooms(b, s, 1)[0]
				ms := make([]store.Message, size)
				i := 0
				for b.Loop() {
					for j := range ms {
						i++
						ms[j] = store.Message{Room: room, Author: "alice", Body: benchBody, CID: fmt.Sprint(i)}
					}
					if batched {
						if _, err := s.AppendAll(ctx, ms); err != nil {
							b.Fatal(err)
						}
						continue
					}
					for _, m := range ms {
						if _, _, err := s.Append(ctx, m); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/msg")
			})
		}
	}
}
