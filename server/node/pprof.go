package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofMux serves net/http/pprof. It is off unless --pprof-addr is set,
// and never on the public mux: a profile shows what the node is doing to
// anyone who can reach it.
func pprofMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// side is a listener of its own (--pprof-addr, --metrics-addr) and what
// it serves.
type side struct {
	what string
	ln   net.Listener
	h    http.Handler
}

// listenSides opens the listeners of the side endpoints that are on.
func (n *Node) listenSides() ([]side, error) {
	var sides []side
	for _, s := range []struct {
		what, addr string
		h          http.Handler
	}{
		{"pprof", n.cfg.PprofAddr, pprofMux()},
		{"metrics", n.cfg.MetricsAddr, &n.metrics},
	} {
		if s.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			for _, o := range sides {
				_ = o.ln.Close()
			}
			return nil, fmt.Errorf("listen for %s on %s: %w", s.what, s.addr, err)
		}
		n.log.Info(s.what, "addr", ln.Addr().String())
		sides = append(sides, side{what: s.what, ln: ln, h: s.h})
	}
	return sides, nil
}

// serveSides serves each side listener on a goroutine of its own; the
// returned function stops them and waits until they have.
func (n *Node) serveSides(sides []side) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, len(sides))
	for _, s := range sides {
		go func() {
			defer func() { done <- struct{}{} }()
			n.serveSide(ctx, s)
		}()
	}
	return func() {
		cancel()
		for range sides {
			<-done
		}
	}
}

// serveSide serves s until ctx ends.
func (n *Node) serveSide(ctx context.Context, s side) {
	srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		n.log.Warn(s.what+" server", "err", err)
	}
	<-stopped
}
