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

	"github.com/parleychat/parley/shared/client"
)

// member is one connection of a worker and what it saw. Its counters are
// atomics (the worker reads them while the client runs); seen and lat
// belong to the client's event goroutine until it has stopped.
type member struct {
	spec       ClientSpec
	c          *client.Client
	subscribed chan struct{}
	subOnce    sync.Once
	got        atomic.Int64 // distinct deliveries of this run's messages
	dups       atomic.Int64
	acked      atomic.Int64
	reconnects atomic.Int64
	errs       atomic.Int64
	first      atomic.Int64
	last       atomic.Int64
	seen       []uint64 // offsets delivered, a bitset
	lat        Hist
}

// worker runs one worker process's clients.
type worker struct {
	spec   WorkerSpec
	prefix string
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
	w.prefix = w.spec.Run + " "
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
		m := w.newMember(cs, httpClient(hcs, cs.Source))
		w.ms = append(w.ms, m)
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("connect client %d of %d: %w", len(w.ms), len(w.spec.Clients), ctx.Err())
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = m.c.Run(runCtx)
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
