package tts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A prober reads a file's duration and sample rate as its bytes are
// written to it, keeping no more than one frame or page: so the length of
// a file being stored is known when its last byte passes, without reading
// it again. Its Write never fails; result says whether the file made sense.
type prober interface {
	io.Writer
	result() (durationMs, sampleRate int, err error)
}

// probe runs a whole file through p.
func probe(p prober, b []byte) (durationMs, sampleRate int, err error) {
	_, _ = p.Write(b)
	return p.result()
}

// ProbeMP3 reports the duration and sample rate of an MPEG Layer III file
// by walking its frames. A leading Xing/Info frame carries no audio and is
// not counted; when it has a LAME extension, the encoder delay and padding
// it records are taken off, as gapless players do. Without one (lame writes
// none when its output is a pipe) the duration includes them, about 50–100
// ms.
func ProbeMP3(b []byte) (durationMs, sampleRate int, err error) {
	return probe(&mp3Prober{}, b)
}

// mp3Prober is ProbeMP3 fed in pieces. It stops at the first bytes that are
// not a frame (trailing ID3v1/APE tags); a truncated last frame is not
// counted.
type mp3Prober struct {
	buf        []byte // the start of a frame not yet whole
	tagChecked bool   // whether the file's first 10 bytes were looked at for an ID3v2 tag
	skip       int64  // bytes of the ID3v2 tag still to pass
	stopped    bool
	frames     int
	samples    int
	trim       int
	sampleRate int
}

func (m *mp3Prober) Write(b []byte) (int, error) {
	n := len(b)
	if m.stopped {
		return n, nil
	}
	if m.skip > 0 {
		k := min(m.skip, int64(len(b)))
		b, m.skip = b[k:], m.skip-k
	}
	m.buf = append(m.buf, b...)
	m.scan(false)
	return n, nil
}

// scan counts the whole frames in buf and keeps the rest; at the end
// of the file (last) the ID3v2 check runs on whatever there is.
func (m *mp3Prober) scan(last bool) {
	b := m.buf
	pos := 0
	if !m.tagChecked {
		if len(b) < 10 && !last {
			return
		}
		m.tagChecked = true
		if len(b) >= 10 && string(b[0:3]) == "ID3" {
			// The ID3v2 size is syncsafe: 7 bits per byte.
			size := int(b[6]&0x7F)<<21 | int(b[7]&0x7F)<<14 | int(b[8]&0x7F)<<7 | int(b[9]&0x7F)
			pos = 10 + size
			if b[5]&0x10 != 0 { // footer
				pos += 10
			}
			if pos > len(b) {
				m.skip, m.buf = int64(pos-len(b)), m.buf[:0]
				return
			}
		}
	}
	for pos+4 <= len(b) {
		h, ok := parseMP3Header(b[pos:])
		if !ok {
			m.stopped, m.buf = true, nil
			return
		}
		if pos+h.length > len(b) {
			break
		}
		frame := b[pos : pos+h.length]
		pos += h.length
		m.frames++
		if m.frames == 1 {
			m.sampleRate = h.sampleRate
			if trim, ok := xingTrim(frame, h); ok {
				m.trim = trim
				continue
			}
		}
		m.samples += h.samples
	}
	m.buf = m.buf[:copy(m.buf, b[pos:])]
}

func (m *mp3Prober) result() (durationMs, sampleRate int, err error) {
	if !m.tagChecked {
		m.scan(true)
	}
	if m.samples == 0 {
		return 0, 0, errors.New("mp3: no MPEG Layer III frames")
	}
	samples := max(m.samples-m.trim, 0)
	return int(int64(samples) * 1000 / int64(m.sampleRate)), m.sampleRate, nil
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
	return probe(&oggProber{granule: -1}, b)
}

// oggProber is ProbeOggOpus fed in pieces; it holds at most one page
// (64 KiB).
type oggProber struct {
	buf     []byte // the start of a page not yet whole
	pos     int64  // offset of buf in the file
	page    int
	serial  uint32
	preSkip int64
	granule int64
	err     error
}

func (o *oggProber) Write(b []byte) (int, error) {
	n := len(b)
	if o.err != nil {
		return n, nil
	}
	o.buf = append(o.buf, b...)
	used := 0
	for o.err == nil {
		k := o.nextPage(o.buf[used:])
		if k == 0 {
			break
		}
		used += k
		o.pos += int64(k)
	}
	o.buf = o.buf[:copy(o.buf, o.buf[used:])]
	return n, nil
}

// nextPage reads the page at the start of b and returns its length, or 0
// when it is not whole yet (or not a page: err says so).
func (o *oggProber) nextPage(hdr []byte) int {
	if len(hdr) >= 4 && string(hdr[0:4]) != "OggS" {
		o.err = fmt.Errorf("ogg: no page at byte %d", o.pos)
		return 0
	}
	if len(hdr) < 27 {
		return 0
	}
	nsegs := int(hdr[26])
	if len(hdr) < 27+nsegs {
		return 0
	}
	bodyLen := 0
	for _, l := range hdr[27 : 27+nsegs] {
		bodyLen += int(l)
	}
	start := 27 + nsegs
	if len(hdr) < start+bodyLen {
		return 0
	}
	body := hdr[start : start+bodyLen]
	s := binary.LittleEndian.Uint32(hdr[14:])
	if o.page++; o.page == 1 {
		if len(body) < 19 || string(body[0:8]) != "OpusHead" {
			o.err = errors.New("ogg: first packet is not an OpusHead")
			return 0
		}
		o.serial, o.preSkip = s, int64(binary.LittleEndian.Uint16(body[10:]))
		return start + bodyLen
	}
	// -1 marks a page on which no packet ends.
	if g := int64(binary.LittleEndian.Uint64(hdr[6:])); s == o.serial && g != -1 {
		o.granule = g
	}
	return start + bodyLen
}

func (o *oggProber) result() (durationMs, sampleRate int, err error) {
	switch b := o.buf; {
	case o.err != nil:
		return 0, 0, o.err
	case len(b) > 0 && len(b) < 27:
		return 0, 0, fmt.Errorf("ogg: no page at byte %d", o.pos)
	case len(b) > 0 && len(b) < 27+int(b[26]):
		return 0, 0, errors.New("ogg: truncated page header")
	case len(b) > 0:
		return 0, 0, errors.New("ogg: truncated page")
	case o.granule < 0:
		return 0, 0, errors.New("ogg: no audio pages")
	}
	return int(max(o.granule-o.preSkip, 0) * 1000 / 48000), 48000, nil
}
