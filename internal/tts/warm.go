package tts

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"
)

// DefaultIdleTimeout is how long a warm engine process waits for its next
// request before it is stopped, giving back its memory (a Festival process
// holds about 320 MB); the next request starts a new one.
const DefaultIdleTimeout = 5 * time.Minute

// warmProcess is a long-lived engine program fed requests on its stdin and
// answering on its stdout, one request at a time.
type warmProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	exited chan struct{} // closed when the process has exited
}

// startWarm starts a process. It is not bound to a context: it outlives
// the request that started it. The programs we run exit when their stdin
// closes, so it does not outlive us either.
func startWarm(name string, args ...string) (*warmProcess, error) {
	cmd := exec.Command(name, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Our own pipe, not StdoutPipe: Wait, which runs as soon as the
	// process exits, would close that one under a reader.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, err
	}
	_ = w.Close()
	p := &warmProcess{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(r, 64<<10), exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = r.Close()
		close(p.exited)
	}()
	return p, nil
}

// alive reports whether the process still runs.
func (p *warmProcess) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop kills the process.
func (p *warmProcess) stop() {
	_ = p.cmd.Process.Kill()
	_ = p.stdin.Close()
}

// failed is the error of a request the process could not finish.
func (p *warmProcess) failed(ctx context.Context, engine string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", engine, errors.Join(ctx.Err(), err))
	}
	return fmt.Errorf("%s exited: %w", engine, err)
}

// warmPool keeps at most Workers processes of one engine, each serving one
// request at a time: started when first needed, replaced when they die or
// fail a request, stopped after IdleTimeout without one. Its zero value,
// with Start set, is ready to use.
type warmPool[P interface {
	alive() bool
	stop()
}] struct {
	// Engine names the engine in errors.
	Engine string
	// Start starts a process.
	Start func() (P, error)
	// Workers is the most processes running at once; runtime.NumCPU()
	// when zero.
	Workers int
	// IdleTimeout stops a process that long without a request;
	// DefaultIdleTimeout when zero.
	IdleTimeout time.Duration

	once  sync.Once
	slots chan struct{} // a token per process at work

	mu     sync.Mutex
	idle   []idleProcess[P] // the most recently used last
	timer  *time.Timer      // set while a process is idle: when the first is due to stop
	closed bool
}

type idleProcess[P any] struct {
	proc  P
	since time.Time
}

// do runs f on a process of the pool, waiting for a free one. A process
// whose request failed is stopped, not used again.
func (w *warmPool[P]) do(ctx context.Context, f func(P) error) error {
	proc, err := w.acquire(ctx)
	if err != nil {
		return err
	}
	err = f(proc)
	w.release(proc, err == nil)
	return err
}

// acquire waits for a free slot and returns an idle live process, or a new
// one.
func (w *warmPool[P]) acquire(ctx context.Context) (P, error) {
	var none P
	w.once.Do(func() { w.slots = make(chan struct{}, cmp.Or(w.Workers, runtime.NumCPU())) })
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return none, ctx.Err()
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.slots
		return none, fmt.Errorf("%s: closed", w.Engine)
	}
	for len(w.idle) > 0 {
		p := w.idle[len(w.idle)-1].proc
		w.idle = w.idle[:len(w.idle)-1]
		if p.alive() {
			w.mu.Unlock()
			return p, nil
		}
	}
	w.mu.Unlock()
	p, err := w.Start()
	if err != nil {
		<-w.slots
		return none, fmt.Errorf("%s: %w", w.Engine, err)
	}
	return p, nil
}

// release returns a process to the pool when it is fit for another
// request, and stops it otherwise.
func (w *warmPool[P]) release(p P, fit bool) {
	w.mu.Lock()
	if fit && !w.closed {
		w.idle = append(w.idle, idleProcess[P]{p, time.Now()})
		if w.timer == nil {
			w.timer = time.AfterFunc(w.idleTimeout(), w.stopIdle)
		}
	} else {
		p.stop()
	}
	w.mu.Unlock()
	<-w.slots
}

func (w *warmPool[P]) idleTimeout() time.Duration { return cmp.Or(w.IdleTimeout, DefaultIdleTimeout) }

// stopIdle stops the processes idle for IdleTimeout or longer, the ones
// at the front, used least recently, and sets the timer for the next.
func (w *warmPool[P]) stopIdle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for n < len(w.idle) && time.Since(w.idle[n].since) >= w.idleTimeout() {
		w.idle[n].proc.stop()
		n++
	}
	w.idle = w.idle[n:]
	if len(w.idle) == 0 || w.closed {
		w.timer = nil
		return
	}
	w.timer.Reset(time.Until(w.idle[0].since.Add(w.idleTimeout())))
}

// close stops the idle processes; a process at work stops when its request
// is done. do fails after close.
func (w *warmPool[P]) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for _, p := range w.idle {
		p.proc.stop()
	}
	w.idle = nil
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}
