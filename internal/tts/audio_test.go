package tts

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wavHeader builds a WAV header by hand, so tests can write the malformed
// and streaming headers EncodeWAV never produces.
func wavHeader(riffSize, dataSize uint32, format, channels uint16, rate uint32, bits uint16, extra ...byte) []byte {
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, riffSize)
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, format)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, channels*bits/8)
	b = binary.LittleEndian.AppendUint16(b, bits)
	b = append(b, extra...)
	b = append(b, "data"...)
	return binary.LittleEndian.AppendUint32(b, dataSize)
}

func TestWAVRoundTrip(t *testing.T) {
	t.Parallel()
	p := PCM{SampleRate: 22050, Samples: []int16{0, 1, -1, 32767, -32768, 1234}}
	b := EncodeWAV(p)
	require.Len(t, b, 44+2*len(p.Samples))
	require.Equal(t, "RIFF", string(b[0:4]))
	require.Equal(t, "WAVE", string(b[8:12]))

	got, err := DecodeWAV(b)
	require.NoError(t, err)
	require.Equal(t, p, got)

	p = PCM{SampleRate: 24000, Samples: make([]int16, 36000)}
	ms, rate, err := ProbeWAV(EncodeWAV(p))
	require.NoError(t, err)
	require.Equal(t, 1500, ms)
	require.Equal(t, 24000, rate)
}

func TestDecodeWAV(t *testing.T) {
	t.Parallel()
	samples := []byte{1, 0, 2, 0, 0xFF, 0xFF}
	list := append([]byte("LIST"), 3, 0, 0, 0, 'a', 'b', 'c', 0) // odd size, padded
	tests := []struct {
		name    string
		file    []byte
		want    PCM
		wantErr string
	}{
		{
			name: "espeak-ng stdout placeholder sizes",
			file: append(wavHeader(0x7FFFF024, 0x7FFFF000, 1, 1, 22050, 16), samples...),
			want: PCM{SampleRate: 22050, Samples: []int16{1, 2, -1}},
		},
		{
			name: "streaming 0xFFFFFFFF sizes",
			file: append(wavHeader(0xFFFFFFFF, 0xFFFFFFFF, 1, 1, 24000, 16), samples...),
			want: PCM{SampleRate: 24000, Samples: []int16{1, 2, -1}},
		},
		{
			name: "zero data size and a stray odd byte",
			file: append(wavHeader(0, 0xFFFFFFFF, 1, 1, 24000, 16), append(samples, 7)...),
			want: PCM{SampleRate: 24000, Samples: []int16{1, 2, -1}},
		},
		{
			name: "chunk before data",
			file: append(wavHeader(0, 6, 1, 1, 16000, 16, list...), samples...),
			want: PCM{SampleRate: 16000, Samples: []int16{1, 2, -1}},
		},
		{
			name: "stereo mixed down",
			file: append(wavHeader(0, 8, 1, 2, 8000, 16), 10, 0, 20, 0, 0xF6, 0xFF, 0xEC, 0xFF),
			want: PCM{SampleRate: 8000, Samples: []int16{15, -15}},
		},
		{
			name:    "not a WAV",
			file:    []byte("ID3\x04 definitely not RIFF"),
			wantErr: "not a RIFF/WAVE file",
		},
		{
			name:    "8-bit",
			file:    wavHeader(0, 0, 1, 1, 8000, 8),
			wantErr: "want 16-bit integer PCM",
		},
		{
			name:    "float",
			file:    wavHeader(0, 0, 3, 1, 8000, 16),
			wantErr: "want 16-bit integer PCM",
		},
		{
			name:    "no data chunk",
			file:    wavHeader(0, 0, 1, 1, 8000, 16)[:36],
			wantErr: "no data chunk",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeWAV(tt.file)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// join writes parts through a Sequence, each in pieces of at most piece
// samples and the last part first, and returns what comes out in order.
func join(t *testing.T, parts []PCM, piece int) (PCM, error) {
	t.Helper()
	var out pcmBuffer
	seq := NewSequence(len(parts), &out, 0, 0)
	defer seq.Close()
	ran := make(chan error, 1)
	go func() { ran <- seq.Run() }()
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		for start := 0; start == 0 || start < len(p.Samples); start += piece {
			end := min(start+piece, len(p.Samples))
			if err := seq.Part(i).WritePCM(PCM{SampleRate: p.SampleRate, Samples: p.Samples[start:end]}); err != nil {
				seq.Abort(err)
				<-ran
				return PCM{}, err
			}
		}
		seq.Done(i)
	}
	return out.PCM, <-ran
}

// TestSequenceJoins: the parts of a text come out as one stream at the
// first part's rate, the others resampled, whatever pieces they came in.
func TestSequenceJoins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		parts   []PCM
		want    PCM
		wantErr string
	}{
		{
			name:  "same rate joins without gaps",
			parts: []PCM{{SampleRate: 8000, Samples: []int16{1, 2}}, {SampleRate: 8000, Samples: []int16{3}}},
			want:  PCM{SampleRate: 8000, Samples: []int16{1, 2, 3}},
		},
		{
			name:  "later parts resampled to the first's rate",
			parts: []PCM{{SampleRate: 8000, Samples: []int16{5}}, {SampleRate: 16000, Samples: []int16{0, 10, 20, 30}}},
			want:  PCM{SampleRate: 8000, Samples: []int16{5, 0, 20}},
		},
		{
			name:  "upsampling interpolates",
			parts: []PCM{{SampleRate: 16000}, {SampleRate: 8000, Samples: []int16{0, 10}}},
			want:  PCM{SampleRate: 16000, Samples: []int16{0, 5, 10, 10}},
		},
		{
			name: "nothing to join",
		},
		{
			name:    "part without a rate",
			parts:   []PCM{{SampleRate: 8000}, {Samples: []int16{1}}},
			wantErr: "sample rate 0",
		},
	}
	for _, tt := range tests {
		for _, piece := range []int{1, 2, 1000} {
			t.Run(fmt.Sprintf("%s/piece=%d", tt.name, piece), func(t *testing.T) {
				t.Parallel()
				got, err := join(t, tt.parts, piece)
				if tt.wantErr != "" {
					require.ErrorContains(t, err, tt.wantErr)
					return
				}
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
			})
		}
	}
}

// TestResampleInPiecesMatchesWhole: 22,050 Hz speech converted to OpenAI's
// 24 kHz and back, fed in odd pieces, is sample for sample what converting
// it whole gives.
func TestResampleInPiecesMatchesWhole(t *testing.T) {
	t.Parallel()
	src := make([]int16, 10007)
	for i := range src {
		src[i] = int16(i*37%2001 - 1000)
	}
	for _, rates := range [][2]int{{22050, 24000}, {24000, 22050}, {16000, 48000}} {
		whole := resample(src, rates[0], rates[1])
		require.Len(t, whole, len(src)*rates[1]/rates[0])
		for _, piece := range []int{1, 7, 4096} {
			r := &resampler{from: rates[0], to: rates[1]}
			var got []int16
			for start := 0; start < len(src); start += piece {
				got = append(got, r.convert(src[start:min(start+piece, len(src))])...)
			}
			got = append(got, r.flush()...)
			require.Equal(t, whole, got, "%v in pieces of %d", rates, piece)
		}
	}
}

// resample is the whole-buffer linear interpolation the resampler must
// match: n·to/from samples, each between its two neighbours.
func resample(p []int16, from, to int) []int16 {
	out := make([]int16, int(int64(len(p))*int64(to)/int64(from)))
	last := len(p) - 1
	for i := range out {
		pos := float64(i) * float64(from) / float64(to)
		j := int(pos)
		if j >= last {
			out[i] = p[last]
			continue
		}
		frac := pos - float64(j)
		out[i] = int16((1-frac)*float64(p[j]) + frac*float64(p[j+1]))
	}
	return out
}

func TestSequenceKeepsDuration(t *testing.T) {
	t.Parallel()
	// One second of OpenAI audio after one of espeak-ng audio is two seconds.
	got, err := join(t, []PCM{
		{SampleRate: 22050, Samples: make([]int16, 22050)},
		{SampleRate: 24000, Samples: make([]int16, 24000)},
	}, 4096)
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, got.Duration())
}
