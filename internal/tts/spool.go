package tts

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrOutputTooLong is returned when audio runs past a limit: the one given
// to Speak, or what the file format can hold.
var ErrOutputTooLong = errors.New("audio output too long")

// DefaultSpoolMemory is how many bytes of audio one Speak keeps in memory
// while chunks wait for those before them (about 95 s at 22,050 Hz, so
// ordinary texts never touch the disk); beyond it they wait in temporary
// files. Memory is taken in blocks of 64 KiB.
const DefaultSpoolMemory = 4 << 20

// Sequence puts the audio of chunks spoken at the same time back in chunk
// order. Each chunk writes to its own Part as it is spoken; Run writes the
// parts to out one after another, each as it arrives: the chunk being
// written out goes through at once, and the chunks after it wait in a spool
// (memory up to a budget shared by the parts, then an unnamed temporary
// file). Parts at another sample rate than the first are resampled to it.
type Sequence struct {
	out    PCMWriter
	parts  []*part
	budget memBudget
	limit  time.Duration
	made   atomic.Int64 // nanoseconds of audio written to the parts
}

// NewSequence returns a sequence of n parts written to out, keeping up to
// memory bytes in memory (0: DefaultSpoolMemory). With limit above 0, a
// Part's WritePCM fails with ErrOutputTooLong once the audio of all parts
// together passes it.
func NewSequence(n int, out PCMWriter, memory int, limit time.Duration) *Sequence {
	s := &Sequence{out: out, parts: make([]*part, n), limit: limit}
	if memory <= 0 {
		memory = DefaultSpoolMemory
	}
	s.budget.left.Store(int64(memory))
	for i := range s.parts {
		s.parts[i] = &part{seq: s, spool: spool{budget: &s.budget}}
		s.parts[i].more.L = &s.parts[i].mu
	}
	return s
}

// Part returns the writer of chunk i. One goroutine may write to it; Done
// says it has finished.
func (s *Sequence) Part(i int) PCMWriter { return s.parts[i] }

// Done marks chunk i's audio complete.
func (s *Sequence) Done(i int) { s.parts[i].close() }

// Made is the audio written to the parts so far.
func (s *Sequence) Made() time.Duration { return time.Duration(s.made.Load()) }

// Spilled is how many bytes waited in temporary files.
func (s *Sequence) Spilled() int64 {
	var n int64
	for _, p := range s.parts {
		p.mu.Lock()
		n += p.spilled
		p.mu.Unlock()
	}
	return n
}

// Run writes the parts to out in order until the last is done, and returns
// nil then, or the first error of out or of Abort.
func (s *Sequence) Run() error {
	var (
		buf     = make([]byte, 32<<10)
		samples []int16
		rate    int // of the output: the first part's
	)
	for _, p := range s.parts {
		var r *resampler
		for {
			n, err := p.read(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if r == nil {
				rate = cmp.Or(rate, p.sampleRate())
				r = &resampler{from: p.sampleRate(), to: rate}
			}
			samples = decodeFrames(samples[:0], mono, buf[:n])
			if err := s.write(rate, r.convert(samples)); err != nil {
				return err
			}
		}
		rate = cmp.Or(rate, p.sampleRate()) // a part of silence still sets it
		if r != nil {
			if err := s.write(rate, r.flush()); err != nil {
				return err
			}
		}
		p.release()
	}
	return nil
}

func (s *Sequence) write(rate int, samples []int16) error {
	if len(samples) == 0 {
		return nil
	}
	return s.out.WritePCM(PCM{SampleRate: rate, Samples: samples})
}

// Abort makes Run and every Part's writes return err.
func (s *Sequence) Abort(err error) {
	for _, p := range s.parts {
		p.fail(err)
	}
}

// Close frees the memory and temporary files of the parts; it is called
// once nothing writes or runs any more.
func (s *Sequence) Close() {
	for _, p := range s.parts {
		p.release()
	}
}

// mono is the layout of a part's bytes.
var mono = wavFormat{channels: 1, blockAlign: 2}

// part is one chunk's audio in a Sequence.
type part struct {
	seq *Sequence
	spool
	rate int // guarded by mu; set by the first write
	buf  []byte
}

func (p *part) WritePCM(pcm PCM) error {
	if pcm.SampleRate <= 0 {
		return fmt.Errorf("pcm: sample rate %d", pcm.SampleRate)
	}
	p.mu.Lock()
	if p.rate == 0 {
		p.rate = pcm.SampleRate
	}
	rate := p.rate
	p.mu.Unlock()
	if rate != pcm.SampleRate {
		return fmt.Errorf("pcm: sample rate changed from %d to %d", rate, pcm.SampleRate)
	}
	made := p.seq.made.Add(int64(len(pcm.Samples)) * int64(time.Second) / int64(pcm.SampleRate))
	if lim := p.seq.limit; lim > 0 && made > int64(lim) {
		return fmt.Errorf("%w: more than %s of audio", ErrOutputTooLong, lim)
	}
	p.buf = appendSamples(p.buf[:0], pcm.Samples)
	return p.write(p.buf)
}

func (p *part) sampleRate() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// spool is a queue of bytes with one writer and one reader: in memory while
// its budget allows, then in a temporary file that is unlinked as soon as
// it is made, so that nothing is left behind whatever happens to the
// process. Once a spool has a file, all later bytes go there, to keep them
// in order.
type spool struct {
	budget *memBudget

	mu      sync.Mutex
	more    sync.Cond // data came, the writer closed or the spool failed
	mem     []*[]byte // blocks of spoolBlock bytes, oldest first; the last may be filling
	off     int       // bytes of mem[0] read
	file    *os.File
	wrote   int64 // bytes written to file
	taken   int64 // bytes of file read
	closed  bool
	err     error
	spilled int64
}

// spoolBlock is the unit of a spool's memory. Blocks are reused, so audio
// passing through memory makes no garbage: a long job would otherwise grow
// the heap by what the collector lets it (128 MB with gctune) before it is
// collected.
const spoolBlock = 64 << 10

var spoolBlocks = sync.Pool{New: func() any { b := make([]byte, 0, spoolBlock); return &b }}

// write appends a copy of b.
func (s *spool) write(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	for s.file == nil && len(b) > 0 {
		if n := len(s.mem); n == 0 || len(*s.mem[n-1]) == spoolBlock {
			if !s.budget.take(spoolBlock) {
				break
			}
			s.mem = append(s.mem, spoolBlocks.Get().(*[]byte))
		}
		last := s.mem[len(s.mem)-1]
		k := min(spoolBlock-len(*last), len(b))
		*last = append(*last, b[:k]...)
		b = b[k:]
		s.more.Broadcast()
	}
	if len(b) == 0 {
		return nil
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "koe-spool-*")
		if err != nil {
			return fmt.Errorf("spool: %w: %w", ErrTransient, err)
		}
		_ = os.Remove(f.Name())
		s.file = f
	}
	// The reader only reads below s.wrote, so the file is written unlocked.
	f, off := s.file, s.wrote
	s.mu.Unlock()
	n, err := f.WriteAt(b, off)
	s.mu.Lock()
	s.wrote += int64(n)
	s.spilled += int64(n)
	s.more.Broadcast()
	if err != nil {
		return fmt.Errorf("spool: %w: %w", ErrTransient, err)
	}
	return s.err
}

// read fills p with the oldest bytes, waiting for some; io.EOF once the
// writer has closed and everything was read.
func (s *spool) read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.readable() && !s.closed && s.err == nil {
		s.more.Wait()
	}
	switch {
	case s.err != nil:
		return 0, s.err
	case len(s.mem) > 0 && s.off < len(*s.mem[0]):
		n := copy(p, (*s.mem[0])[s.off:])
		s.off += n
		if s.off == spoolBlock { // full and read: the writer is past it
			s.drop()
		}
		return n, nil
	case s.taken < s.wrote:
		f, off := s.file, s.taken
		n := int(min(int64(len(p)), s.wrote-s.taken))
		s.mu.Unlock()
		n, err := f.ReadAt(p[:n], off)
		s.mu.Lock()
		s.taken += int64(n)
		if err != nil && !errors.Is(err, io.EOF) {
			return n, fmt.Errorf("spool: %w: %w", ErrTransient, err)
		}
		return n, nil
	}
	return 0, io.EOF
}

// readable reports whether read has bytes to give.
func (s *spool) readable() bool {
	return len(s.mem) > 0 && s.off < len(*s.mem[0]) || s.taken < s.wrote
}

// drop gives the oldest block back.
func (s *spool) drop() {
	b := s.mem[0]
	*b = (*b)[:0]
	spoolBlocks.Put(b)
	s.budget.give(spoolBlock)
	s.mem[0] = nil
	s.mem, s.off = s.mem[1:], 0
}

// close says the writer is done.
func (s *spool) close() {
	s.mu.Lock()
	s.closed = true
	s.more.Broadcast()
	s.mu.Unlock()
}

// fail makes the writer's and the reader's calls return err.
func (s *spool) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.more.Broadcast()
	s.mu.Unlock()
}

// release gives back the spool's memory and closes its file.
func (s *spool) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.mem) > 0 {
		s.drop()
	}
	if s.file != nil {
		_ = s.file.Close()
		s.file = nil
	}
	if s.err == nil {
		s.err = errReleased
	}
}

var errReleased = errors.New("spool: released")

// memBudget is the bytes a Sequence's spools may still keep in memory.
type memBudget struct{ left atomic.Int64 }

func (m *memBudget) take(n int) bool {
	for {
		left := m.left.Load()
		if left < int64(n) {
			return false
		}
		if m.left.CompareAndSwap(left, left-int64(n)) {
			return true
		}
	}
}

func (m *memBudget) give(n int) { m.left.Add(int64(n)) }
