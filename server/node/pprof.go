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

// servePprof serves net/http/pprof on its own listener until ctx ends. It
// is off unless --pprof-addr is set, and never on the public mux: a
// profile shows what the node is doing to anyone who can reach it.
func (n *Node) servePprof(ctx context.Context, ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		n.log.Warn("pprof server", "err", err)
	}
}

// listenPprof opens the --pprof-addr listener (nil when it is off).
func (n *Node) listenPprof() (net.Listener, error) {
	if n.cfg.PprofAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", n.cfg.PprofAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for pprof on %s: %w", n.cfg.PprofAddr, err)
	}
	n.log.Info("pprof", "addr", ln.Addr().String())
	return ln, nil
}
