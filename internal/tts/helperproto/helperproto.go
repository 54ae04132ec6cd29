// Package helperproto is how Koe talks to its engine helpers: programs of
// its own that link an engine's C library and speak text after text in one
// process (cmd/koe-espeak, cmd/koe-flite), where the engine's program would
// start, load its voice and exit for every piece of text.
//
// On stdin and stdout. At start a helper writes a frame Rate whose payload
// is its sample rate (uint32). Then it reads requests, one JSON object a
// line (what it holds is the helper's own), and answers each with frames
// Audio of samples (mono, 16-bit little-endian) as the engine makes them,
// then one frame End (empty) when the text is spoken, or Failed with a
// message when it could not be. A frame is its kind (one byte), its
// payload's length (uint32 little-endian) and the payload. A helper exits
// when its stdin closes, and when its stdout does.
package helperproto

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"log"
)

// The kinds of frame.
const (
	Rate   byte = 'R'
	Audio  byte = 'A'
	End    byte = 'E'
	Failed byte = 'X'
)

// MaxFrame is the longest payload a frame may have.
const MaxFrame = 1 << 20

// Writer writes a helper's frames, each sent at once; the first error is
// kept, and writes after it do nothing.
type Writer struct {
	w   *bufio.Writer
	Err error
}

// NewWriter writes frames to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriterSize(w, 64<<10)} }

// Frame writes one frame. A longer payload than MaxFrame goes as several
// frames of its kind.
func (w *Writer) Frame(kind byte, payload []byte) {
	for w.Err == nil {
		n := min(len(payload), MaxFrame)
		var head [5]byte
		head[0] = kind
		binary.LittleEndian.PutUint32(head[1:], uint32(n))
		if _, w.Err = w.w.Write(head[:]); w.Err == nil {
			if _, w.Err = w.w.Write(payload[:n]); w.Err == nil {
				w.Err = w.w.Flush()
			}
		}
		if payload = payload[n:]; len(payload) == 0 {
			return
		}
	}
}

// Serve is a helper's life once it has written its Rate: for each line of
// in, speak writes the Audio frames, and Serve the End, or Failed with
// speak's error. It returns when in ends, and exits the program when out
// fails: Koe is gone.
func Serve(in io.Reader, out *Writer, speak func(request []byte) error) {
	r := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if err := speak(line); err != nil {
				out.Frame(Failed, []byte(err.Error()))
			} else {
				out.Frame(End, nil)
			}
			if out.Err != nil {
				log.Fatal(out.Err)
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			log.Fatal(err)
		}
	}
}

// Reader reads frames, its buffer reused from one to the next.
type Reader struct {
	r   io.Reader
	buf []byte
}

// NewReader reads frames from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Next reads a frame; its payload is good until the next call.
func (r *Reader) Next() (kind byte, payload []byte, err error) {
	var head [5]byte
	if _, err := io.ReadFull(r.r, head[:]); err != nil {
		return 0, nil, err
	}
	n := binary.LittleEndian.Uint32(head[1:])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	payload = r.buf[:n]
	if _, err := io.ReadFull(r.r, payload); err != nil {
		return 0, nil, err
	}
	return head[0], payload, nil
}
