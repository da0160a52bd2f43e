package loadgen

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleychat/parley/server/auth"
)

// Main is `parley bench`: `parley bench worker` is a worker process;
// anything else runs one shape against running nodes and prints a table
// (and JSON with --json).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "worker" {
		return Worker(ctx, stdin, stdout)
	}
	o, jsonOut, err := parse(args, stderr)
	if err != nil {
		return err
	}
	res, err := Run(ctx, o)
	if res != nil {
		WriteTable(stdout, []*Result{res})
		if jsonOut != "" {
			if werr := writeJSON(jsonOut, stdout, res); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil {
		return fmt.Errorf("bench %s: %w", o.Shape, err)
	}
	return nil
}

func parse(args []string, stderr io.Writer) (Options, string, error) {
	var o Options
	var nodes, pids, keys, secret, jsonOut string
	fs := flag.NewFlagSet("parley bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Shape, "shape", ShapeFanout, "fanout (one room, every client a member), cross (senders on the first node, members on the others) or idle")
	fs.StringVar(&nodes, "nodes", "http://127.0.0.1:8080", "comma-separated base URLs of the nodes (loopback)")
	fs.StringVar(&pids, "pids", "", "comma-separated process ids of the nodes, in --nodes order: CPU and RSS from /proc")
	fs.StringVar(&keys, "jwt-keys", os.Getenv("PARLEY_JWT_KEYS"), "the nodes' --jwt-keys: the clients' tokens are signed with them")
	fs.StringVar(&o.Target, "target", TargetParley, "what the nodes are: parley, or centrifugo (Centrifugo's JSON client protocol, a peer to compare with)")
	fs.StringVar(&secret, "centrifugo-secret", "", "--target centrifugo: the nodes' client.token.hmac_secret_key, which the clients' HS256 tokens are signed with")
	fs.StringVar(&o.Label, "label", "", "name of this run in the table and JSON")
	fs.IntVar(&o.Clients, "clients", 200, "connections")
	fs.IntVar(&o.Senders, "senders", 25, "of them, senders (fanout shapes)")
	fs.Float64Var(&o.Rate, "rate", 20, "messages per second per sender (the nodes' --send-rate and --user-send-rate must allow it)")
	fs.IntVar(&o.Rooms, "rooms", 10, "idle: rooms the connections are spread over")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long the senders send")
	fs.DurationVar(&o.Settle, "settle", 5*time.Second, "idle: how long the connections sit before the nodes' RSS is read")
	fs.DurationVar(&o.Drain, "drain", 30*time.Second, "the longest wait for outboxes to empty and deliveries to arrive after sending")
	fs.DurationVar(&o.Connect, "connect", 3*time.Minute, "the longest wait for every client to connect and subscribe")
	fs.IntVar(&o.Workers, "workers", 2, "worker processes the connections are spread over (each may hold its open-file limit)")
	fs.IntVar(&o.Dials, "dials", 64, "connections being set up at once per worker")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write each worker's CPU profile of the measured phase (from go until done) to PREFIX-wN.pprof")
	fs.StringVar(&jsonOut, "json", "", "also write the result as JSON to this file (- for stdout)")
	if err := fs.Parse(args); err != nil {
		return o, "", err
	}
	for _, n := range strings.Split(nodes, ",") {
		if n = strings.TrimSpace(n); n != "" {
			o.Nodes = append(o.Nodes, strings.TrimSuffix(n, "/"))
		}
	}
	for _, p := range strings.Split(pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil {
			return o, "", fmt.Errorf("--pids: %w", err)
		}
		o.PIDs = append(o.PIDs, pid)
	}
	if keys != "" {
		kr, err := auth.ParseKeys(keys)
		if err != nil {
			return o, "", fmt.Errorf("--jwt-keys: %w", err)
		}
		o.Keys = kr
	}
	o.Secret = []byte(secret)
	o.Stderr = stderr
	return o, jsonOut, nil
}

func writeJSON(path string, stdout io.Writer, res *Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// WriteTable prints results side by side, one column each.
func WriteTable(w io.Writer, rs []*Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, f func(r *Result) string) {
		fmt.Fprint(tw, name, "\t")
		for _, r := range rs {
			fmt.Fprint(tw, f(r), "\t")
		}
		fmt.Fprintln(tw)
	}
	row("", func(r *Result) string { return r.Label })
	row("shape", func(r *Result) string { return r.Shape })
	row("clients / senders × rate", func(r *Result) string {
		return fmt.Sprintf("%d / %d × %g", r.Clients, r.Senders, r.Rate)
	})
	row("acked msgs", func(r *Result) string { return strconv.FormatInt(r.Acked, 10) })
	row("deliveries: offered/s", func(r *Result) string { return fmt.Sprintf("%.0f", r.OfferedPerSec) })
	row("deliveries/s", func(r *Result) string { return fmt.Sprintf("%.0f", r.DeliveredPerSec) })
	row("delivered / lost / dup / out of order", func(r *Result) string {
		return fmt.Sprintf("%d / %d / %d / %d", r.Delivered, r.Lost, r.Duplicates, r.OutOfOrder)
	})
	row("latency p50 / p90 / p99 / max ms", func(r *Result) string {
		return fmt.Sprintf("%.1f / %.1f / %.1f / %.0f", r.P50, r.P90, r.P99, r.Max)
	})
	row("server CPU s", func(r *Result) string { return fmt.Sprintf("%.2f", r.ServerCPU) })
	row("server CPU µs/delivery", func(r *Result) string { return fmt.Sprintf("%.2f", r.CPUPerDelivery) })
	row("node RSS before → after MB", func(r *Result) string {
		var parts []string
		for _, n := range r.Nodes {
			parts = append(parts, fmt.Sprintf("%.1f→%.1f", mb(n.RSSBefore), mb(n.RSSAfter)))
		}
		return strings.Join(parts, " ")
	})
	row("RSS per connection KiB", func(r *Result) string {
		if r.RSSPerConnection == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", r.RSSPerConnection/1024)
	})
	row("harness CPU s", func(r *Result) string { return fmt.Sprintf("%.2f", r.HarnessCPU) })
	row("frames per message to a member", func(r *Result) string { return fmt.Sprintf("%.1f", r.FramesPerMessage) })
	row("reconnects / errors / refused", func(r *Result) string {
		return fmt.Sprintf("%d / %d / %d", r.Reconnects, r.Errors, r.Refused)
	})
	_ = tw.Flush()
	for _, r := range rs {
		for _, f := range r.Failures {
			fmt.Fprintf(w, "%s: FAILED: %s\n", r.Label, f)
		}
	}
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
