package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/server/broker"
)

// sessionsChannel is the broker channel that carries "these sessions
// ended" between nodes. It runs on a broker of its own (in-process, or a
// second Redis connection with its own channel prefix), so it never meets
// a room.
const (
	sessionsChannel = "ended"
	sessionsPrefix  = "parley:sessions:"
)

// endedMsg is the payload of a sessions broadcast.
type endedMsg struct {
	IDs []string `json:"ids"`
}

// sessionEvents ends sessions' sockets on every node. The node that ends a
// session closes its own sockets at once and publishes the ids; every node
// that receives them forgets what it cached about them and, once its store
// confirms they ended (a payload is never trusted on its own), closes its
// sockets of them. When the broker says it may have lost payloads, every
// node forgets its whole cache and rechecks every session it holds a
// socket of. Every --session-recheck it does the same without being
// told (Redis may have been down when a session ended, or the publish
// failed): that bounds how long a socket outlives its session.
type sessionEvents struct {
	n    *Node
	b    broker.Broker
	work chan []string // ids to check; owned by run
	lost atomic.Bool   // a batch did not fit in work: recheck everything
	// ended counts sockets closed because their session ended.
	ended atomic.Int64
}

func (n *Node) openSessionEvents() error {
	se := &sessionEvents{n: n, work: make(chan []string, 256)}
	if n.cfg.RedisURL == "" {
		mb := broker.NewMemory()
		se.b = mb
		n.closers = append(n.closers, mb.Close)
	} else {
		rb, err := broker.NewRedis(broker.RedisOptions{URL: n.cfg.RedisURL, TLS: n.redisTLS, Prefix: sessionsPrefix, Logger: n.log})
		if err != nil {
			return fmt.Errorf("open redis broker for sessions: %w", err)
		}
		se.b = rb
		n.closers = append(n.closers, rb.Close)
	}
	n.sessions = se
	return nil
}

// ended is auth.Config.Ended: this node ended sessions ids.
func (se *sessionEvents) endedHere(ids []string) {
	if ws := se.n.ws; ws != nil {
		se.ended.Add(int64(ws.EndSessions(ids)))
	}
	payload, err := json.Marshal(endedMsg{IDs: ids})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := se.b.Publish(ctx, sessionsChannel, payload); err != nil {
		se.n.log.Warn("could not tell other nodes that sessions ended; their sockets stay open until their next token check",
			"sessions", len(ids), "err", err)
	}
}

// Deliver implements broker.Handler.
func (se *sessionEvents) Deliver(_ string, payload []byte) {
	var m endedMsg
	if err := json.Unmarshal(payload, &m); err != nil || len(m.IDs) == 0 {
		se.n.log.Warn("ignored a malformed sessions broadcast", "bytes", len(payload))
		return
	}
	se.n.auth.Forget(m.IDs)
	se.enqueue(m.IDs)
}

// Interrupted implements broker.Handler.
func (se *sessionEvents) Interrupted([]string) {
	se.n.auth.Forget(nil)
	se.lost.Store(true)
	se.enqueue(nil)
}

func (se *sessionEvents) enqueue(ids []string) {
	select {
	case se.work <- ids:
	default:
		se.lost.Store(true)
	}
}

// run delivers the broadcast and checks the sessions it names until ctx
// ends. It owns the broker's Run.
func (se *sessionEvents) run(ctx context.Context) error {
	runDone := make(chan error, 1)
	go func() { runDone <- se.b.Run(ctx, se) }()
	if err := se.b.Subscribe(ctx, sessionsChannel); err != nil {
		se.n.log.Warn("sessions broadcast: subscribe failed; sockets of sessions ended on other nodes close at their next token check or --session-recheck", "err", err)
	}
	every := se.n.cfg.SessionRecheck
	if every <= 0 {
		every = time.Minute // a Config not from ParseFlags
	}
	recheck := time.NewTicker(every)
	defer recheck.Stop()
	for {
		select {
		case <-recheck.C:
			se.lost.Store(false)
			se.check(ctx, se.n.ws.SessionIDs())
		case <-ctx.Done():
			if err := <-runDone; err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("sessions broadcast: %w", err)
			}
			return nil
		case ids := <-se.work:
			if se.lost.Swap(false) {
				ids = append(ids, se.n.ws.SessionIDs()...)
			}
			se.check(ctx, ids)
		}
	}
}

// check closes the sockets of those of ids the store says ended, asking
// it in one batch.
func (se *sessionEvents) check(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	ended, err := se.n.auth.EndedSessions(cctx, ids)
	cancel()
	if err != nil {
		se.n.log.Warn("sessions: cannot check sessions now", "sessions", len(ids), "err", err)
		se.lost.Store(true) // try everything again with the next batch
		return
	}
	if len(ended) > 0 {
		se.ended.Add(int64(se.n.ws.EndSessions(ended)))
	}
}

// sweep deletes expired refresh tokens and sessions every interval until
// ctx ends.
func sweep(ctx context.Context, svc *auth.Service, every time.Duration, n *Node) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sctx, cancel := context.WithTimeout(ctx, time.Minute)
			purged, err := svc.Sweep(sctx)
			cancel()
			if err != nil {
				n.log.Warn("session sweep failed; the next one retries", "err", err)
				continue
			}
			n.log.Debug("session sweep", "purged", purged)
		}
	}
}
