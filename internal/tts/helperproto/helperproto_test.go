package helperproto

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFrames: what a helper writes, Koe reads back, kind and payload; a
// payload past MaxFrame goes as several frames; a frame that says it is
// longer than MaxFrame is refused before anything is read into memory.
func TestFrames(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	big := bytes.Repeat([]byte{7}, MaxFrame+3)
	w.Frame(Rate, binary.LittleEndian.AppendUint32(nil, 22050))
	w.Frame(Audio, []byte{1, 2, 3, 4})
	w.Frame(Audio, big)
	w.Frame(End, nil)
	w.Frame(Failed, []byte("voice \"x\": no such voice"))
	require.NoError(t, w.Err)

	r := NewReader(&b)
	next := func(wantKind byte) []byte {
		kind, payload, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, string(wantKind), string(kind))
		return bytes.Clone(payload)
	}
	require.Equal(t, uint32(22050), binary.LittleEndian.Uint32(next(Rate)))
	require.Equal(t, []byte{1, 2, 3, 4}, next(Audio))
	require.Len(t, next(Audio), MaxFrame)
	require.Len(t, next(Audio), 3)
	require.Empty(t, next(End))
	require.Equal(t, `voice "x": no such voice`, string(next(Failed)))
	_, _, err := r.Next()
	require.ErrorIs(t, err, io.EOF)

	huge := append([]byte{Audio}, binary.LittleEndian.AppendUint32(nil, MaxFrame+1)...)
	_, _, err = NewReader(bytes.NewReader(huge)).Next()
	require.ErrorContains(t, err, "frame of")
	_, _, err = NewReader(strings.NewReader("A\x05\x00\x00\x00ab")).Next()
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a frame cut short")
}

// TestServe: each request line gets its audio and an End, or Failed with
// the error; Serve returns when its input ends, a last line without a
// newline answered too.
func TestServe(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	Serve(strings.NewReader("hello\nfail\nlast"), w, func(line []byte) error {
		if string(bytes.TrimSpace(line)) == "fail" {
			return io.ErrNoProgress
		}
		w.Frame(Audio, bytes.TrimSpace(line))
		return nil
	})
	r := NewReader(&b)
	var got []string
	for {
		kind, payload, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, string(kind)+":"+string(payload))
	}
	require.Equal(t, []string{"A:hello", "E:", "X:" + io.ErrNoProgress.Error(), "A:last", "E:"}, got)
}
