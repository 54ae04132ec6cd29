package tts

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/koe-voice/koe/internal/tts/helperproto"
)

// Helper is a warm helper program an engine speaks through: a program of
// Koe's that links the engine's C library and speaks text after text
// (package helperproto; cmd/koe-espeak, cmd/koe-flite), where the engine's
// own program would start, load its voice and exit for every piece. A pool
// keeps at most Workers of its processes, each speaking one text at a
// time, and stops one idle for IdleTimeout. Its zero value has no Program:
// the engine runs its own program. It must not be copied after first use.
type Helper struct {
	// Program is the helper program; empty: none.
	Program string
	// Workers is the most processes running at once; runtime.NumCPU()
	// when zero.
	Workers int
	// IdleTimeout stops a process that long without a text;
	// DefaultIdleTimeout when zero.
	IdleTimeout time.Duration

	once sync.Once
	pool *warmPool[*helperProcess]
}

func (h *Helper) warm() *warmPool[*helperProcess] {
	h.once.Do(func() {
		h.pool = &warmPool[*helperProcess]{Engine: h.name(), Start: h.start, Workers: h.Workers, IdleTimeout: h.IdleTimeout}
	})
	return h.pool
}

// name names the helper in errors: its program's file name.
func (h *Helper) name() string { return filepath.Base(h.Program) }

// Warm starts a process and keeps it for the first text: so a server finds
// out at start whether its helper works, and the first generation does not
// wait for a start. Without a Program it does nothing.
func (h *Helper) Warm(ctx context.Context) error {
	if h.Program == "" {
		return nil
	}
	if err := h.warm().do(ctx, func(*helperProcess) error { return nil }); err != nil {
		return failure(ctx, err)
	}
	return nil
}

// Close stops the idle processes; one at work stops when its text is done.
// Speaking through the helper fails after Close.
func (h *Helper) Close() error {
	h.warm().close()
	return nil
}

// speak has a process speak req (the helper's JSON request) and writes its
// audio to w as it comes. w's own error is returned as it is; any other is
// the engine's failure. Cancelling ctx kills the process.
func (h *Helper) speak(ctx context.Context, req any, w PCMWriter) error {
	var werr error // w's own error
	err := h.warm().do(ctx, func(p *helperProcess) error {
		var err error
		werr, err = p.speak(ctx, req, w)
		return err
	})
	if werr != nil {
		return werr
	}
	if err != nil {
		return failure(ctx, err)
	}
	return nil
}

// helperProcess is one process of a Helper.
type helperProcess struct {
	*warmProcess
	name   string
	frames *helperproto.Reader
	rate   int // the sample rate it said at start
}

// start starts a process and reads the sample rate it says first.
func (h *Helper) start() (*helperProcess, error) {
	proc, err := startWarm(h.Program)
	if err != nil {
		return nil, err
	}
	p := &helperProcess{warmProcess: proc, name: h.name(), frames: helperproto.NewReader(proc.stdout)}
	kind, payload, err := p.frames.Next()
	if err == nil && (kind != helperproto.Rate || len(payload) != 4) {
		err = fmt.Errorf("said %q first, not its sample rate", kind)
	}
	if err != nil {
		p.stop()
		return nil, err
	}
	p.rate = int(binary.LittleEndian.Uint32(payload))
	return p, nil
}

// speak has the process speak one request, writing its samples to w as
// they come. werr is w's error, which stops it; err is set whenever the
// request did not finish, and the process is then unfit for another.
func (p *helperProcess) speak(ctx context.Context, req any, w PCMWriter) (werr, err error) {
	stop := context.AfterFunc(ctx, p.stop)
	defer stop()
	line, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		return nil, p.failed(ctx, p.name, err)
	}
	d := rawDecoder(w, p.rate)
	for {
		kind, payload, err := p.frames.Next()
		if err != nil {
			return nil, p.failed(ctx, p.name, err)
		}
		switch kind {
		case helperproto.Audio:
			if _, err := d.Write(payload); err != nil {
				return d.sinkErr(), err
			}
		case helperproto.End:
			if !stop() { // killed for ctx just now
				return nil, p.failed(ctx, p.name, context.Cause(ctx))
			}
			return nil, d.finish()
		case helperproto.Failed:
			return nil, fmt.Errorf("%s: %s", p.name, payload)
		default:
			return nil, fmt.Errorf("%s: unknown frame %q", p.name, kind)
		}
	}
}
