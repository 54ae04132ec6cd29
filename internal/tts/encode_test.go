package tts

import (
	"bytes"
	"context"
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
	at24k := resample(pcm, 24000) // OpenAI's rate
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
