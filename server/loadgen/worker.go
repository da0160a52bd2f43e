package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// worker runs one worker process's clients.
type worker struct {
	spec   WorkerSpec
	in     *bufio.Reader
	out    io.Writer
	ms     []*member
	sent   atomic.Int64
	refuse atomic.Int64
}

// Worker is `parley bench worker`: it reads its WorkerSpec from in, runs
// it and writes its WorkerResult to out (see the package doc).
func Worker(ctx context.Context, in io.Reader, out io.Writer) error {
	w := &worker{in: bufio.NewReaderSize(in, 1<<20), out: out}
	line, err := w.in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read worker spec: %w", err)
	}
	if err := json.Unmarshal(line, &w.spec); err != nil {
		return fmt.Errorf("decode worker spec: %w", err)
	}
	raiseOpenFiles()
	res := w.run(ctx)
	if st, err := ReadProcStat(0); err == nil {
		res.CPUSeconds = st.CPUSeconds
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode worker result: %w", err)
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// startProfile starts a CPU profile to path (nothing when path is empty)
// and returns what stops it and closes the file.
func startProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("write cpu profile: %w", err)
		}
		return nil
	}, nil
}

// raiseOpenFiles lifts the soft open-file limit to the hard one: each
// connection is a file.
func raiseOpenFiles() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func (w *worker) run(ctx context.Context) WorkerResult {
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	if err := w.connect(cctx, &wg); err != nil {
		return w.fail(err, stop, &wg)
	}
	if err := w.say("ready"); err != nil {
		return w.fail(err, stop, &wg)
	}
	if err := w.expectLine("go"); err != nil {
		return w.fail(err, stop, &wg)
	}
	stopProfile, err := startProfile(w.spec.CPUProfile)
	if err != nil {
		return w.fail(err, stop, &wg)
	}
	w.send(cctx)
	if err := w.say("sent " + strconv.FormatInt(w.acked(), 10)); err != nil {
		return w.fail(err, stop, &wg)
	}
	line, err := w.readLine()
	if err != nil {
		return w.fail(err, stop, &wg)
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(line, "expect "), 10, 64)
	if err != nil {
		return w.fail(fmt.Errorf("bad expect line %q", line), stop, &wg)
	}
	w.await(ctx, n)
	if err := stopProfile(); err != nil {
		return w.fail(err, stop, &wg)
	}
	if err := w.say("done"); err != nil {
		return w.fail(err, stop, &wg)
	}
	if err := w.expectLine("stop"); err != nil {
		return w.fail(err, stop, &wg)
	}
	stop()
	wg.Wait()
	return w.result(n)
}

func (w *worker) fail(err error, stop context.CancelFunc, wg *sync.WaitGroup) WorkerResult {
	stop()
	wg.Wait()
	res := w.result(0)
	res.Failure = err.Error()
	return res
}

func (w *worker) say(line string) error {
	_, err := fmt.Fprintln(w.out, line)
	return err
}

func (w *worker) readLine() (string, error) {
	line, err := w.in.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read from the parent: %w", err)
	}
	return strings.TrimSpace(line), nil
}

func (w *worker) expectLine(want string) error {
	line, err := w.readLine()
	if err == nil && line != want {
		err = fmt.Errorf("parent said %q, want %q", line, want)
	}
	return err
}

// connect starts every client, at most spec.Dials setting up at once, and
// waits until each has its subscription.
func (w *worker) connect(runCtx context.Context, wg *sync.WaitGroup) error {
	ctx, cancel := context.WithTimeout(runCtx, w.spec.Connect)
	defer cancel()
	hcs := map[string]*http.Client{}
	slots := make(chan struct{}, max(w.spec.Dials, 1))
	for _, cs := range w.spec.Clients {
		m := newMember(cs, w.spec.Run)
		hc := httpClient(hcs, cs.Source)
		w.ms = append(w.ms, m)
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("connect client %d of %d: %w", len(w.ms), len(w.spec.Clients), ctx.Err())
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.run(runCtx, hc)
		}()
		go func() {
			select {
			case <-m.subscribed:
			case <-ctx.Done():
			}
			<-slots
		}()
	}
	for _, m := range w.ms {
		select {
		case <-m.subscribed:
		case <-ctx.Done():
			return fmt.Errorf("subscribe every client: %w", ctx.Err())
		}
	}
	return nil
}

// httpClient returns the HTTP client that dials from source, one per
// source address.
func httpClient(hcs map[string]*http.Client, source string) *http.Client {
	if hc := hcs[source]; hc != nil {
		return hc
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	if ip := net.ParseIP(source); ip != nil {
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: -1}}
	hcs[source] = hc
	return hc
}

// send runs every sender of this worker for spec.Duration, then waits
// (at most spec.Drain) until each has its answers.
func (w *worker) send(ctx context.Context) {
	var senders []*member
	for _, m := range w.ms {
		if m.spec.Sender {
			senders = append(senders, m)
		}
	}
	if len(senders) == 0 || w.spec.Rate <= 0 {
		return
	}
	end := time.Now().Add(w.spec.Duration)
	done := make(chan struct{})
	for _, m := range senders {
		go func() {
			defer func() { done <- struct{}{} }()
			w.pace(ctx, m, end)
		}()
	}
	for range senders {
		<-done
	}
	deadline := time.Now().Add(w.spec.Drain)
	for _, m := range senders {
		for m.unanswered() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			sleep(ctx, 20*time.Millisecond)
		}
	}
}

// pace sends from m at spec.Rate until end; the first send is offset by
// a fraction of the interval so senders do not all fire together.
func (w *worker) pace(ctx context.Context, m *member, end time.Time) {
	every := time.Duration(float64(time.Second) / w.spec.Rate)
	next := time.Now().Add(every * time.Duration(m.spec.Index%16) / 16)
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	for seq := int64(1); ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		if !now.Before(end) {
			return
		}
		w.sent.Add(1)
		if err := m.send(ctx, cid(w.spec.Run, m.spec.Index, seq), body(w.spec.Run, m.spec.Index, seq, now)); err != nil {
			w.refuse.Add(1)
		}
		next = next.Add(every)
		t.Reset(time.Until(next))
	}
}

func (w *worker) acked() int64 {
	var n int64
	for _, m := range w.ms {
		n += m.acked.Load()
	}
	return n
}

// await waits until every member has n deliveries, at most spec.Drain.
func (w *worker) await(ctx context.Context, n int64) {
	deadline := time.Now().Add(w.spec.Drain)
	for _, m := range w.ms {
		for m.got.Load() < n && time.Now().Before(deadline) && ctx.Err() == nil {
			sleep(ctx, 20*time.Millisecond)
		}
	}
}

// result sums what the members saw; every connection has stopped.
func (w *worker) result(expect int64) WorkerResult {
	res := WorkerResult{Sent: w.sent.Load(), Refused: w.refuse.Load(), Connections: len(w.ms)}
	for _, m := range w.ms {
		got := m.got.Load()
		res.Acked += m.acked.Load()
		res.Refused += m.refused.Load()
		res.Delivered += got
		res.Duplicates += m.dups.Load()
		res.OutOfOrder += m.disorder.Load()
		res.FullDecodes += m.decoded.Load()
		res.Messages += m.messages
		res.Frames += m.frames
		res.Short += max(0, expect-got)
		res.Reconnects += m.reconnects.Load()
		res.Errors += m.errs.Load()
		if f := m.first.Load(); f != 0 && (res.FirstNanos == 0 || f < res.FirstNanos) {
			res.FirstNanos = f
		}
		res.LastNanos = max(res.LastNanos, m.lastNanos.Load())
		res.Latency.Merge(m.lat)
	}
	return res
}
