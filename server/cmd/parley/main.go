// Command parley is the whole of Parley in one binary: run with no
// subcommand (or "serve") it serves the web app, the HTTP API and the
// WebSocket endpoint; "parley chat" is a terminal client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/parleychat/parley/server/loadgen"
	"github.com/parleychat/parley/server/node"
	"github.com/parleychat/parley/shared/client/term"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `Parley: realtime chat.

Usage:
  parley [serve] [flags]   serve the web app, API and WebSocket endpoint (see parley serve --help)
  parley chat [flags]      chat from the terminal (see parley chat --help)
  parley bench [flags]     load-test running nodes over loopback (see parley bench --help)
  parley health [flags]    exit 0 when a node answers its health check (for container health checks)
  parley gen-certs [flags] write a private CA and a server certificate for TLS to Redis and PostgreSQL
  parley help              this text
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stderr)
	case "chat":
		err = term.Run(ctx, args, stdin, stdout, stderr)
	case "bench":
		err = loadgen.Main(ctx, args, stdin, stdout, stderr)
	case "health":
		err = health(ctx, args, stdout, stderr)
	case "gen-certs":
		err = genCerts(args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "parley: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "parley %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(stderr, "parley %s: %v\n", cmd, err)
		return 1
	}
}

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := node.ParseFlags("parley serve", args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, "\n"+usage)
		return err
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	log, err := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	if err != nil {
		return err
	}
	n, err := node.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	return n.Run(ctx)
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}
