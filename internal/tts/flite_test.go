package tts

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/koe-voice/koe/internal/tts/ttstest"
)

// requireProgram skips a real-engine test when the program is not
// installed, and fails it under CI=true, where scripts/deps.sh installs it.
func requireProgram(t *testing.T, name, install string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI: run `make deps` (Debian: apt-get install %s)", name, install)
		}
		t.Skipf("%s is not installed (Debian: apt-get install %s; `make deps`)", name, install)
	}
}

// helloKoe is a sentence a person reads in about two seconds.
const helloKoe = "Hello world, this is Koe."

func TestFliteVoices(t *testing.T) {
	t.Parallel()
	requireProgram(t, "flite", "flite")
	f := &Flite{}
	require.Equal(t, "flite", f.Engine())
	voices, err := f.Voices(t.Context())
	require.NoError(t, err)
	var ids []string
	for _, v := range voices {
		ids = append(ids, v.EngineVoiceID)
		_, err := language.Parse(v.Language)
		require.NoError(t, err, v.Language)
		require.Equal(t, QualityStandard, v.Quality)
		require.Equal(t, "English", v.LanguageName)
		require.NotEmpty(t, v.Gender)
	}
	require.Equal(t, []string{"slt", "rms", "awb", "kal16"}, ids)
	require.Equal(t, "FEMALE", voices[0].Gender)
	require.Equal(t, "en-GB", voices[2].Language)
	require.Contains(t, voices[2].Tags, "scotland")

	_, err = (&Flite{Binary: "/nonexistent/flite"}).Voices(t.Context())
	require.ErrorIs(t, err, ErrTransient)
}

// fliteWays are the two ways Flite speaks: a process per piece, and warm
// koe-flite helpers. Each test of speech runs on both.
func fliteWays(t *testing.T) map[string]*Flite {
	t.Helper()
	requireProgram(t, "flite", "flite")
	helper := &Flite{Helper: Helper{Program: ttstest.Require(t, "koe-flite"), Workers: 2}}
	t.Cleanup(func() { _ = helper.Helper.Close() })
	return map[string]*Flite{"process": {}, "helper": helper}
}

func TestFliteSynthesize(t *testing.T) {
	t.Parallel()
	for way, f := range fliteWays(t) {
		t.Run(way, func(t *testing.T) {
			t.Parallel()
			testFliteSynthesize(t, f)
		})
	}
}

func testFliteSynthesize(t *testing.T, f *Flite) {
	ctx := t.Context()
	for _, id := range []string{"slt", "rms", "awb", "kal16"} {
		pcm, err := Record(ctx, f, id, helloKoe, Params{})
		require.NoError(t, err, id)
		require.Equal(t, fliteRate, pcm.SampleRate, id)
		require.GreaterOrEqual(t, pcm.Duration(), time.Second, id)
		require.LessOrEqual(t, pcm.Duration(), 4*time.Second, id)

		fast, err := Record(ctx, f, id, helloKoe, Params{Speed: 2})
		require.NoError(t, err, id)
		require.Less(t, fast.Duration(), pcm.Duration()*3/4, "%s at speed 2", id)
	}

	normal, err := Record(ctx, f, "slt", helloKoe, Params{})
	require.NoError(t, err)
	higher, err := Record(ctx, f, "slt", helloKoe, Params{Pitch: 5})
	require.NoError(t, err)
	require.NotEqual(t, normal.Samples, higher.Samples, "pitch changes the voice")

	// Text that looks like an option is spoken: "-o /tmp/x" read as an
	// option would write a file and no audio.
	dashed, err := Record(ctx, f, "slt", "-o /tmp/koe-flite-option-test -voice awb", Params{})
	require.NoError(t, err)
	require.Greater(t, dashed.Duration(), time.Second)
	require.NoFileExists(t, "/tmp/koe-flite-option-test")

	// Line breaks are spaces; blank text is one empty piece.
	lines, err := Record(ctx, f, "slt", "Hello\nworld", Params{})
	require.NoError(t, err)
	require.Greater(t, lines.Duration(), 500*time.Millisecond)
	blank, err := Record(ctx, f, "slt", " \n ", Params{})
	require.NoError(t, err)
	require.Equal(t, PCM{SampleRate: fliteRate}, blank)
}

// TestFliteLongText: a text longer than one argument may be is spoken in
// pieces, in order, at one rate.
func TestFliteLongText(t *testing.T) {
	t.Parallel()
	for way, f := range fliteWays(t) {
		t.Run(way, func(t *testing.T) {
			t.Parallel()
			text := strings.Repeat("This is a sentence. ", 300) // 6,000 runes: two runs
			var pieces int
			err := f.Synthesize(t.Context(), "kal16", text, Params{Speed: 2}, pcmFunc(func(p PCM) error {
				require.Equal(t, fliteRate, p.SampleRate)
				pieces++
				return nil
			}))
			require.NoError(t, err)
			require.Greater(t, pieces, 1)
		})
	}
}

// TestFliteHelperSoundsLikeFlite: koe-flite says what flite says, to the
// sample in length at every speed and pitch, and the same samples for the
// diphone voice; the clustergen voices' noise comes from rand(), seeded
// alike for every text, so a text sounds the same however many came
// before it.
func TestFliteHelperSoundsLikeFlite(t *testing.T) {
	t.Parallel()
	ways := fliteWays(t)
	for _, id := range []string{"slt", "rms", "awb", "kal16"} {
		for _, p := range []Params{{}, {Speed: 1.5, Pitch: -3}} {
			want, err := Record(t.Context(), ways["process"], id, helloKoe, p)
			require.NoError(t, err)
			got, err := Record(t.Context(), ways["helper"], id, helloKoe, p)
			require.NoError(t, err)
			require.Equal(t, want.SampleRate, got.SampleRate)
			require.Len(t, got.Samples, len(want.Samples), "%s %+v", id, p)
			if id == "kal16" {
				require.Equal(t, want, got, "%+v", p)
			}
			again, err := Record(t.Context(), ways["helper"], id, helloKoe, p)
			require.NoError(t, err)
			require.Equal(t, got, again, "%s %+v", id, p)
		}
	}
}

func TestFliteFailures(t *testing.T) {
	t.Parallel()
	for way, f := range fliteWays(t) {
		t.Run(way, func(t *testing.T) {
			t.Parallel()
			testFliteFailures(t, f)
		})
	}
}

func testFliteFailures(t *testing.T, f *Flite) {
	ctx := t.Context()
	for _, id := range []string{"nope", "", "awb_time", "/usr/share/flite/slt.flitevox", "http://example.com/x.flitevox"} {
		_, err := Record(ctx, f, id, "Hello", Params{})
		require.ErrorIs(t, err, ErrUnknownVoice, id)
	}

	// The writer's error stops the run and is returned as it is.
	stop := errors.New("listener gone")
	err := f.Synthesize(ctx, "slt", helloKoe, Params{}, pcmFunc(func(PCM) error { return stop }))
	require.ErrorIs(t, err, stop)
	require.NotErrorIs(t, err, ErrTransient)

	// Cancelling stops the engine: of about ten minutes of speech, only
	// what was already in the pipe (seconds) comes out.
	canceled, cancel := context.WithCancel(ctx)
	var written PCM
	err = f.Synthesize(canceled, "slt", strings.Repeat("This is a sentence. ", 600), Params{}, pcmFunc(func(p PCM) error {
		written.SampleRate = p.SampleRate
		written.Samples = append(written.Samples, p.Samples...)
		cancel()
		return nil
	}))
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrTransient)
	require.Less(t, written.Duration(), 30*time.Second)
}
