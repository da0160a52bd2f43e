// Command benchcluster runs Parley's load generator against two builds of
// the node side by side in one run, so that their numbers share the same
// machine and the same moment: each build gets two nodes and its own
// Redis and PostgreSQL on loopback, the shapes alternate between builds,
// and the nodes are restarted before every shape so each starts fresh.
// `make bench-cluster` builds both binaries and calls it; see
// build/scripts/bench-cluster.sh.
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parleychat/parley/server/loadgen"
	"github.com/parleychat/parley/shared/testenv"
)

type shape struct {
	name  string
	round int // 1, 2… when a shape runs more than once (-rounds)
	args  []string
	// oneNode puts every client on the first node.
	oneNode bool
	// sending is how long the shape's senders send: with -cpuprofile,
	// each node's CPU is profiled that long from the load generator's
	// start; zero: nodes are not profiled.
	sending time.Duration
}

func main() {
	base := flag.String("base", "", "parley binary of the base revision")
	head := flag.String("head", "", "parley binary of the tree under test (its `bench` is the load generator)")
	labels := flag.String("labels", "base,head", "names of the two builds")
	duration := flag.Duration("duration", 10*time.Second, "how long senders send in each fanout shape")
	idle := flag.Int("idle", 5000, "idle connections on one node")
	out := flag.String("json", "", "write every result as JSON to this file")
	only := flag.String("shapes", "", "comma-separated shapes to run (fanout-200, fanout-2000, idle); empty: all")
	rounds := flag.Int("rounds", 1, "run each shape this many times, the builds interleaved (base, head, base, head…)")
	rate := flag.Float64("rate", 20, "messages per second each of the fanout shapes' 25 senders sends")
	profiles := flag.String("cpuprofile", "", "write the load generator's worker CPU profiles (LABEL-SHAPE-wN.pprof) and, for the fanout shapes, each Parley node's (LABEL-SHAPE-nodeN.pprof, through --pprof-addr) and its /metrics at the shape's end (LABEL-SHAPE-nodeN.metrics) to this directory")
	peer := flag.String("centrifugo", "", "also run this centrifugo binary (v6) beside the two builds, a third column labelled centrifugo")
	flag.Parse()
	if *base == "" || *head == "" {
		fmt.Fprintln(os.Stderr, "benchcluster: -base and -head are required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := duration.String()
	r := strconv.FormatFloat(*rate, 'f', -1, 64)
	shapes := []shape{
		{name: "fanout-200", args: []string{"--shape", "fanout", "--clients", "200", "--senders", "25", "--rate", r, "--duration", d}, sending: *duration},
		{name: "fanout-2000", args: []string{"--shape", "fanout", "--clients", "2000", "--senders", "25", "--rate", r, "--duration", d}, sending: *duration},
		{name: "idle", args: []string{"--shape", "idle", "--clients", strconv.Itoa(*idle), "--rooms", "10", "--workers", strconv.Itoa(max(1, *idle/12000+1)), "--settle", "5s"}, oneNode: true},
	}
	shapes, err := pick(shapes, *only)
	if err != nil || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "benchcluster:", cmp.Or(err, errors.New("-rounds must be at least 1")))
		os.Exit(2)
	}
	if *profiles != "" {
		// The profiles' directory is made here, not left to the workers,
		// each of which would fail on a missing one.
		if err := os.MkdirAll(*profiles, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "benchcluster:", err)
			os.Exit(1)
		}
	}
	if err := run(ctx, strings.Split(*labels, ","), []string{*base, *head}, *peer, *head, shapes, *rounds, *out, *profiles); err != nil {
		fmt.Fprintln(os.Stderr, "benchcluster:", err)
		os.Exit(1)
	}
}

// pick returns the shapes named in the comma-separated list only, in
// their usual order; an empty list picks all.
func pick(all []shape, only string) ([]shape, error) {
	if only == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(only, ",") {
		want[strings.TrimSpace(name)] = true
	}
	var out []shape
	for _, sh := range all {
		if want[sh.name] {
			out = append(out, sh)
			delete(want, sh.name)
		}
	}
	for name := range want {
		return nil, fmt.Errorf("unknown shape %q (have fanout-200, fanout-2000, idle)", name)
	}
	return out, nil
}

// cluster is one column of the comparison: a build's two nodes and what
// they need, or the peer's.
type cluster interface {
	name() string
	// restart (re)starts the nodes and waits until they are ready.
	restart(ctx context.Context) error
	// rss is the first node's resident memory.
	rss() int64
	// bench runs the load generator's shape against the nodes.
	bench(ctx context.Context, loadgenBin string, sh shape, profiles string) (*loadgen.Result, error)
	close()
}

func run(ctx context.Context, labels, bins []string, peer, loadgenBin string, shapes []shape, rounds int, out, profiles string) error {
	keys, err := jwtKeys()
	if err != nil {
		return err
	}
	var stacks []cluster
	defer func() {
		for _, s := range stacks {
			s.close()
		}
	}()
	for i, bin := range bins {
		s, err := newStack(ctx, labels[i], bin, keys, profiles != "")
		if s != nil {
			stacks = append(stacks, s)
		}
		if err != nil {
			return err
		}
	}
	if peer != "" {
		s, err := newCentrifugo(peer)
		if s != nil {
			stacks = append(stacks, s)
		}
		if err != nil {
			return err
		}
	}
	var all []*loadgen.Result
	idleRSS := map[string]int64{}
	for _, s := range stacks {
		if err := s.restart(ctx); err != nil {
			return err
		}
		time.Sleep(3 * time.Second) // let start-up garbage be collected
		idleRSS[s.name()] = s.rss()
	}
	// A build that fails a shape (it cannot keep its clients connected)
	// is reported and the run goes on: the other build's numbers, and
	// the failure itself, are the comparison.
	var failed []error
	for _, sh := range repeat(shapes, rounds) {
		var rs []*loadgen.Result
		for _, s := range inTurn(stacks, sh.round) {
			if err := s.restart(ctx); err != nil {
				return err
			}
			r, err := s.bench(ctx, loadgenBin, sh, profiles)
			if err != nil {
				err = fmt.Errorf("%s %s: %w", s.name(), sh.name, err)
				fmt.Fprintln(os.Stderr, "benchcluster: FAILED:", err)
				failed = append(failed, err)
				continue
			}
			rs = append(rs, r)
		}
		fmt.Printf("\n== %s\n", sh.label())
		if len(rs) > 0 {
			loadgen.WriteTable(os.Stdout, rs)
		}
		all = append(all, rs...)
	}
	fmt.Printf("\n== idle node RSS before any client (first node)\n")
	for _, s := range stacks {
		fmt.Printf("  %-10s %.1f MB\n", s.name(), float64(idleRSS[s.name()])/(1<<20))
	}
	if out != "" {
		b, err := json.MarshalIndent(map[string]any{"results": all, "idle_rss_bytes": idleRSS}, "", "  ")
		if err != nil {
			return fmt.Errorf("encode results: %w", err)
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	}
	return errors.Join(failed...)
}

// repeat lists each shape rounds times, numbering the rounds.
func repeat(shapes []shape, rounds int) []shape {
	if rounds == 1 {
		return shapes
	}
	var out []shape
	for _, sh := range shapes {
		for i := range rounds {
			sh.round = i + 1
			out = append(out, sh)
		}
	}
	return out
}

// inTurn is the order the builds run a shape's round in: even rounds
// reversed, so that neither build always runs first (on a shared
// machine, load drifts within a round).
func inTurn(stacks []cluster, round int) []cluster {
	if round%2 == 1 || round == 0 {
		return stacks
	}
	out := slices.Clone(stacks)
	slices.Reverse(out)
	return out
}

// label names the shape and its round.
func (sh shape) label() string {
	if sh.round == 0 {
		return sh.name
	}
	return fmt.Sprintf("%s #%d", sh.name, sh.round)
}

func jwtKeys() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate jwt key: %w", err)
	}
	return "bench:" + base64.RawURLEncoding.EncodeToString(b), nil
}

// nodes is what every column has: a temporary directory, one Redis on
// loopback and two node processes on their own ports.
type nodes struct {
	label    string
	dir      string
	redis    *exec.Cmd
	redisURL string
	procs    []*exec.Cmd
	ports    []int
}

// start makes the directory, starts Redis and picks the nodes' ports.
func (n *nodes) start() error {
	dir, err := os.MkdirTemp("", "parley-bench-"+n.label+"-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	n.dir = dir
	port, err := testenv.FreePort()
	if err != nil {
		return err
	}
	n.redis = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	n.redis.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.redis.Start(); err != nil {
		return fmt.Errorf("%s: start redis: %w", n.label, err)
	}
	n.redisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	for range 2 {
		p, err := testenv.FreePort()
		if err != nil {
			return err
		}
		n.ports = append(n.ports, p)
	}
	return nil
}

func (n *nodes) name() string { return n.label }

// startNode starts node i with args (and env beside the environment),
// its output appended to nodeI.log.
func (n *nodes) startNode(i int, bin string, args, env []string) error {
	logf, err := os.OpenFile(filepath.Join(n.dir, fmt.Sprintf("node%d.log", i)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("node log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), env...)
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return fmt.Errorf("start %s node: %w", n.label, err)
	}
	n.procs = append(n.procs, cmd)
	return nil
}

// waitReady waits until every node answers path with 200 OK.
func (n *nodes) waitReady(ctx context.Context, path string) error {
	for i := range n.ports {
		if err := waitReady(ctx, n.url(i)+path); err != nil {
			return fmt.Errorf("%s node %d: %w", n.label, i, err)
		}
	}
	return nil
}

// stack is one build's two nodes, Redis and PostgreSQL.
type stack struct {
	nodes
	bin, keys string
	pg        *testenv.PGServer
	pgURL     string
	// pprofPorts serve each node's --pprof-addr; nil: no profiles.
	pprofPorts []int

	// clusterKey signs the broker payloads of this stack's nodes.
	clusterKey string
}

func newStack(ctx context.Context, label, bin, keys string, pprof bool) (*stack, error) {
	s := &stack{nodes: nodes{label: label}, bin: bin, keys: keys}
	ck := make([]byte, 32)
	if _, err := rand.Read(ck); err != nil {
		return nil, fmt.Errorf("generate cluster key: %w", err)
	}
	s.clusterKey = base64.StdEncoding.EncodeToString(ck)
	if err := s.start(); err != nil {
		return s, err
	}
	if pprof {
		for range s.ports {
			p, err := testenv.FreePort()
			if err != nil {
				return s, err
			}
			s.pprofPorts = append(s.pprofPorts, p)
		}
	}
	var err error
	if s.pg, err = testenv.StartPostgres(); err != nil {
		return s, fmt.Errorf("%s: %w", label, err)
	}
	if _, s.pgURL, err = s.pg.CreateDatabase(ctx); err != nil {
		return s, fmt.Errorf("%s: create database: %w", label, err)
	}
	return s, nil
}

// restart (re)starts both nodes and waits until they are ready.
func (s *stack) restart(ctx context.Context) error {
	s.stopNodes()
	for i, port := range s.ports {
		args := []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--node-id", fmt.Sprintf("%s%d", s.label, i),
			"--data", filepath.Join(s.dir, "data"), "--redis", s.redisURL, "--postgres", s.pgURL, "--jwt-keys", s.keys,
			"--send-rate", "1000", "--send-burst", "1000", "--user-send-rate", "1000", "--user-send-burst", "1000", "--user-send-bytes", "1e9", "--log-level", "warn", "--drain-delay", "0", "--drain-timeout", "2s"}
		if s.pprofPorts != nil {
			args = append(args, "--pprof-addr", fmt.Sprintf("127.0.0.1:%d", s.pprofPorts[i]))
		}
		// The cluster key travels in the environment, which builds from
		// before --cluster-key ignore and later ones need with --redis.
		if err := s.startNode(i, s.bin, args, []string{"PARLEY_CLUSTER_KEY=" + s.clusterKey}); err != nil {
			return err
		}
	}
	return s.waitReady(ctx, "/readyz")
}

func (n *nodes) url(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", n.ports[i]) }

func (n *nodes) rss() int64 {
	st, err := loadgen.ReadProcStat(n.procs[0].Process.Pid)
	if err != nil {
		return 0
	}
	return st.RSSBytes
}

func waitReady(ctx context.Context, url string) error {
	return testenv.Poll(ctx, time.Minute, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %d", resp.StatusCode)
		}
		return nil
	})
}

// bench runs one shape against s; with profiles set, the load
// generator's workers, and the nodes for a shape that sends, write their
// CPU profiles there, and each node's /metrics at the end of the shape
// is saved there (LABEL-SHAPE-nodeN.metrics: its stage latencies).
func (s *stack) bench(ctx context.Context, loadgenBin string, sh shape, profiles string) (*loadgen.Result, error) {
	var nodeProfiles []chan error
	if profiles != "" && s.pprofPorts != nil && sh.sending > 0 {
		n := len(s.procs)
		if sh.oneNode {
			n = 1
		}
		for i := range n {
			done := make(chan error, 1)
			nodeProfiles = append(nodeProfiles, done)
			file := filepath.Join(profiles, strings.ReplaceAll(fmt.Sprintf("%s-%s-node%d.pprof", s.label, sh.label(), i), " #", "-"))
			go func() { done <- s.profileNode(ctx, i, sh.sending, file) }()
		}
	}
	r, err := s.runBench(ctx, loadgenBin, sh, profiles, "--jwt-keys", s.keys)
	for _, done := range nodeProfiles {
		if perr := <-done; perr != nil {
			fmt.Fprintln(os.Stderr, "benchcluster:", perr)
		}
	}
	if profiles != "" && sh.sending > 0 {
		s.saveMetrics(ctx, sh, profiles)
	}
	return r, err
}

// saveMetrics writes each node's /metrics to dir and prints their stage
// latencies (stageTable), if the build has them.
func (s *stack) saveMetrics(ctx context.Context, sh shape, dir string) {
	var files []string
	for i := range s.procs {
		file := filepath.Join(dir, strings.ReplaceAll(fmt.Sprintf("%s-%s-node%d.metrics", s.label, sh.label(), i), " #", "-"))
		if err := save(ctx, s.url(i)+"/metrics", file); err != nil {
			fmt.Fprintf(os.Stderr, "benchcluster: metrics %s node %d: %v\n", s.label, i, err)
			continue
		}
		files = append(files, file)
	}
	table, err := stageTable(files)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcluster:", err)
	}
	if table != "" {
		fmt.Printf("== %s %s: stage latencies, its nodes together (parley_stage_*_seconds)\n%s", s.label, sh.label(), table)
	}
}

// profileNode writes node i's CPU profile over d to file.
func (s *stack) profileNode(ctx context.Context, i int, d time.Duration, file string) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", s.pprofPorts[i], max(1, int(d.Seconds())))
	if err := save(ctx, url, file); err != nil {
		return fmt.Errorf("profile %s node %d: %w", s.label, i, err)
	}
	return nil
}

// save writes what a GET of url answers to file.
func save(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	return f.Close()
}

// runBench runs one shape against the nodes with the load generator's
// target arguments; with profiles set, its workers write their CPU
// profiles there.
func (n *nodes) runBench(ctx context.Context, loadgenBin string, sh shape, profiles string, target ...string) (*loadgen.Result, error) {
	count := len(n.procs)
	if sh.oneNode {
		count = 1
	}
	var urls, pids []string
	for i := range count {
		urls = append(urls, n.url(i))
		pids = append(pids, strconv.Itoa(n.procs[i].Process.Pid))
	}
	out := filepath.Join(n.dir, sh.name+".json")
	args := append([]string{"bench", "--label", n.label, "--nodes", strings.Join(urls, ","), "--pids", strings.Join(pids, ","), "--json", out}, target...)
	args = append(args, sh.args...)
	if profiles != "" {
		args = append(args, "--cpuprofile", filepath.Join(profiles, strings.ReplaceAll(n.label+"-"+sh.label(), " #", "-")))
	}
	cmd := exec.CommandContext(ctx, loadgenBin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("parley bench: %w\n%s", err, lastLines(string(stdout), 20))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	var r loadgen.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	r.P50, r.P90, r.P99, r.Max = r.Latency["p50"], r.Latency["p90"], r.Latency["p99"], r.Latency["max"]
	r.Label = n.label + " " + sh.label()
	return &r, nil
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (n *nodes) stopNodes() {
	for _, cmd := range n.procs {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	n.procs = nil
}

// close stops the nodes and Redis and removes the directory.
func (n *nodes) close() {
	n.stopNodes()
	if n.redis != nil && n.redis.Process != nil {
		_ = n.redis.Process.Kill()
		_ = n.redis.Wait()
	}
	if n.dir != "" {
		_ = os.RemoveAll(n.dir)
	}
}

func (s *stack) close() {
	s.stopNodes()
	if s.pg != nil {
		if err := s.pg.Close(); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(os.Stderr, "close postgres:", err)
		}
	}
	s.nodes.close()
}
