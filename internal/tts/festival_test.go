package tts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
)

// setupFestival returns a Festival of one process, stopped when the test
// ends, writing its files in a $TMPDIR of the test's own.
func setupFestival(t *testing.T) (*Festival, string) {
	t.Helper()
	requireProgram(t, "festival", "festival festvox-us-slt-hts festvox-kallpc16k")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	f := &Festival{Workers: 1}
	t.Cleanup(func() { _ = f.Close() })
	return f, tmp
}

// only returns the one idle process of a Festival of one worker.
func only(t *testing.T, f *Festival) *festivalProcess {
	t.Helper()
	return onlyIdle(t, f.warm())
}

func TestFestivalVoices(t *testing.T) {
	f, _ := setupFestival(t)
	require.Equal(t, "festival", f.Engine())
	voices, err := f.Voices(t.Context())
	require.NoError(t, err)
	require.Len(t, voices, 2, "Debian: apt-get install festvox-us-slt-hts festvox-kallpc16k")
	require.Equal(t, "cmu_us_slt_arctic_hts", voices[0].EngineVoiceID)
	require.Equal(t, "FEMALE", voices[0].Gender)
	require.Equal(t, QualityNatural, voices[0].Quality)
	require.Equal(t, "kal_diphone", voices[1].EngineVoiceID)
	require.Equal(t, "MALE", voices[1].Gender)
	require.Equal(t, QualityStandard, voices[1].Quality)
	for _, v := range voices {
		tag, err := language.Parse(v.Language)
		require.NoError(t, err)
		require.Equal(t, "en-US", tag.String())
	}

	_, err = (&Festival{VoiceDir: t.TempDir()}).Voices(t.Context())
	require.ErrorContains(t, err, "none of our voices")

	// A missing program fails when it is needed, worth a retry.
	_, err = Record(t.Context(), &Festival{Binary: "/nonexistent/festival"}, "kal_diphone", helloKoe, Params{})
	require.ErrorIs(t, err, ErrTransient)
}

// TestFestivalSynthesize speaks with both voices on one warm process, and
// logs how long a piece takes warm against the cold start.
func TestFestivalSynthesize(t *testing.T) {
	f, tmp := setupFestival(t)
	ctx := t.Context()
	start := time.Now()
	_, err := Record(ctx, f, "kal_diphone", "Warm up.", Params{})
	require.NoError(t, err)
	t.Logf("cold start and one short piece: %v", time.Since(start))
	proc := only(t, f)
	for _, v := range festivalVoices {
		start := time.Now()
		pcm, err := Record(ctx, f, v.EngineVoiceID, helloKoe, Params{})
		require.NoError(t, err, v.EngineVoiceID)
		t.Logf("%s warm: %v for %v of audio", v.EngineVoiceID, time.Since(start), pcm.Duration())
		require.Equal(t, v.rate, pcm.SampleRate)
		require.GreaterOrEqual(t, pcm.Duration(), time.Second, v.EngineVoiceID)
		require.LessOrEqual(t, pcm.Duration(), 4*time.Second, v.EngineVoiceID)

		fast, err := Record(ctx, f, v.EngineVoiceID, helloKoe, Params{Speed: 2})
		require.NoError(t, err, v.EngineVoiceID)
		require.Less(t, fast.Duration(), pcm.Duration()*3/4, "%s at speed 2", v.EngineVoiceID)

		// Settings last one piece: normal speed is normal again.
		again, err := Record(ctx, f, v.EngineVoiceID, helloKoe, Params{})
		require.NoError(t, err, v.EngineVoiceID)
		require.Equal(t, pcm.Duration(), again.Duration(), v.EngineVoiceID)
	}
	require.Same(t, proc, only(t, f), "one process spoke everything")

	normal, err := Record(ctx, f, "kal_diphone", helloKoe, Params{})
	require.NoError(t, err)
	higher, err := Record(ctx, f, "kal_diphone", helloKoe, Params{Pitch: 5})
	require.NoError(t, err)
	require.NotEqual(t, normal.Samples, higher.Samples, "pitch changes the voice")

	blank, err := Record(ctx, f, "kal_diphone", " (\n) ", Params{})
	require.NoError(t, err)
	require.Equal(t, PCM{SampleRate: 16000}, blank)
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "the output files are removed")
}

// TestFestivalTextIsOnlySpoken: quotes, parentheses and backslashes are
// read out; none of them ends the string and runs Scheme.
func TestFestivalTextIsOnlySpoken(t *testing.T) {
	f, _ := setupFestival(t)
	pwned := filepath.Join(t.TempDir(), "pwn")
	for _, text := range []string{
		`Hello ")(system "touch ` + pwned + `")(print "`,
		`Hello \")(system \"touch ` + pwned + `\")(print \"`,
		`She said "hi" (twice) \ and left \\" \`,
		"Hello\n(system \"touch " + pwned + "\")\n",
	} {
		pcm, err := Record(t.Context(), f, "kal_diphone", text, Params{})
		require.NoError(t, err, text)
		require.Greater(t, pcm.Duration(), time.Second, text)
		require.NoFileExists(t, pwned, text)
	}
	pcm, err := Record(t.Context(), f, "kal_diphone", helloKoe, Params{})
	require.NoError(t, err)
	require.Greater(t, pcm.Duration(), time.Second, "the process still answers")
}

// TestFestivalCrashedProcess: a process that died is replaced on the next
// piece, which is spoken.
func TestFestivalCrashedProcess(t *testing.T) {
	f, _ := setupFestival(t)
	_, err := Record(t.Context(), f, "kal_diphone", "Hello.", Params{})
	require.NoError(t, err)
	dead := only(t, f)
	require.NoError(t, dead.cmd.Process.Kill())
	<-dead.exited

	pcm, err := Record(t.Context(), f, "kal_diphone", helloKoe, Params{})
	require.NoError(t, err)
	require.Greater(t, pcm.Duration(), time.Second)
	require.NotSame(t, dead, only(t, f))
}

// TestFestivalCancel: cancelling kills the process speaking; the next
// piece is spoken by a new one.
func TestFestivalCancel(t *testing.T) {
	f, tmp := setupFestival(t)
	_, err := Record(t.Context(), f, "kal_diphone", "Hello.", Params{})
	require.NoError(t, err)
	proc := only(t, f)

	// Cancel once the process has its piece: it left the pool, and the
	// piece's output file exists.
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		defer cancel()
		for {
			f.pool.mu.Lock()
			taken := len(f.pool.idle) == 0
			f.pool.mu.Unlock()
			if files, _ := os.ReadDir(tmp); taken && len(files) > 0 {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err = Record(ctx, f, "cmu_us_slt_arctic_hts", strings.Repeat("This sentence takes a while to say. ", 25), Params{})
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrTransient)
	<-proc.exited // killed, not left to finish

	pcm, err := Record(t.Context(), f, "kal_diphone", helloKoe, Params{})
	require.NoError(t, err)
	require.Greater(t, pcm.Duration(), time.Second)
}

func TestFestivalFailures(t *testing.T) {
	f, _ := setupFestival(t)
	ctx := t.Context()
	for _, id := range []string{"nope", "", "kal_diphone)(system \"true\")", "us-slt-hts"} {
		_, err := Record(ctx, f, id, "Hello", Params{})
		require.ErrorIs(t, err, ErrUnknownVoice, id)
	}

	// The writer's error is returned as it is; the process stays.
	stop := errors.New("listener gone")
	err := f.Synthesize(ctx, "kal_diphone", helloKoe, Params{}, pcmFunc(func(PCM) error { return stop }))
	require.ErrorIs(t, err, stop)
	require.NotErrorIs(t, err, ErrTransient)
	only(t, f)

	// After Close, nothing is spoken and no process is left.
	require.NoError(t, f.Close())
	_, err = Record(ctx, f, "kal_diphone", helloKoe, Params{})
	require.Error(t, err)
	f.pool.mu.Lock()
	require.Empty(t, f.pool.idle)
	f.pool.mu.Unlock()
}
