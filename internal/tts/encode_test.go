package tts

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEncode(t *testing.T) {
	t.Parallel()
	pcm := speech(t, 2)
	at24k := PCM{SampleRate: 24000, Samples: resample(pcm.Samples, pcm.SampleRate, 24000)} // OpenAI's rate
	mp3Magic := func(t *testing.T, b []byte) {
		require.True(t, string(b[0:3]) == "ID3" || b[0] == 0xFF && b[1]&0xE0 == 0xE0, "ID3 tag or frame sync")
	}

	tests := []struct {
		name        string
		pcm         PCM
		format      Format
		contentType string
		ext         string
		sampleRate  int
		magic       func(t *testing.T, b []byte)
	}{
		{
			name: "wav", pcm: pcm, format: FormatWAV, contentType: "audio/wav", ext: "wav", sampleRate: 22050,
			magic: func(t *testing.T, b []byte) {
				require.Equal(t, "RIFF", string(b[0:4]))
				require.Equal(t, "WAVE", string(b[8:12]))
			},
		},
		{
			name: "mp3", pcm: pcm, format: FormatMP3, contentType: "audio/mpeg", ext: "mp3", sampleRate: 22050,
			magic: mp3Magic,
		},
		{
			name: "mp3 at 24 kHz", pcm: at24k, format: FormatMP3, contentType: "audio/mpeg", ext: "mp3", sampleRate: 24000,
			magic: mp3Magic,
		},
		{
			name: "ogg opus", pcm: pcm, format: FormatOggOpus, contentType: "audio/ogg; codecs=opus", ext: "ogg", sampleRate: 48000,
			magic: func(t *testing.T, b []byte) {
				require.Equal(t, "OggS", string(b[0:4]))
				require.Equal(t, "OpusHead", string(b[28:36]))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc, err := Encoder{}.Encode(t.Context(), tt.pcm, tt.format)
			require.NoError(t, err)
			tt.magic(t, enc.Data)
			require.Equal(t, tt.contentType, enc.ContentType)
			require.Equal(t, tt.ext, enc.Ext)
			require.Equal(t, tt.sampleRate, enc.SampleRate)
			require.InDelta(t, 2000, enc.DurationMs, 100, "within 5%% of the PCM")
		})
	}
}

func TestEncoderAvailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		encoder Encoder
		format  Format
		wantErr string
	}{
		{name: "wav needs nothing", encoder: Encoder{LameBinary: "koe-no-such-lame"}, format: FormatWAV},
		{name: "mp3", format: FormatMP3},
		{name: "ogg opus", format: FormatOggOpus},
		{
			name: "mp3 without lame", encoder: Encoder{LameBinary: "koe-no-such-lame"}, format: FormatMP3,
			wantErr: `MP3 needs the "koe-no-such-lame" program, which is not installed on this server`,
		},
		{
			name: "opus without opusenc", encoder: Encoder{OpusencBinary: "koe-no-such-opusenc"}, format: FormatOggOpus,
			wantErr: `OGG_OPUS needs the "koe-no-such-opusenc" program`,
		},
		{name: "unknown", format: "FLAC", wantErr: `unknown audio format "FLAC"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.encoder.Available(tt.format)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorIs(t, err, ErrFormatUnavailable)
			_, err = tt.encoder.Encode(t.Context(), PCM{SampleRate: 8000}, tt.format)
			require.ErrorIs(t, err, ErrFormatUnavailable)
		})
	}
}

func TestEncodeCancelKillsEncoder(t *testing.T) {
	t.Parallel()
	// An "encoder" that never finishes: only a kill stops it.
	slow := filepath.Join(t.TempDir(), "slow-lame")
	require.NoError(t, os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755))

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Encoder{LameBinary: slow}.Encode(ctx, PCM{SampleRate: 22050, Samples: make([]int16, 22050)}, FormatMP3)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 10*time.Second)
}

// TestProbeMP3InfoFrame reads a file lame wrote to disk: unlike its piped
// output it starts with a Xing "Info" frame, whose LAME extension records
// the encoder delay and padding, so the duration comes out sample exact.
func TestProbeMP3InfoFrame(t *testing.T) {
	t.Parallel()
	pcm := speech(t, 2)
	dir := t.TempDir()
	wav, mp3 := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.mp3")
	require.NoError(t, os.WriteFile(wav, EncodeWAV(pcm), 0o644))
	require.NoError(t, exec.CommandContext(t.Context(), "lame", "--quiet", "-b", "64", wav, mp3).Run())
	b, err := os.ReadFile(mp3)
	require.NoError(t, err)
	require.True(t, bytes.Contains(b[:200], []byte("Info")), "lame wrote an Info frame")

	ms, rate, err := ProbeMP3(b)
	require.NoError(t, err)
	require.Equal(t, 22050, rate)
	require.Equal(t, 2000, ms)
}

func TestProbeErrors(t *testing.T) {
	t.Parallel()
	wav := EncodeWAV(PCM{SampleRate: 8000, Samples: make([]int16, 8000)})
	tests := []struct {
		name    string
		probe   func([]byte) (int, int, error)
		data    []byte
		wantErr string
	}{
		{name: "mp3 from wav", probe: ProbeMP3, data: wav, wantErr: "no MPEG Layer III frames"},
		{name: "mp3 from nothing", probe: ProbeMP3, wantErr: "no MPEG Layer III frames"},
		{name: "mp3 from an empty ID3 tag", probe: ProbeMP3, data: []byte("ID3\x04\x00\x00\x00\x00\x00\x00"), wantErr: "no MPEG Layer III frames"},
		{name: "ogg from wav", probe: ProbeOggOpus, data: wav, wantErr: "no page at byte 0"},
		{name: "ogg truncated", probe: ProbeOggOpus, data: []byte("OggS\x00\x02"), wantErr: "no page at byte 0"},
		{name: "ogg from nothing", probe: ProbeOggOpus, wantErr: "no audio pages"},
		{name: "wav from ogg", probe: ProbeWAV, data: []byte("OggS"), wantErr: "not a RIFF/WAVE file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := tt.probe(tt.data)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestStreamInPieces feeds each encoder 3 s of speech in pieces of odd
// sizes, as Speak does: the file's duration, read as its bytes passed,
// matches the samples fed and what probing the whole file says.
func TestStreamInPieces(t *testing.T) {
	t.Parallel()
	pcm := speech(t, 3)
	fed := time.Duration(len(pcm.Samples)) * time.Second / time.Duration(pcm.SampleRate)
	tests := []struct {
		format   Format
		probe    func([]byte) (int, int, error)
		min, max time.Duration // what the format adds to the samples fed
	}{
		{FormatWAV, ProbeWAV, 0, 0},
		// lame writes no Info frame to a pipe: its delay and padding count.
		{FormatMP3, ProbeMP3, 0, 150 * time.Millisecond},
		{FormatOggOpus, ProbeOggOpus, -20 * time.Millisecond, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			t.Parallel()
			var file bytes.Buffer
			enc, err := Encoder{}.Stream(t.Context(), tt.format, &file)
			require.NoError(t, err)
			for start, size := 0, 1; start < len(pcm.Samples); start, size = start+size, size*3+1 {
				require.NoError(t, enc.WritePCM(PCM{SampleRate: pcm.SampleRate, Samples: pcm.Samples[start:min(start+size, len(pcm.Samples))]}))
			}
			got, err := enc.Close()
			require.NoError(t, err)
			require.Equal(t, int64(file.Len()), got.Bytes)
			ms, rate, err := tt.probe(file.Bytes())
			require.NoError(t, err)
			require.Equal(t, ms, got.DurationMs, "the duration read on the way is the file's")
			require.Equal(t, rate, got.SampleRate)
			d := time.Duration(got.DurationMs) * time.Millisecond
			require.GreaterOrEqual(t, d, fed.Truncate(time.Millisecond)+tt.min)
			require.LessOrEqual(t, d, fed+tt.max)
		})
	}
}

// TestProbeInPieces: the probes give the same answer fed a byte at a time
// as fed the whole file.
func TestProbeInPieces(t *testing.T) {
	t.Parallel()
	pcm := speech(t, 1)
	for _, f := range []Format{FormatWAV, FormatMP3, FormatOggOpus} {
		enc, err := Encoder{}.Encode(t.Context(), pcm, f)
		require.NoError(t, err)
		newProber := map[Format]func() prober{
			FormatWAV: func() prober { return &wavParser{} }, FormatMP3: func() prober { return &mp3Prober{} },
			FormatOggOpus: func() prober { return &oggProber{granule: -1} },
		}[f]
		wantMs, wantRate, err := probe(newProber(), enc.Data)
		require.NoError(t, err)
		p := newProber()
		for i := range enc.Data {
			_, _ = p.Write(enc.Data[i : i+1])
		}
		ms, rate, err := p.result()
		require.NoError(t, err)
		require.Equal(t, [2]int{wantMs, wantRate}, [2]int{ms, rate}, "%s", f)
	}
}

// TestWAVLimit: a WAV file cannot grow past what its uint32 sizes hold;
// the write that would cross it fails with ErrOutputTooLong.
func TestWAVLimit(t *testing.T) {
	t.Parallel()
	enc, err := Encoder{}.Stream(t.Context(), FormatWAV, io.Discard)
	require.NoError(t, err)
	enc.maxWAV = 1000 // bytes of samples, for the test: the real limit is 4 GiB
	require.NoError(t, enc.WritePCM(PCM{SampleRate: 8000, Samples: make([]int16, 500)}))
	err = enc.WritePCM(PCM{SampleRate: 8000, Samples: make([]int16, 1)})
	require.ErrorIs(t, err, ErrOutputTooLong)
	require.ErrorContains(t, err, "a WAV file holds at most")
	_, err = enc.Close()
	require.ErrorIs(t, err, ErrOutputTooLong)
	require.Equal(t, int64(4294967258), int64(maxWAVData), "4 GiB less the header, whole samples")
}

// TestStreamAbortKillsEncoder: Abort stops an encoder that is still
// reading, at once.
func TestStreamAbortKillsEncoder(t *testing.T) {
	t.Parallel()
	slow := filepath.Join(t.TempDir(), "slow-opusenc")
	require.NoError(t, os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755))
	enc, err := Encoder{OpusencBinary: slow}.Stream(t.Context(), FormatOggOpus, io.Discard)
	require.NoError(t, err)
	require.NoError(t, enc.WritePCM(PCM{SampleRate: 22050, Samples: make([]int16, 100)}))
	enc.Abort() // returns only once the program has exited
	_, err = enc.Close()
	require.Error(t, err)
}

// TestStreamOutputFailureStopsEncoder: when the file cannot be written
// (the bucket fails), the encoder is killed and its writer's error comes
// back as it is.
func TestStreamOutputFailureStopsEncoder(t *testing.T) {
	t.Parallel()
	broken := errors.New("bucket unreachable")
	enc, err := Encoder{}.Stream(t.Context(), FormatMP3, failingWriter{broken})
	require.NoError(t, err)
	pcm := speech(t, 2)
	for err == nil {
		err = enc.WritePCM(pcm)
	}
	require.ErrorIs(t, err, broken)
	_, err = enc.Close()
	require.ErrorIs(t, err, broken)
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }
