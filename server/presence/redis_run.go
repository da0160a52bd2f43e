package presence

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Run renews this node's entries every Heartbeat and sweeps the rooms
// where this node has users every Sweep, until ctx is cancelled or Close
// is called. It calls changed (from Run's goroutine) with the rooms whose
// user lists changed without a Join or Leave here: entries of another
// node expired, or, one heartbeat after Redis lost this node's entries,
// every room of this node. Redis failures are logged and retried at the
// next tick; Run returns nil unless it was already running or closed.
func (p *Redis) Run(ctx context.Context, changed func(rooms []string)) error {
	if err := p.startRunning(); err != nil {
		return err
	}
	heartbeat := time.NewTicker(p.heartbeat)
	defer heartbeat.Stop()
	sweep := time.NewTicker(p.sweep)
	defer sweep.Stop()
	resync := time.NewTimer(time.Hour)
	resync.Stop()
	defer resync.Stop()
	st := &runState{reported: make(map[string]map[string]struct{})}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.done:
			return nil
		case <-heartbeat.C:
			if p.beat(ctx, st) && !st.resyncing {
				st.resyncing = true
				resync.Reset(p.heartbeat)
			}
		case <-sweep.C:
			if rooms := p.sweepRooms(ctx, st); len(rooms) > 0 {
				changed(rooms)
			}
		case <-resync.C:
			st.resyncing = false
			if rooms := p.rooms(); len(rooms) > 0 {
				changed(rooms)
			}
		}
	}
}

// runState belongs to Run's goroutine.
type runState struct {
	failing   bool                           // the last heartbeat failed
	resyncing bool                           // a report of every room is due
	reported  map[string]map[string]struct{} // room → expired members already reported
}

func (p *Redis) startRunning() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.running {
		return errors.New("presence already running")
	}
	p.running = true
	return nil
}

// beat renews every entry of this node and reports whether some were
// missing from Redis.
func (p *Redis) beat(ctx context.Context, st *runState) bool {
	ctx, cancel := context.WithTimeout(ctx, p.heartbeat)
	defer cancel()
	p.mu.Lock()
	if p.closed || len(p.local) == 0 {
		p.mu.Unlock()
		return false
	}
	added, err := p.refresh(ctx, p.snapshot())
	p.mu.Unlock()
	switch {
	case err != nil && !st.failing:
		p.log.Warn("redis presence: heartbeat failed; retrying", "err", err)
	case err == nil && st.failing:
		p.log.Info("redis presence: heartbeat restored", "rewritten", added)
	}
	st.failing = err != nil
	return added > 0
}

// sweepRooms looks for expired entries in the rooms where this node has
// users and returns the rooms with expiries not reported before.
func (p *Redis) sweepRooms(ctx context.Context, st *runState) []string {
	rooms := p.rooms()
	ctx, cancel := context.WithTimeout(ctx, p.sweep)
	defer cancel()
	// Expired entries stay for two sweeps and a TTL before a sweep deletes
	// them, so that every node with users in the room sees them expire,
	// even one whose sweeps run late on a busy machine: two sweeps alone
	// let a punctual node delete them before a late one had looked.
	grace := (2*p.sweep + p.ttl).Milliseconds()
	expired := make(map[string]map[string]struct{}, len(rooms))
	for chunk := range slices.Chunk(rooms, scriptChunk) {
		keys := make([]string, len(chunk))
		for i, room := range chunk {
			keys[i] = p.key(room)
		}
		res, err := sweepScript.Run(ctx, p.client, keys, grace).Slice()
		if err != nil {
			if !st.failing {
				p.log.Warn("redis presence: sweep failed", "err", err)
			}
			return nil
		}
		for i, room := range chunk {
			expired[room] = memberSet(res[i])
		}
	}
	return st.newlyExpired(expired)
}

// newlyExpired remembers the expired members per room and returns the
// rooms where some were not expired at the previous sweep.
func (st *runState) newlyExpired(expired map[string]map[string]struct{}) []string {
	var changed []string
	for room, members := range expired {
		for m := range members {
			if _, seen := st.reported[room][m]; !seen {
				changed = append(changed, room)
				break
			}
		}
	}
	clear(st.reported)
	for room, members := range expired {
		if len(members) > 0 {
			st.reported[room] = members
		}
	}
	slices.Sort(changed)
	return changed
}

func memberSet(v any) map[string]struct{} {
	list, _ := v.([]any)
	set := make(map[string]struct{}, len(list))
	for _, m := range list {
		if s, ok := m.(string); ok {
			set[s] = struct{}{}
		}
	}
	return set
}
