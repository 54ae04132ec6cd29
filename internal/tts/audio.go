package tts

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Duration is how long the audio plays.
func (p PCM) Duration() time.Duration {
	if p.SampleRate <= 0 {
		return 0
	}
	return time.Duration(len(p.Samples)) * time.Second / time.Duration(p.SampleRate)
}

// Record speaks text into memory, for audio known to be short (voice
// previews, tests). Long texts go through Speak, which holds none of it.
func Record(ctx context.Context, s Synthesizer, engineVoiceID, text string, p Params) (PCM, error) {
	var b pcmBuffer
	err := s.Synthesize(ctx, engineVoiceID, text, p, &b)
	return b.PCM, err
}

// pcmBuffer is a PCMWriter that keeps everything, at one sample rate.
type pcmBuffer struct{ PCM }

func (b *pcmBuffer) WritePCM(p PCM) error {
	if b.SampleRate == 0 {
		b.SampleRate = p.SampleRate
	}
	if p.SampleRate != b.SampleRate {
		return fmt.Errorf("pcm: sample rate changed from %d to %d", b.SampleRate, p.SampleRate)
	}
	b.Samples = append(b.Samples, p.Samples...)
	return nil
}

// maxWAVData is the most audio a WAV file can hold: its sizes are uint32,
// and the RIFF size counts 36 bytes of header besides the samples.
const maxWAVData = (1<<32 - 1 - 36) &^ 1

// canonicalWAVHeader is the canonical 44-byte header of a mono 16-bit WAV file of
// dataBytes bytes of samples.
func canonicalWAVHeader(rate int, dataBytes int64) []byte {
	b := make([]byte, 44)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+dataBytes))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // integer PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*rate))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataBytes))
	return b
}

// appendSamples appends samples as 16-bit little-endian bytes.
func appendSamples(b []byte, samples []int16) []byte {
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// EncodeWAV returns p as a WAV file with the canonical 44-byte header.
func EncodeWAV(p PCM) []byte {
	return appendSamples(canonicalWAVHeader(p.SampleRate, 2*int64(len(p.Samples))), p.Samples)
}

// DecodeWAV reads a 16-bit integer PCM WAV file, mixing several channels
// down to mono. It accepts the headers that streaming writers such as
// espeak-ng --stdout produce, whose sizes are placeholders: the data chunk
// is then whatever follows its header.
func DecodeWAV(b []byte) (PCM, error) {
	var out pcmBuffer
	d := wavDecoder(&out)
	if _, err := d.Write(b); err != nil {
		return PCM{}, err
	}
	if err := d.finish(); err != nil {
		return PCM{}, err
	}
	if out.SampleRate == 0 { // a data chunk with no whole frame
		out.SampleRate = d.wav.f.sampleRate
	}
	if out.Samples == nil {
		out.Samples = []int16{}
	}
	return out.PCM, nil
}

// ProbeWAV reports the duration and sample rate of a WAV file from its
// header and the length of its data chunk.
func ProbeWAV(b []byte) (durationMs, sampleRate int, err error) {
	return probe(&wavParser{}, b)
}

type wavFormat struct {
	channels   int
	sampleRate int
	blockAlign int
}

// wavParser reads a WAV file written to it in pieces of any size, keeping
// no more than the fmt chunk: the bytes of the data chunk go on to the
// writer data returns for the file's format, as they pass. It walks the
// RIFF chunks; a data chunk whose declared size is a placeholder
// (0xFFFFFFFF, or anything the file does not reach) runs to the end.
type wavParser struct {
	// data, when set, returns where the samples go once the format is
	// known; its errors stop the parse and are returned as they are.
	data func(wavFormat) io.Writer

	f       wavFormat
	pending []byte // a header or fmt chunk body not yet whole
	state   wavState
	skip    int64     // bytes of an ignored chunk (and its padding) still to pass
	left    int64     // bytes of the data chunk still to come; -1: to the end
	out     io.Writer // where the data chunk goes
	bytes   int64     // data bytes seen
	err     error
}

type wavState int

const (
	wavRIFF wavState = iota
	wavChunk
	wavFmt
	wavData
	wavDone
)

// Write parses b. A malformed file's error is returned at once and again
// by finish.
func (w *wavParser) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 && w.err == nil {
		if w.skip > 0 {
			k := min(w.skip, int64(len(b)))
			b, w.skip = b[k:], w.skip-k
			continue
		}
		switch w.state {
		case wavData:
			k := len(b)
			if w.left >= 0 {
				k = int(min(w.left, int64(k)))
				w.left -= int64(k)
			}
			w.bytes += int64(k)
			if w.out != nil {
				if _, err := w.out.Write(b[:k]); err != nil {
					return n, err
				}
			}
			b = b[k:]
			if w.left == 0 {
				w.state = wavDone
			}
		case wavDone:
			return n, nil // trailing chunks
		default:
			b = w.header(b)
		}
	}
	return n, w.err
}

// header takes the bytes of the part of the header being read from b and
// returns the rest, moving on when that part is whole.
func (w *wavParser) header(b []byte) []byte {
	need := 8
	switch w.state {
	case wavRIFF:
		need = 12
	case wavFmt:
		need = int(w.left)
	}
	k := min(need-len(w.pending), len(b))
	w.pending = append(w.pending, b[:k]...)
	b = b[k:]
	if len(w.pending) < need {
		return b
	}
	h := w.pending
	w.pending = w.pending[:0]
	switch w.state {
	case wavRIFF:
		if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" {
			w.err = errors.New("wav: not a RIFF/WAVE file")
		}
		w.state = wavChunk
	case wavChunk:
		id, size := string(h[0:4]), int64(binary.LittleEndian.Uint32(h[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				w.err = errors.New("wav: short fmt chunk")
				return b
			}
			w.state, w.left = wavFmt, size
		case "data":
			if w.f.sampleRate == 0 {
				w.err = errors.New("wav: data chunk before fmt chunk")
				return b
			}
			w.state, w.left = wavData, size
			if size == 0xFFFFFFFF {
				w.left = -1
			}
			if w.data != nil {
				w.out = w.data(w.f)
			}
			if size == 0 {
				w.state = wavDone
			}
		default:
			// Chunks are padded to an even size.
			w.skip = size + size&1
		}
	case wavFmt:
		tag := binary.LittleEndian.Uint16(h[0:])
		bits := binary.LittleEndian.Uint16(h[14:])
		// 0xFFFE is WAVE_FORMAT_EXTENSIBLE, which wraps the same integer
		// samples.
		if (tag != 1 && tag != 0xFFFE) || bits != 16 {
			w.err = fmt.Errorf("wav: format %#x with %d bits per sample, want 16-bit integer PCM", tag, bits)
			return b
		}
		w.f.channels = int(binary.LittleEndian.Uint16(h[2:]))
		w.f.sampleRate = int(binary.LittleEndian.Uint32(h[4:]))
		w.f.blockAlign = 2 * w.f.channels
		if w.f.channels == 0 || w.f.sampleRate == 0 {
			w.err = errors.New("wav: zero channels or sample rate")
		}
		// Chunks are padded to an even size.
		w.state, w.skip = wavChunk, w.left&1
	}
	return b
}

// finish reports whether what was written is a WAV file.
func (w *wavParser) finish() error {
	switch {
	case w.err != nil:
		return w.err
	case w.state == wavRIFF:
		return errors.New("wav: not a RIFF/WAVE file")
	case w.state != wavData && w.state != wavDone:
		return errors.New("wav: no data chunk")
	}
	return nil
}

func (w *wavParser) result() (durationMs, sampleRate int, err error) {
	if err := w.finish(); err != nil {
		return 0, 0, err
	}
	frames := w.bytes / int64(w.f.blockAlign)
	return int(frames * 1000 / int64(w.f.sampleRate)), w.f.sampleRate, nil
}

// decoder turns what an engine writes, a WAV stream or raw samples, into
// PCM for a PCMWriter as the bytes arrive.
type decoder struct {
	io.Writer
	wav  *wavParser // nil for raw samples
	sink *sampleWriter
}

// wavDecoder decodes a WAV stream for w.
func wavDecoder(w PCMWriter) *decoder {
	d := &decoder{wav: &wavParser{}}
	d.wav.data = func(f wavFormat) io.Writer {
		d.sink = &sampleWriter{f: f, w: w}
		return d.sink
	}
	d.Writer = d.wav
	return d
}

// copyWAV decodes the WAV file r holds for w as it is read: for engines
// that write a file. An error of w is returned as it is; a file that is
// not a whole WAV file is a transient failure of engine.
func copyWAV(engine string, r io.Reader, w PCMWriter) error {
	d := wavDecoder(w)
	_, err := io.CopyBuffer(d, r, make([]byte, 32<<10))
	if err := d.sinkErr(); err != nil {
		return err
	}
	if err == nil {
		err = d.finish()
	}
	if err != nil {
		return fmt.Errorf("%s: %w: %w", engine, ErrTransient, err)
	}
	return nil
}

// pipeWAV runs the program name, which writes a WAV file to stdout, and
// decodes it for w as it comes (see pipe). An error of w kills the program
// and is returned as it is; a failed run or a stream that is not a whole
// WAV file is classified by failure.
func pipeWAV(ctx context.Context, stdin io.Reader, env []string, w PCMWriter, name string, args ...string) error {
	d := wavDecoder(w)
	err := pipe(ctx, stdin, env, d, name, args...)
	if err := d.sinkErr(); err != nil {
		return err
	}
	if err == nil {
		if err = d.finish(); err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
	}
	if err != nil {
		return failure(ctx, err)
	}
	return nil
}

// rawDecoder decodes mono 16-bit little-endian samples at rate for w.
func rawDecoder(w PCMWriter, rate int) *decoder {
	d := &decoder{sink: &sampleWriter{f: wavFormat{channels: 1, sampleRate: rate, blockAlign: 2}, w: w}}
	d.Writer = d.sink
	return d
}

// sinkErr is the PCMWriter's error when it stopped the decoding.
func (d *decoder) sinkErr() error {
	if d.sink == nil {
		return nil
	}
	return d.sink.err
}

// finish reports whether the bytes made a whole stream.
func (d *decoder) finish() error {
	if d.wav == nil {
		return nil
	}
	return d.wav.finish()
}

// sampleWriter turns 16-bit little-endian frames of format f, written in
// pieces of any size, into mono PCM for w, carrying a frame split between
// writes to the next one.
type sampleWriter struct {
	f     wavFormat
	w     PCMWriter
	carry []byte
	buf   []int16
	// err is w's error, kept apart from the caller's own failures.
	err error
}

func (s *sampleWriter) Write(b []byte) (int, error) {
	n := len(b)
	if len(s.carry) > 0 {
		k := min(s.f.blockAlign-len(s.carry), len(b))
		s.carry = append(s.carry, b[:k]...)
		b = b[k:]
		if len(s.carry) < s.f.blockAlign {
			return n, nil
		}
		if err := s.write(s.carry); err != nil {
			return n, err
		}
		s.carry = s.carry[:0]
	}
	whole := len(b) - len(b)%s.f.blockAlign
	if err := s.write(b[:whole]); err != nil {
		return n, err
	}
	s.carry = append(s.carry, b[whole:]...)
	return n, nil
}

func (s *sampleWriter) write(frames []byte) error {
	if len(frames) == 0 {
		return nil
	}
	s.buf = decodeFrames(s.buf[:0], s.f, frames)
	s.err = s.w.WritePCM(PCM{SampleRate: s.f.sampleRate, Samples: s.buf})
	return s.err
}

// decodeFrames appends the whole frames of b as mono samples, mixing
// several channels down.
func decodeFrames(dst []int16, f wavFormat, b []byte) []int16 {
	if f.channels == 1 {
		for i := 0; i+1 < len(b); i += 2 {
			dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
		}
		return dst
	}
	for i := 0; i+f.blockAlign <= len(b); i += f.blockAlign {
		sum := 0
		for c := range f.channels {
			sum += int(int16(binary.LittleEndian.Uint16(b[i+2*c:])))
		}
		dst = append(dst, int16(sum/f.channels))
	}
	return dst
}

// resampler converts one stream from rate from to rate to by linear
// interpolation, which is plenty for speech moving between neighbouring
// rates. Fed in pieces, it gives the samples converting the whole stream at
// once would: n·to/from of them, the last ones held at the final sample.
type resampler struct {
	from, to int
	in, out  int64   // input samples taken, output samples given
	hist     []int16 // the last input samples of the pieces before
	buf      []int16
}

// convert returns the output samples s makes available; they are valid
// until the next call.
func (r *resampler) convert(s []int16) []int16 {
	if r.from == r.to {
		return s
	}
	base := r.in
	r.in += int64(len(s))
	at := func(k int64) int16 {
		if k < base {
			return r.hist[int64(len(r.hist))-(base-k)]
		}
		return s[k-base]
	}
	out := r.buf[:0]
	// An output sample needs the input samples on both sides of it; the
	// count is capped by what the input so far certainly makes.
	for n := r.in * int64(r.to) / int64(r.from); r.out < n; r.out++ {
		pos := float64(r.out) * float64(r.from) / float64(r.to)
		j := int64(pos)
		if j+1 >= r.in {
			break
		}
		frac := pos - float64(j)
		out = append(out, int16((1-frac)*float64(at(j))+frac*float64(at(j+1))))
	}
	// An output sample waiting for more input lies at most from/to input
	// samples behind the end.
	keep := r.from/r.to + 2
	r.hist = append(r.hist, s[max(len(s)-keep, 0):]...)
	r.hist = r.hist[:copy(r.hist, r.hist[max(len(r.hist)-keep, 0):])]
	r.buf = out
	return out
}

// flush returns the output samples left at the end of the stream, which
// fall past the last input sample and so repeat it.
func (r *resampler) flush() []int16 {
	out := r.buf[:0]
	if r.from == r.to {
		return out
	}
	for n := r.in * int64(r.to) / int64(r.from); r.out < n; r.out++ {
		out = append(out, r.hist[len(r.hist)-1])
	}
	r.buf = out
	return out
}
