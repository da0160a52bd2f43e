package ws

import (
	"sync"
	"time"
)

// writerPool runs the connections' writer turns (conn.writeRun) on a set
// of goroutines shared by the whole Server, in the manner of fasthttp's
// workerPool. A writer turn started on a fresh goroutine grows that
// goroutine's stack from 2 KiB to what the write path needs, every burst;
// a pooled worker keeps its grown stack for the next turn of any
// connection. Idle workers wait on a stack, the most recently idle on top,
// so steady load keeps the same few workers hot and the rest idle long
// enough to be reaped. An idle node has no worker, and an idle connection
// no goroutine but its reader.
//
// run never waits for a worker: with none idle it starts one, so a turn
// blocked on a slow client never holds up another connection's.
type writerPool struct {
	// maxIdle is how long a worker may wait for a job before the
	// reaper ends it; the reaper looks every maxIdle, so an idle worker
	// lives between one and two of them.
	maxIdle time.Duration
	// maxReady is the most workers that wait for a job; a worker done
	// when that many wait returns instead.
	maxReady int
	now      func() time.Time

	mu      sync.Mutex    // guards the fields below; a leaf lock
	ready   []*poolWorker // idle workers, the most recently idle last
	reaping bool          // the reaper runs
	stopped bool
	done    chan struct{} // closed by stop: the reaper returns
	// workers counts the running workers and the reaper; Add is called
	// under mu, before stopped is set.
	workers sync.WaitGroup
}

// poolWorker is one idle or busy worker goroutine.
type poolWorker struct {
	// jobs hands the worker its next job; nil (closed) tells it to
	// return. It holds one so that handing a job to a worker that has
	// put itself on the ready stack but not yet come to its receive
	// does not wait.
	jobs     chan func()
	idleFrom time.Time // guarded by writerPool.mu
}

// writerMaxIdle is how long an idle pooled writer waits for a job.
const writerMaxIdle = time.Second

// writerMaxReady is the most pooled writers that wait for a job. A room's
// fan-out hands every member's turn out before any runs, so a burst to n
// members takes n workers, each with its stack grown to the write path's
// depth (8 KiB): the cap keeps the stacks idle workers hold to 1 MiB
// after a storm of bursts to big rooms (joins to rooms of hundreds),
// where each turn on a goroutine of its own held its grown stack only
// while it ran. Bursts to rooms of up to this many members on a node
// start no goroutine.
const writerMaxReady = 128

func newWriterPool(maxIdle time.Duration, maxReady int) *writerPool {
	return &writerPool{maxIdle: maxIdle, maxReady: maxReady, now: time.Now, done: make(chan struct{})}
}

// run runs job on an idle worker, or a new one when none is idle; it does
// not wait for job. After stop, job runs on a goroutine of its own, which
// returns with it.
func (p *writerPool) run(job func()) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		go job()
		return
	}
	if n := len(p.ready); n > 0 {
		w := p.ready[n-1]
		p.ready[n-1] = nil
		p.ready = p.ready[:n-1]
		p.mu.Unlock()
		w.jobs <- job
		return
	}
	p.workers.Add(1)
	p.mu.Unlock()
	go p.work(&poolWorker{jobs: make(chan func(), 1)}, job)
}

// work runs job, then every job handed to w, until the reaper or stop
// ends it.
func (p *writerPool) work(w *poolWorker, job func()) {
	defer p.workers.Done()
	for job != nil {
		job()
		if !p.idle(w) {
			return
		}
		job = <-w.jobs
	}
}

// idle puts w on the ready stack and makes sure the reaper runs; false
// when the pool stopped, or maxReady workers wait already, and w must
// return instead.
func (p *writerPool) idle(w *poolWorker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || len(p.ready) >= p.maxReady {
		return false
	}
	w.idleFrom = p.now()
	p.ready = append(p.ready, w)
	if !p.reaping {
		p.reaping = true
		p.workers.Add(1)
		go p.reaper()
	}
	return true
}

// reaper ends, every maxIdle, the workers idle for maxIdle or longer. It
// returns when no worker is idle any more (the next one to idle starts
// another), or the pool stops.
func (p *writerPool) reaper() {
	defer p.workers.Done()
	t := time.NewTimer(p.maxIdle)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-p.done:
			return
		}
		if !p.reapOrQuit() {
			return
		}
		t.Reset(p.maxIdle)
	}
}

// reapOrQuit is the reaper's reap; false when no worker is left idle, and
// the reaper, marked as gone, must return.
func (p *writerPool) reapOrQuit() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reapLocked(p.now()) > 0 {
		return true
	}
	p.reaping = false
	return false
}

// reap ends the workers idle since now less maxIdle or earlier and
// returns how many stay idle.
func (p *writerPool) reap(now time.Time) (left int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reapLocked(now)
}

func (p *writerPool) reapLocked(now time.Time) int {
	cutoff := now.Add(-p.maxIdle)
	n := 0 // the stack is oldest first: the first n are due
	for n < len(p.ready) && !p.ready[n].idleFrom.After(cutoff) {
		close(p.ready[n].jobs)
		n++
	}
	m := copy(p.ready, p.ready[n:])
	clear(p.ready[m:])
	p.ready = p.ready[:m]
	return m
}

// stop ends the idle workers and the reaper, and waits for them and for
// the busy workers' jobs, which end their workers. Jobs run after stop
// get goroutines of their own (run).
func (p *writerPool) stop() {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.done)
		for _, w := range p.ready {
			close(w.jobs)
		}
		clear(p.ready)
		p.ready = nil
	}
	p.mu.Unlock()
	p.workers.Wait()
}
