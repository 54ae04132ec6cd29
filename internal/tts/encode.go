package tts

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/koe-voice/koe/internal/tracing"
)

// Format is an audio file format a generation can be delivered in. The
// values are the GraphQL enum values.
type Format string

// The formats Encoder knows.
const (
	FormatWAV     Format = "WAV"
	FormatMP3     Format = "MP3"
	FormatOggOpus Format = "OGG_OPUS"
)

// ErrFormatUnavailable is wrapped by Encoder errors for a format this server
// cannot produce, because it is unknown or its encoder is not installed.
var ErrFormatUnavailable = errors.New("audio format unavailable")

// Encoded is an audio file ready to store or serve.
type Encoded struct {
	ContentType string
	Ext         string
	// Bytes is the file's size.
	Bytes int64
	// DurationMs and SampleRate are read from the file as it passes, so
	// they describe it as players will see it (Opus always plays at 48
	// kHz; MP3 counts its frames).
	DurationMs int
	SampleRate int
	// Data is the file itself, from Encode; Stream sends it on instead.
	Data []byte
}

// Encoder turns PCM into files. WAV is written in Go; MP3 and Ogg Opus are
// piped through the lame and opusenc programs.
type Encoder struct {
	// LameBinary is the lame program, "lame" when empty.
	LameBinary string
	// OpusencBinary is the opusenc program, "opusenc" when empty.
	OpusencBinary string
}

// Available returns nil when f can be produced on this server, or an error
// wrapping ErrFormatUnavailable that names what is missing.
func (e Encoder) Available(f Format) error {
	var prog string
	switch f {
	case FormatWAV:
		return nil
	case FormatMP3:
		prog = cmp.Or(e.LameBinary, "lame")
	case FormatOggOpus:
		prog = cmp.Or(e.OpusencBinary, "opusenc")
	default:
		return fmt.Errorf("unknown audio format %q: %w", f, ErrFormatUnavailable)
	}
	if _, err := exec.LookPath(prog); err != nil {
		return fmt.Errorf("%s needs the %q program, which is not installed on this server: %w", f, prog, ErrFormatUnavailable)
	}
	return nil
}

// FileType is the content type and file name extension of format f.
func FileType(f Format) (contentType, ext string) {
	switch f {
	case FormatMP3:
		return "audio/mpeg", "mp3"
	case FormatOggOpus:
		return "audio/ogg; codecs=opus", "ogg"
	}
	return "audio/wav", "wav"
}

// Encode converts p to f in memory, through the same path as Stream: for
// short audio such as voice previews. Cancelling ctx kills the encoder
// process.
func (e Encoder) Encode(ctx context.Context, p PCM, f Format) (Encoded, error) {
	var buf bytes.Buffer
	enc, err := e.Stream(ctx, f, &buf)
	if err != nil {
		return Encoded{}, err
	}
	if err := enc.WritePCM(p); err != nil {
		enc.Abort()
		return Encoded{}, err
	}
	out, err := enc.Close()
	out.Data = buf.Bytes()
	return out, err
}

// Stream starts a file of format f written to out as the encoder makes it.
// Audio goes in through the Encoding's WritePCM, all at the rate of the
// first piece; Close finishes the file, Abort drops it. Memory stays the
// same however long the audio: lame and opusenc read their input and write
// their output as pipes, and WAV, whose header needs the length, keeps its
// samples in a spool (memory, then an unnamed temporary file) until Close.
// Cancelling ctx kills the encoder process.
func (e Encoder) Stream(ctx context.Context, f Format, out io.Writer) (*Encoding, error) {
	if err := e.Available(f); err != nil {
		return nil, err
	}
	ctx, span := tracing.Start(ctx, "tts.encode", attribute.String("tts.format", string(f)))
	enc := &Encoding{e: e, format: f, span: span, maxWAV: maxWAVData}
	enc.ctx, enc.cancel = context.WithCancel(ctx)
	enc.out.w = out
	enc.out.probe = map[Format]prober{FormatWAV: &wavParser{}, FormatMP3: &mp3Prober{}, FormatOggOpus: &oggProber{granule: -1}}[f]
	enc.result.ContentType, enc.result.Ext = FileType(f)
	return enc, nil
}

// Encoding is one file being encoded as its audio arrives: a PCMWriter.
// One goroutine writes to it, then calls Close or Abort.
type Encoding struct {
	e      Encoder
	format Format
	ctx    context.Context
	span   trace.Span
	out    countingProbe
	result Encoded

	rate    int
	samples int64
	buf     []byte
	err     error // the first failure; every later call returns it

	// MP3 and Ogg Opus: the program's stdin, and how its run ended.
	cancel context.CancelFunc
	stdin  io.WriteCloser
	exited chan error
	// WAV: the samples until Close writes the header.
	wav    *spool
	maxWAV int64
	budget memBudget
}

// wavMemory is how much of a WAV file's samples Stream keeps in memory
// before it moves them to a temporary file: previews never touch the disk.
const wavMemory = 1 << 20

// WritePCM adds audio to the file.
func (enc *Encoding) WritePCM(p PCM) error {
	if enc.err != nil {
		return enc.err
	}
	if enc.rate == 0 {
		if p.SampleRate <= 0 {
			return enc.fail(fmt.Errorf("encode %s: sample rate %d", enc.format, p.SampleRate))
		}
		enc.rate = p.SampleRate
		if err := enc.start(); err != nil {
			return enc.fail(fmt.Errorf("encode %s: %w", enc.format, err))
		}
	}
	if p.SampleRate != enc.rate {
		return enc.fail(fmt.Errorf("encode %s: sample rate changed from %d to %d", enc.format, enc.rate, p.SampleRate))
	}
	enc.samples += int64(len(p.Samples))
	enc.buf = appendSamples(enc.buf[:0], p.Samples)
	if enc.wav != nil {
		if 2*enc.samples > enc.maxWAV {
			return enc.fail(fmt.Errorf("%w: a WAV file holds at most %s at %d Hz", ErrOutputTooLong,
				time.Duration(enc.maxWAV/2)*time.Second/time.Duration(enc.rate), enc.rate))
		}
		return enc.fail(enc.wav.write(enc.buf))
	}
	if _, err := enc.stdin.Write(enc.buf); err != nil {
		// The program stopped reading: its exit says why.
		return enc.fail(enc.wait())
	}
	return nil
}

// start runs the encoder for the first piece's rate.
func (enc *Encoding) start() error {
	var args []string
	switch enc.format {
	case FormatWAV:
		enc.budget.left.Store(wavMemory)
		enc.wav = &spool{budget: &enc.budget}
		enc.wav.more.L = &enc.wav.mu
		return nil
	case FormatMP3:
		// Raw samples on stdin. 64 kbit/s CBR mono is plenty for speech
		// at 22–24 kHz.
		args = []string{cmp.Or(enc.e.LameBinary, "lame"), "--quiet", "-r", "-s", strconv.FormatFloat(float64(enc.rate)/1000, 'f', -1, 64),
			"--signed", "--bitwidth", "16", "--little-endian", "-m", "m", "-b", "64", "-", "-"}
	case FormatOggOpus:
		args = []string{cmp.Or(enc.e.OpusencBinary, "opusenc"), "--quiet", "--raw", "--raw-bits", "16", "--raw-rate", strconv.Itoa(enc.rate),
			"--raw-chan", "1", "--raw-endianness", "0", "--bitrate", "32", "-", "-"}
	}
	p, err := start(enc.ctx, nil, nil, args[0], args[1:]...)
	if err != nil {
		return err
	}
	enc.stdin, enc.exited = p.stdin, make(chan error, 1)
	// The output is copied while WritePCM feeds the input: the program
	// holds only what it is working on.
	go func() { enc.exited <- p.copyTo(&enc.out) }()
	return nil
}

// wait returns how the program's run ended, once.
func (enc *Encoding) wait() error {
	err := <-enc.exited
	close(enc.exited)
	enc.exited = nil
	if err != nil {
		return fmt.Errorf("encode %s: %w", enc.format, err)
	}
	return nil
}

// fail records the first error; nil passes.
func (enc *Encoding) fail(err error) error {
	if err != nil && enc.err == nil {
		enc.err = err
	}
	return err
}

// Close finishes the file and describes it.
func (enc *Encoding) Close() (Encoded, error) {
	err := enc.finish()
	enc.endSpan(err)
	if err != nil {
		return Encoded{}, err
	}
	return enc.result, nil
}

// endSpan ends the trace span of the file, once.
func (enc *Encoding) endSpan(err error) {
	if enc.span == nil {
		return
	}
	enc.span.SetAttributes(attribute.Int64("tts.samples", enc.samples), attribute.Int64("tts.bytes", enc.out.n))
	tracing.End(enc.span, err)
	enc.span = nil
}

func (enc *Encoding) finish() error {
	if enc.err != nil {
		enc.Abort()
		return enc.err
	}
	enc.err = errors.New("encode: closed")
	defer enc.cancel()
	switch {
	case enc.rate == 0:
		return fmt.Errorf("encode %s: no audio", enc.format)
	case enc.wav != nil:
		defer enc.wav.release()
		enc.wav.close()
		if _, err := enc.out.Write(canonicalWAVHeader(enc.rate, 2*enc.samples)); err != nil {
			return err
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := enc.wav.read(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if _, err := enc.out.Write(buf[:n]); err != nil {
				return err
			}
		}
	default:
		_ = enc.stdin.Close()
		if err := enc.wait(); err != nil {
			return err
		}
	}
	var err error
	if enc.result.DurationMs, enc.result.SampleRate, err = enc.out.probe.result(); err != nil {
		return fmt.Errorf("encode %s: read back: %w", enc.format, err)
	}
	enc.result.Bytes = enc.out.n
	return nil
}

// Abort stops the encoder and drops what it made; what went to out stays
// there, for the caller to throw away. Calling it after Close does nothing.
func (enc *Encoding) Abort() {
	if enc.err == nil {
		enc.err = errors.New("encode: aborted")
	}
	if enc.wav != nil {
		enc.wav.release()
	}
	enc.cancel() // kills the program
	if enc.exited != nil {
		_ = enc.stdin.Close()
		_ = enc.wait()
	}
	enc.endSpan(enc.err)
}

// countingProbe passes the encoder's output on to w, counting and probing
// it on the way.
type countingProbe struct {
	w     io.Writer
	probe prober
	n     int64
}

func (c *countingProbe) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	_, _ = c.probe.Write(b[:n])
	c.n += int64(n)
	return n, err
}

// process is a running program whose stdout goes to a writer.
type process struct {
	ctx    context.Context // the caller's
	cancel context.CancelFunc
	cmd    *exec.Cmd
	name   string
	stdin  io.WriteCloser // when start was given no stdin
	stdout io.ReadCloser
	stderr *headBuffer
}

// start runs the program name with stdin, or with a pipe the caller writes
// to (process.stdin) when stdin is nil; env is added to our environment.
// Cancelling ctx kills the program.
func start(ctx context.Context, stdin io.Reader, env []string, name string, args ...string) (*process, error) {
	run, cancel := context.WithCancel(ctx)
	p := &process{ctx: ctx, cancel: cancel, cmd: exec.CommandContext(run, name, args...), name: name, stderr: &headBuffer{max: 4096}}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stderr = p.stderr
	var err error
	if stdin != nil {
		p.cmd.Stdin = stdin
	} else if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if p.stdout, err = p.cmd.StdoutPipe(); err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := p.cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// copyTo copies what the program writes to out as it comes, until it
// exits. When out fails, the program is killed and out's error returned as
// it is. When ctx was cancelled, the error wraps ctx.Err(). Otherwise the
// error of a failed run carries the start of stderr, which says what went
// wrong.
func (p *process) copyTo(out io.Writer) error {
	defer p.cancel()
	sink := &recordingWriter{w: out}
	if _, err := io.CopyBuffer(sink, p.stdout, make([]byte, 32<<10)); err != nil {
		p.cancel()
	}
	err := p.cmd.Wait()
	switch {
	case sink.err != nil:
		return sink.err
	case err == nil:
		return nil
	case p.ctx.Err() != nil:
		return fmt.Errorf("%s: %w", p.name, errors.Join(p.ctx.Err(), err))
	}
	if msg := strings.TrimSpace(p.stderr.String()); msg != "" {
		return fmt.Errorf("%s: %w: %s", p.name, err, truncate(msg, 300))
	}
	return fmt.Errorf("%s: %w", p.name, err)
}

// pipe runs the program name with stdin and copies its stdout to out as it
// comes (see start and copyTo).
func pipe(ctx context.Context, stdin io.Reader, env []string, out io.Writer, name string, args ...string) error {
	p, err := start(ctx, stdin, env, name, args...)
	if err != nil {
		return err
	}
	return p.copyTo(out)
}

// run is pipe into memory, for programs whose answer is short.
func run(ctx context.Context, stdin []byte, env []string, name string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	err := pipe(ctx, bytes.NewReader(stdin), env, &out, name, args...)
	return out.Bytes(), err
}

// recordingWriter passes writes on to w and keeps its first error, to tell
// it apart from the program's own failures.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(b []byte) (int, error) {
	n, err := r.w.Write(b)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// headBuffer keeps the first max bytes written to it and drops the rest:
// a program's stderr, kept for its error message.
type headBuffer struct {
	bytes.Buffer
	max int
}

func (h *headBuffer) Write(b []byte) (int, error) {
	if room := h.max - h.Len(); room > 0 {
		h.Buffer.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// truncate cuts s to at most n bytes, without splitting a UTF-8 sequence,
// and marks the cut with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
