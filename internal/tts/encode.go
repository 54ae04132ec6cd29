package tts

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

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
	Data        []byte
	ContentType string
	Ext         string
	// DurationMs and SampleRate are read back from Data, so they describe
	// the file as players will see it (Opus always plays at 48 kHz).
	DurationMs int
	SampleRate int
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

// Encode converts p to f. Cancelling ctx kills the encoder process.
func (e Encoder) Encode(ctx context.Context, p PCM, f Format) (_ Encoded, err error) {
	ctx, span := tracing.Start(ctx, "tts.encode", attribute.String("tts.format", string(f)), attribute.Int("tts.samples", len(p.Samples)))
	defer func() { tracing.End(span, err) }()
	if err := e.Available(f); err != nil {
		return Encoded{}, err
	}
	out := Encoded{Data: EncodeWAV(p), ContentType: "audio/wav", Ext: "wav"}
	probe := ProbeWAV
	switch f {
	case FormatMP3:
		// lame reads the WAV header from stdin. 64 kbit/s CBR mono is
		// plenty for speech at 22–24 kHz.
		out.ContentType, out.Ext, probe = "audio/mpeg", "mp3", ProbeMP3
		out.Data, err = run(ctx, out.Data, nil, cmp.Or(e.LameBinary, "lame"),
			"--quiet", "-m", "m", "-b", "64", "-", "-")
	case FormatOggOpus:
		out.ContentType, out.Ext, probe = "audio/ogg; codecs=opus", "ogg", ProbeOggOpus
		out.Data, err = run(ctx, out.Data, nil, cmp.Or(e.OpusencBinary, "opusenc"),
			"--quiet", "--bitrate", "32", "-", "-")
	}
	if err != nil {
		return Encoded{}, fmt.Errorf("encode %s: %w", f, err)
	}
	if out.DurationMs, out.SampleRate, err = probe(out.Data); err != nil {
		return Encoded{}, fmt.Errorf("encode %s: read back: %w", f, err)
	}
	return out, nil
}

// run runs the program name with stdin and returns what it wrote to
// stdout; env is added to our environment. Cancelling ctx kills the
// program, and the error then wraps ctx.Err(). Otherwise the error of a
// failed run carries the start of stderr, which says what went wrong.
func run(ctx context.Context, stdin []byte, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", name, errors.Join(ctx.Err(), err))
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%s: %w: %s", name, err, truncate(msg, 300))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return stdout.Bytes(), nil
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

// ProbeMP3 reports the duration and sample rate of an MPEG Layer III file
// by walking its frames. A leading Xing/Info frame carries no audio and is
// not counted; when it has a LAME extension, the encoder delay and padding
// it records are taken off, as gapless players do. Without one (lame writes
// none when its output is a pipe) the duration includes them, about 50–100
// ms.
func ProbeMP3(b []byte) (durationMs, sampleRate int, err error) {
	pos := 0
	if len(b) >= 10 && string(b[0:3]) == "ID3" {
		// The ID3v2 size is syncsafe: 7 bits per byte.
		size := int(b[6]&0x7F)<<21 | int(b[7]&0x7F)<<14 | int(b[8]&0x7F)<<7 | int(b[9]&0x7F)
		pos = 10 + size
		if b[5]&0x10 != 0 { // footer
			pos += 10
		}
	}
	var samples, frames, trim int
	for ; pos+4 <= len(b); frames++ {
		h, ok := parseMP3Header(b[pos:])
		if !ok || pos+h.length > len(b) {
			break // trailing ID3v1/APE tags or a truncated frame
		}
		frame := b[pos : pos+h.length]
		pos += h.length
		if frames == 0 {
			sampleRate = h.sampleRate
			if info, ok := xingTrim(frame, h); ok {
				trim = info
				continue
			}
		}
		samples += h.samples
	}
	if samples == 0 {
		return 0, 0, errors.New("mp3: no MPEG Layer III frames")
	}
	samples = max(samples-trim, 0)
	return int(int64(samples) * 1000 / int64(sampleRate)), sampleRate, nil
}

type mp3Header struct {
	sampleRate int
	samples    int // per frame
	length     int // bytes, header included
	mono       bool
	mpeg1      bool
}

var (
	mp3Bitrates = [2][16]int{ // kbit/s, Layer III; [0] MPEG-2/2.5, [1] MPEG-1
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
	}
	mp3Rates = [4][3]int{ // by version bits
		{11025, 12000, 8000}, // MPEG-2.5
		{},                   // reserved
		{22050, 24000, 16000},
		{44100, 48000, 32000},
	}
)

// parseMP3Header decodes the 4-byte header of a Layer III frame. Free
// format and reserved values are rejected.
func parseMP3Header(b []byte) (mp3Header, bool) {
	if b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mp3Header{}, false
	}
	version, layer := b[1]>>3&3, b[1]>>1&3
	bitrateIdx, rateIdx, padding := b[2]>>4, b[2]>>2&3, int(b[2]>>1&1)
	if version == 1 || layer != 1 || rateIdx == 3 {
		return mp3Header{}, false
	}
	h := mp3Header{sampleRate: mp3Rates[version][rateIdx], mono: b[3]>>6 == 3, mpeg1: version == 3}
	v := 0
	h.samples = 576
	if h.mpeg1 {
		v, h.samples = 1, 1152
	}
	bitrate := mp3Bitrates[v][bitrateIdx] * 1000
	if bitrate == 0 {
		return mp3Header{}, false
	}
	h.length = h.samples/8*bitrate/h.sampleRate + padding
	return h, true
}

// xingTrim reports whether frame is a Xing/Info header frame and, if it has
// a LAME extension, how many samples of encoder delay and padding to drop.
func xingTrim(frame []byte, h mp3Header) (int, bool) {
	// The tag follows the side information, whose size depends on the
	// version and channel count.
	off := 4 + 17
	switch {
	case h.mpeg1 && !h.mono:
		off = 4 + 32
	case !h.mpeg1 && h.mono:
		off = 4 + 9
	}
	if len(frame) < off+8 {
		return 0, false
	}
	if tag := string(frame[off : off+4]); tag != "Xing" && tag != "Info" {
		return 0, false
	}
	flags := binary.BigEndian.Uint32(frame[off+4:])
	lame := off + 8
	for bit, size := range []int{4, 4, 100, 4} { // frames, bytes, TOC, quality
		if flags&(1<<bit) != 0 {
			lame += size
		}
	}
	// LAME extension: 9-byte version string, then delay and padding as two
	// 12-bit numbers at offset 21.
	if len(frame) < lame+24 || string(frame[lame:lame+4]) != "LAME" {
		return 0, true
	}
	d := frame[lame+21:]
	delay := int(d[0])<<4 | int(d[1])>>4
	padding := int(d[1]&0x0F)<<8 | int(d[2])
	return delay + padding, true
}

// ProbeOggOpus reports the duration of an Ogg Opus file: the granule
// position of its last page minus the pre-skip of its OpusHead, in 48 kHz
// samples. The sample rate is always 48,000 because Opus decodes at that
// rate whatever the input was. Page checksums are not verified.
func ProbeOggOpus(b []byte) (durationMs, sampleRate int, err error) {
	var (
		serial  uint32
		preSkip int64
		granule int64 = -1
	)
	for pos, page := 0, 0; pos < len(b); page++ {
		if len(b)-pos < 27 || string(b[pos:pos+4]) != "OggS" {
			return 0, 0, fmt.Errorf("ogg: no page at byte %d", pos)
		}
		hdr := b[pos:]
		nsegs := int(hdr[26])
		if len(hdr) < 27+nsegs {
			return 0, 0, errors.New("ogg: truncated page header")
		}
		bodyLen := 0
		for _, l := range hdr[27 : 27+nsegs] {
			bodyLen += int(l)
		}
		start := 27 + nsegs
		if len(hdr) < start+bodyLen {
			return 0, 0, errors.New("ogg: truncated page")
		}
		body := hdr[start : start+bodyLen]
		pos += start + bodyLen

		s := binary.LittleEndian.Uint32(hdr[14:])
		if page == 0 {
			if len(body) < 19 || string(body[0:8]) != "OpusHead" {
				return 0, 0, errors.New("ogg: first packet is not an OpusHead")
			}
			serial, preSkip = s, int64(binary.LittleEndian.Uint16(body[10:]))
			continue
		}
		// -1 marks a page on which no packet ends.
		if g := int64(binary.LittleEndian.Uint64(hdr[6:])); s == serial && g != -1 {
			granule = g
		}
	}
	if granule < 0 {
		return 0, 0, errors.New("ogg: no audio pages")
	}
	return int(max(granule-preSkip, 0) * 1000 / 48000), 48000, nil
}
