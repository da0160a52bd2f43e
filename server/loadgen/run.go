package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley/server/auth"
	"github.com/parleychat/parley/shared/client"
)

// Options is one `parley bench` run.
type Options struct {
	Label string
	Shape string
	Nodes []string // base URLs
	PIDs  []int    // node processes, in Nodes order (optional)
	Keys  *auth.Keyring
	// Target is what the nodes are: TargetParley (empty) or
	// TargetCentrifugo, whose clients' tokens are signed with Secret.
	Target   string
	Secret   []byte
	Clients  int
	Senders  int
	Rate     float64
	Rooms    int // idle: rooms the connections are spread over
	Duration time.Duration
	Settle   time.Duration // idle: wait before measuring
	Drain    time.Duration
	Connect  time.Duration
	Workers  int
	Dials    int
	// Exe is the binary that runs `bench worker` (default: this one).
	Exe    string
	Stderr io.Writer
	// CPUProfile, when set, makes worker N write its CPU profile of the
	// measured phase to CPUProfile-wN.pprof.
	CPUProfile string
}

// NodeStat is one node's cost during a run.
type NodeStat struct {
	URL        string  `json:"url"`
	PID        int     `json:"pid,omitempty"`
	Clients    int     `json:"clients"`
	CPUSeconds float64 `json:"cpu_s"`
	RSSBefore  int64   `json:"rss_before_bytes"`
	RSSAfter   int64   `json:"rss_after_bytes"`
}

// Result is what a run measured.
type Result struct {
	Label    string  `json:"label,omitempty"`
	Shape    string  `json:"shape"`
	Clients  int     `json:"clients"`
	Senders  int     `json:"senders"`
	Rate     float64 `json:"rate"`
	Duration float64 `json:"duration_s"`

	Sent       int64 `json:"sent"`
	Acked      int64 `json:"acked"`
	Expected   int64 `json:"expected_deliveries"`
	Delivered  int64 `json:"delivered"`
	Lost       int64 `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	OutOfOrder int64 `json:"out_of_order"`
	Refused    int64 `json:"refused"`
	Reconnects int64 `json:"reconnects"`
	Errors     int64 `json:"errors"`
	// FullDecodes counts the frames the members decoded in full rather
	// than scanned: every frame but a plain message's.
	FullDecodes int64 `json:"full_decodes"`
	// FramesPerMessage is how many frames a WebSocket message to a
	// member held on average: above 1 when the nodes batch
	// (protocol.FeatureBatch).
	FramesPerMessage float64 `json:"frames_per_message"`

	OfferedPerSec   float64            `json:"offered_deliveries_per_s"`
	DeliveredPerSec float64            `json:"deliveries_per_s"`
	P50, P90, P99   float64            `json:"-"`
	Max             float64            `json:"-"`
	Latency         map[string]float64 `json:"latency_ms"`

	Nodes            []NodeStat `json:"nodes"`
	ServerCPU        float64    `json:"server_cpu_s"`
	CPUPerDelivery   float64    `json:"server_cpu_per_delivery_us"`
	RSSPerConnection float64    `json:"rss_per_connection_bytes,omitempty"`
	HarnessCPU       float64    `json:"harness_cpu_s"`
	Failures         []string   `json:"failures,omitempty"`
}

// proc is one worker process.
type proc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	spec  WorkerSpec
}

// Run performs one run and returns what it measured.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	run := "r" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	rooms, err := o.createRooms(ctx, run)
	if err != nil {
		return nil, err
	}
	specs, err := o.specs(run, rooms)
	if err != nil {
		return nil, err
	}
	res := &Result{Label: o.Label, Shape: o.Shape, Clients: o.Clients, Senders: o.Senders, Rate: o.Rate, Duration: o.Duration.Seconds()}
	res.Nodes = o.nodeStats()
	procs, err := o.start(ctx, specs)
	defer stopAll(procs)
	if err != nil {
		return nil, err
	}
	return res, o.drive(ctx, procs, res)
}

func (o *Options) check() error {
	switch {
	case o.Shape != ShapeFanout && o.Shape != ShapeCross && o.Shape != ShapeIdle:
		return fmt.Errorf("unknown shape %q (fanout, cross or idle)", o.Shape)
	case len(o.Nodes) == 0:
		return errors.New("no --nodes")
	case o.Shape == ShapeCross && len(o.Nodes) < 2:
		return errors.New("the cross shape needs at least two nodes")
	case len(o.PIDs) > 0 && len(o.PIDs) != len(o.Nodes):
		return errors.New("--pids must name one process per node")
	case o.Clients < 1 || o.Senders > o.Clients:
		return errors.New("--clients must be at least 1 and at least --senders")
	case o.Target != "" && o.Target != TargetParley && o.Target != TargetCentrifugo:
		return fmt.Errorf("unknown target %q (parley or centrifugo)", o.Target)
	case o.Target == TargetCentrifugo && len(o.Secret) == 0:
		return errors.New("--centrifugo-secret is required: clients get tokens signed with the nodes' HMAC secret")
	case o.Target != TargetCentrifugo && o.Keys == nil:
		return errors.New("--jwt-keys is required: clients get tokens signed with the nodes' key")
	}
	if o.Shape == ShapeIdle {
		o.Senders, o.Rate = 0, 0
	}
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.Rooms < 1 {
		o.Rooms = 1
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this binary: %w", err)
		}
		o.Exe = exe
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	return nil
}

func (o *Options) token(user string) (string, error) {
	if o.Target == TargetCentrifugo {
		return centrifugoToken(o.Secret, user, time.Now())
	}
	tok, _, err := o.Keys.Sign(user, "", time.Now(), 24*time.Hour)
	if err != nil {
		return "", fmt.Errorf("sign token for %s: %w", user, err)
	}
	return tok, nil
}

// createRooms creates the run's rooms on the first node: one for fanout
// shapes, --rooms for idle. Room creation is rate limited per user, so
// every ten rooms have their own creator.
func (o *Options) createRooms(ctx context.Context, run string) ([]string, error) {
	n := 1
	if o.Shape == ShapeIdle {
		n = o.Rooms
	}
	if o.Target == TargetCentrifugo {
		// A channel exists as soon as someone subscribes.
		rooms := make([]string, n)
		for i := range rooms {
			rooms[i] = centrifugoChannel(run, i)
		}
		return rooms, nil
	}
	api := client.NewAPI(o.Nodes[0], nil)
	var rooms []string
	for i := range n {
		tok, err := o.token(fmt.Sprintf("benchadmin%d", i/10))
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("bench-%s-%d", run, i)
		if _, err := api.CreateRoom(ctx, tok, name); err != nil {
			return nil, fmt.Errorf("create room %s: %w", name, err)
		}
		rooms = append(rooms, name)
	}
	return rooms, nil
}

// node returns the node index of client i: round robin, except that the
// cross shape puts its senders on the first node and everyone else on the
// others.
func (o *Options) node(i int) int {
	if o.Shape != ShapeCross {
		return i % len(o.Nodes)
	}
	if i < o.Senders {
		return 0
	}
	return 1 + i%(len(o.Nodes)-1)
}

// specs deals the clients out to the workers. Client i of worker w dials
// from 127.(10+w).(i/250).(i%250+1), so no source address runs short of
// ephemeral ports.
func (o *Options) specs(run string, rooms []string) ([]WorkerSpec, error) {
	specs := make([]WorkerSpec, o.Workers)
	for w := range specs {
		specs[w] = WorkerSpec{Run: run, Rate: o.Rate, Duration: o.Duration, Drain: o.Drain, Connect: o.Connect, Dials: o.Dials}
		if o.CPUProfile != "" {
			specs[w].CPUProfile = fmt.Sprintf("%s-w%d.pprof", o.CPUProfile, w)
		}
	}
	for i := range o.Clients {
		tok, err := o.token(fmt.Sprintf("bench%d", i))
		if err != nil {
			return nil, err
		}
		wsURL, err := o.webSocketURL(o.Nodes[o.node(i)])
		if err != nil {
			return nil, err
		}
		w := i % o.Workers
		j := len(specs[w].Clients)
		specs[w].Clients = append(specs[w].Clients, ClientSpec{
			Index:  i,
			Token:  tok,
			URL:    wsURL,
			Source: fmt.Sprintf("127.%d.%d.%d", 10+w, j/250, j%250+1),
			Room:   rooms[i%len(rooms)],
			Sender: i < o.Senders && o.Shape != ShapeIdle,
			Target: o.Target,
		})
	}
	return specs, nil
}

// webSocketURL is where the clients of the node at base connect.
func (o *Options) webSocketURL(base string) (string, error) {
	u, err := client.WebSocketURL(base)
	if err != nil {
		return "", fmt.Errorf("websocket url of %s: %w", base, err)
	}
	if o.Target == TargetCentrifugo {
		u = strings.TrimSuffix(u, "/ws") + centrifugoPath
	}
	return u, nil
}

// nodeStats counts each node's clients and reads its RSS before any.
func (o *Options) nodeStats() []NodeStat {
	st := make([]NodeStat, len(o.Nodes))
	for i, u := range o.Nodes {
		st[i].URL = u
		if i < len(o.PIDs) {
			st[i].PID = o.PIDs[i]
			if ps, err := ReadProcStat(o.PIDs[i]); err == nil {
				st[i].RSSBefore = ps.RSSBytes
			}
		}
	}
	for i := range o.Clients {
		st[o.node(i)].Clients++
	}
	return st
}

// start launches the workers and hands each its spec.
func (o *Options) start(ctx context.Context, specs []WorkerSpec) ([]*proc, error) {
	var procs []*proc
	for _, spec := range specs {
		p := &proc{spec: spec, lines: make(chan string, 4)}
		p.cmd = exec.CommandContext(ctx, o.Exe, "bench", "worker")
		p.cmd.Stderr = o.Stderr
		in, err := p.cmd.StdinPipe()
		if err != nil {
			return procs, fmt.Errorf("worker stdin: %w", err)
		}
		out, err := p.cmd.StdoutPipe()
		if err != nil {
			return procs, fmt.Errorf("worker stdout: %w", err)
		}
		p.in = in
		if err := p.cmd.Start(); err != nil {
			return procs, fmt.Errorf("start worker: %w", err)
		}
		procs = append(procs, p)
		go p.read(out)
		b, err := json.Marshal(spec)
		if err != nil {
			return procs, fmt.Errorf("encode worker spec: %w", err)
		}
		if _, err := fmt.Fprintf(in, "%s\n", b); err != nil {
			return procs, fmt.Errorf("send worker spec: %w", err)
		}
	}
	return procs, nil
}

// read forwards the worker's lines; the channel closes when it exits.
func (p *proc) read(out io.Reader) {
	defer close(p.lines)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		p.lines <- sc.Text()
	}
}

// stopAll ends the workers (closing stdin ends one that waits for a line)
// and reaps them.
func stopAll(procs []*proc) {
	for _, p := range procs {
		_ = p.in.Close()
	}
	for _, p := range procs {
		done := make(chan struct{})
		go func() {
			for range p.lines {
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
		_ = p.cmd.Wait()
	}
}

// expect reads one line from every worker, which must start with prefix;
// it returns the rest of each.
func expect(ctx context.Context, procs []*proc, prefix string, within time.Duration) ([]string, error) {
	t := time.NewTimer(within)
	defer t.Stop()
	var out []string
	for i, p := range procs {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return nil, fmt.Errorf("worker %d exited before %q", i, prefix)
			}
			if !strings.HasPrefix(line, prefix) {
				return nil, fmt.Errorf("worker %d said %.300q, want %q", i, line, prefix)
			}
			out = append(out, strings.TrimPrefix(line, prefix))
		case <-t.C:
			return nil, fmt.Errorf("no %q from worker %d within %v", prefix, i, within)
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %q: %w", prefix, ctx.Err())
		}
	}
	return out, nil
}

func tell(procs []*proc, line string) error {
	for i, p := range procs {
		if _, err := fmt.Fprintln(p.in, line); err != nil {
			return fmt.Errorf("tell worker %d %q: %w", i, line, err)
		}
	}
	return nil
}

// drive takes the workers through the run and fills res.
func (o *Options) drive(ctx context.Context, procs []*proc, res *Result) error {
	if _, err := expect(ctx, procs, "ready", o.Connect+time.Minute); err != nil {
		return res.failed(err)
	}
	if o.Shape == ShapeIdle {
		sleep(ctx, o.Settle)
	}
	before := o.sample(res)
	start := time.Now()
	if err := tell(procs, "go"); err != nil {
		return err
	}
	sent, err := expect(ctx, procs, "sent ", o.Duration+o.Drain+time.Minute)
	if err != nil {
		return res.failed(err)
	}
	var acked int64
	for _, s := range sent {
		n, _ := strconv.ParseInt(s, 10, 64)
		acked += n
	}
	if err := tell(procs, "expect "+strconv.FormatInt(acked, 10)); err != nil {
		return err
	}
	if _, err := expect(ctx, procs, "done", o.Drain+time.Minute); err != nil {
		return res.failed(err)
	}
	after := o.sample(res)
	for i := range res.Nodes {
		res.Nodes[i].CPUSeconds = after[i].CPUSeconds - before[i].CPUSeconds
		res.Nodes[i].RSSAfter = after[i].RSSBytes
	}
	if err := tell(procs, "stop"); err != nil {
		return err
	}
	results, err := expect(ctx, procs, "{", time.Minute)
	if err != nil {
		return err
	}
	return res.sum(results, acked, start, o)
}

// failed records err in the result and returns it.
func (res *Result) failed(err error) error {
	res.Failures = append(res.Failures, err.Error())
	return err
}

// sample reads every node's /proc stat (zero for nodes without a PID).
func (o *Options) sample(res *Result) []ProcStat {
	out := make([]ProcStat, len(res.Nodes))
	for i, n := range res.Nodes {
		if n.PID > 0 {
			out[i], _ = ReadProcStat(n.PID)
		}
	}
	return out
}

func (res *Result) sum(lines []string, acked int64, start time.Time, o *Options) error {
	var lat Hist
	var last, messages, frames int64
	res.Acked = acked
	res.Expected = acked * int64(o.Clients)
	for i, l := range lines {
		var wr WorkerResult
		if err := json.Unmarshal([]byte("{"+l), &wr); err != nil {
			return fmt.Errorf("decode result of worker %d: %w", i, err)
		}
		res.Sent += wr.Sent
		res.Delivered += wr.Delivered
		res.Duplicates += wr.Duplicates
		res.OutOfOrder += wr.OutOfOrder
		res.FullDecodes += wr.FullDecodes
		messages += wr.Messages
		frames += wr.Frames
		res.Lost += wr.Short
		res.Refused += wr.Refused
		res.Reconnects += wr.Reconnects
		res.Errors += wr.Errors
		res.HarnessCPU += wr.CPUSeconds
		last = max(last, wr.LastNanos)
		lat.Merge(wr.Latency)
		if wr.Failure != "" {
			res.Failures = append(res.Failures, fmt.Sprintf("worker %d: %s", i, wr.Failure))
		}
	}
	if st, err := ReadProcStat(0); err == nil {
		res.HarnessCPU += st.CPUSeconds
	}
	if messages > 0 {
		res.FramesPerMessage = float64(frames) / float64(messages)
	}
	res.OfferedPerSec = float64(o.Senders) * o.Rate * float64(o.Clients)
	if o.Shape == ShapeIdle {
		res.OfferedPerSec = 0
	}
	if last > 0 {
		res.DeliveredPerSec = float64(res.Delivered) / max(time.Unix(0, last).Sub(start).Seconds(), o.Duration.Seconds())
	}
	res.P50, res.P90, res.P99 = ms(lat.Quantile(0.5)), ms(lat.Quantile(0.9)), ms(lat.Quantile(0.99))
	res.Max = float64(lat.Max) / 1000
	res.Latency = map[string]float64{"p50": res.P50, "p90": res.P90, "p99": res.P99, "max": res.Max}
	var rssGrowth int64
	for _, n := range res.Nodes {
		res.ServerCPU += n.CPUSeconds
		rssGrowth += n.RSSAfter - n.RSSBefore
	}
	if res.Delivered > 0 {
		res.CPUPerDelivery = res.ServerCPU / float64(res.Delivered) * 1e6
	}
	if o.Shape == ShapeIdle {
		res.RSSPerConnection = float64(rssGrowth) / float64(o.Clients)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
