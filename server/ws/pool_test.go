package ws

// The pool's tests run in testing/synctest bubbles: synctest.Wait returns
// once every worker has parked (on its job channel, or on the test's
// channels), and the reaper's timer runs on the bubble's clock, so a
// time.Sleep of a second passes at once and the reaper fires exactly then.

import (
	"bytes"
	"runtime"
	"strconv"
	"testing"
	"testing/synctest"
	"time"
)

// idleWorkers is how many of p's workers wait for a job.
func (p *writerPool) idleWorkers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ready)
}

// goid is the calling goroutine's id, read from its stack trace.
func goid(t *testing.T) int {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := bytes.Fields(buf)
	if len(f) < 2 {
		t.Errorf("goroutine id from %q", buf)
		return 0
	}
	id, err := strconv.Atoi(string(f[1]))
	if err != nil {
		t.Errorf("goroutine id from %q: %v", buf, err)
	}
	return id
}

// poolJob is a job for a writerPool that reports the goroutine it ran on
// and, with hold, waits until released.
type poolJob struct {
	ran     chan int
	release chan struct{}
}

func newPoolJob(hold bool) *poolJob {
	j := &poolJob{ran: make(chan int, 1)}
	if hold {
		j.release = make(chan struct{})
	}
	return j
}

func (j *poolJob) fn(t *testing.T) func() {
	return func() {
		j.ran <- goid(t)
		if j.release != nil {
			<-j.release
		}
	}
}

// stopPool stops p when the test ends, in its bubble.
func stopPool(t *testing.T, p *writerPool) {
	t.Cleanup(p.stop)
}

// TestWriterPoolReusesIdleWorker: a job handed to a pool with an idle
// worker runs on that worker, and the pool starts no other goroutine.
func TestWriterPoolReusesIdleWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newWriterPool(time.Second, 8)
		stopPool(t, p)
		first, second := newPoolJob(false), newPoolJob(false)
		p.run(first.fn(t))
		a := <-first.ran
		synctest.Wait()
		if n := p.idleWorkers(); n != 1 {
			t.Fatalf("after one job: %d idle workers, want 1", n)
		}
		p.run(second.fn(t))
		if b := <-second.ran; b != a {
			t.Fatalf("second job ran on goroutine %d, want the idle worker %d", b, a)
		}
		synctest.Wait()
		if n := p.idleWorkers(); n != 1 {
			t.Fatalf("after two jobs one after the other: %d idle workers, want 1", n)
		}
	})
}

// TestWriterPoolSpawnsWhenBusy: while a job blocks its worker (a writer
// stuck on a slow client), the next job runs at once on a new worker; once
// both are idle, the next job goes to the most recently idle.
func TestWriterPoolSpawnsWhenBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newWriterPool(time.Second, 8)
		stopPool(t, p)
		stuck, next := newPoolJob(true), newPoolJob(false)
		p.run(stuck.fn(t))
		a := <-stuck.ran
		p.run(next.fn(t)) // does not wait for stuck's worker
		b := <-next.ran
		if b == a {
			t.Fatalf("second job ran on the busy worker %d", a)
		}
		synctest.Wait()
		close(stuck.release) // a idles after b
		synctest.Wait()
		if n := p.idleWorkers(); n != 2 {
			t.Fatalf("%d idle workers, want 2", n)
		}
		third := newPoolJob(false)
		p.run(third.fn(t))
		if c := <-third.ran; c != a {
			t.Fatalf("third job ran on goroutine %d, want the most recently idle %d (not %d)", c, a, b)
		}
	})
}

// TestWriterPoolReapsIdleWorkers: a worker idle for maxIdle is ended at
// the reaper's next look, one used since is kept, and once none is idle
// the reaper ends too: the pool holds no goroutine.
func TestWriterPoolReapsIdleWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxIdle = time.Second
		p := newWriterPool(maxIdle, 8)
		stopPool(t, p)
		jobs := []*poolJob{newPoolJob(true), newPoolJob(true), newPoolJob(true)}
		for _, j := range jobs {
			p.run(j.fn(t))
			<-j.ran
		}
		for _, j := range jobs {
			close(j.release)
		}
		synctest.Wait()
		if n := p.idleWorkers(); n != 3 {
			t.Fatalf("%d idle workers, want 3", n)
		}
		time.Sleep(maxIdle / 2)
		again := newPoolJob(false)
		p.run(again.fn(t)) // the top worker idles from now on
		<-again.ran
		time.Sleep(maxIdle / 2) // the reaper's first look
		synctest.Wait()
		if n := p.idleWorkers(); n != 1 {
			t.Fatalf("after maxIdle: %d idle workers, want the one used since", n)
		}
		gone := make(chan struct{})
		go func() {
			p.workers.Wait()
			close(gone)
		}()
		time.Sleep(maxIdle) // the reaper's second look
		synctest.Wait()
		if n := p.idleWorkers(); n != 0 {
			t.Fatalf("after 2×maxIdle: %d idle workers, want 0", n)
		}
		select {
		case <-gone:
		default:
			t.Fatal("a worker or the reaper still runs with no worker idle")
		}
	})
}

// TestWriterPoolReapDirect: reap ends exactly the workers idle since
// maxIdle ago or earlier, oldest first, on the pool's clock.
func TestWriterPoolReapDirect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxIdle = time.Hour // the reaper does not look during the test
		p := newWriterPool(maxIdle, 8)
		stopPool(t, p)
		start := time.Now()
		var clock time.Time
		p.now = func() time.Time { return clock }
		jobs := []*poolJob{newPoolJob(true), newPoolJob(true)}
		for _, j := range jobs {
			p.run(j.fn(t))
			<-j.ran
		}
		for i, j := range jobs {
			clock = start.Add(time.Duration(i) * time.Minute)
			close(j.release)
			synctest.Wait() // idle from clock
		}
		if left := p.reap(start.Add(maxIdle - time.Nanosecond)); left != 2 {
			t.Fatalf("reap before maxIdle: %d left, want 2", left)
		}
		if left := p.reap(start.Add(maxIdle)); left != 1 {
			t.Fatalf("reap at maxIdle after the first: %d left, want 1", left)
		}
		if left := p.reap(start.Add(maxIdle + time.Minute)); left != 0 {
			t.Fatalf("reap at maxIdle after the second: %d left, want 0", left)
		}
	})
}

// TestWriterPoolStop: stop ends the idle workers and the reaper, waits for
// a busy worker's job, and a job run after stop still runs.
func TestWriterPoolStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newWriterPool(time.Hour, 8)
		idle, busy := newPoolJob(true), newPoolJob(true)
		p.run(idle.fn(t))
		<-idle.ran
		p.run(busy.fn(t))
		<-busy.ran
		close(idle.release)
		synctest.Wait()
		stopped := make(chan struct{})
		go func() {
			p.stop()
			close(stopped)
		}()
		synctest.Wait()
		select {
		case <-stopped:
			t.Fatal("stop returned while a job still ran")
		default:
		}
		if n := p.idleWorkers(); n != 0 {
			t.Fatalf("stopping: %d idle workers, want 0", n)
		}
		close(busy.release)
		<-stopped
		late := newPoolJob(false)
		p.run(late.fn(t))
		<-late.ran
		p.stop() // a second stop returns
	})
}

// TestWriterPoolKeepsAtMostMaxReady: workers done while maxReady others
// wait return instead of waiting: a burst's grown stacks do not outlive
// it beyond maxReady of them.
func TestWriterPoolKeepsAtMostMaxReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newWriterPool(time.Hour, 2)
		stopPool(t, p)
		jobs := []*poolJob{newPoolJob(true), newPoolJob(true), newPoolJob(true)}
		for _, j := range jobs {
			p.run(j.fn(t))
			<-j.ran
		}
		for _, j := range jobs {
			close(j.release)
		}
		synctest.Wait()
		if n := p.idleWorkers(); n != 2 {
			t.Fatalf("%d idle workers, want maxReady 2", n)
		}
		if n := poolGoroutines(); n != 2 {
			t.Fatalf("%d worker goroutines, want the 2 idle ones", n)
		}
	})
}

// poolGoroutines counts the goroutines in writerPool.work.
func poolGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Count(buf, []byte("ws.(*writerPool).work("))
}
