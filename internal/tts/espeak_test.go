package tts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/tts/ttstest"
)

func TestEspeakVoices(t *testing.T) {
	t.Parallel()
	e := &Espeak{}
	require.Equal(t, "espeak-ng", e.Engine())
	voices, err := e.Voices(t.Context())
	require.NoError(t, err)
	require.Greater(t, len(voices), 100)

	byID := map[string]Voice{}
	for _, v := range voices {
		require.NotContains(t, byID, v.EngineVoiceID, "ids are unique")
		byID[v.EngineVoiceID] = v
		require.NotEqual(t, "File", v.EngineVoiceID, "header row skipped")
		require.NotRegexp(t, "^mb/", v.EngineVoiceID)
		require.NotEmpty(t, v.Name)
		require.NotEmpty(t, v.LanguageName)
		require.Equal(t, QualityBasic, v.Quality, "formant synthesis, every voice")
	}
	require.Equal(t, Voice{
		EngineVoiceID: "gmw/en-US",
		Name:          "English (America)",
		Language:      "en-US",
		LanguageName:  "English",
		Gender:        "MALE",
		Tags:          []string{"us", "family:gmw"},
		Quality:       QualityBasic,
	}, byID["gmw/en-US"])
	require.Equal(t, "cmn-Latn-pinyin", byID["sit/cmn-Latn-pinyin"].Language)
	require.Equal(t, []string{"gb", "rp", "family:gmw"}, byID["gmw/en-GB-x-rp"].Tags)
	require.Equal(t, byID["sit/yue"].Language, byID["sit/yue-Latn-jyutping"].Language, "one language, two voices")

	voices[0].Name = "changed by the caller"
	again, err := e.Voices(t.Context())
	require.NoError(t, err)
	require.NotEqual(t, voices[0].Name, again[0].Name, "the cache is not shared with callers")
}

func TestParseEspeakVoices(t *testing.T) {
	t.Parallel()
	out := `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  en-us           --/M      English_(America)  gmw/en-US            (en 2)
 5  en-us-nyc       --/M      English_(America,_New_York_City) gmw/en-US-nyc
 5  qdb             --/F      Lang_Belta         art/qdb
 5  ko              --/-      Korean             ko
 5  piqd            --/M      Klingon            art/piqd
 5  chr-US-Qaaa-x-west --/M   Cherokee_          iro/chr
 5  py              --/M      Pyash              art/py
 5  en              70/M      en1                mb/mb-en1            (en 2)

`
	require.Equal(t, []Voice{
		{EngineVoiceID: "gmw/en-US", Name: "English (America)", Language: "en-US", LanguageName: "English", Gender: "MALE", Tags: []string{"us", "family:gmw"}, Quality: QualityBasic},
		// "nyc" is too short to be a variant: it becomes private use.
		{EngineVoiceID: "gmw/en-US-nyc", Name: "English (America, New York City)", Language: "en-US-x-nyc", LanguageName: "English", Gender: "MALE", Tags: []string{"us", "nyc", "family:gmw"}, Quality: QualityBasic},
		// CLDR has no name for Belta: it comes from the voice name.
		{EngineVoiceID: "art/qdb", Name: "Lang Belta", Language: "qdb", LanguageName: "Lang Belta", Gender: "FEMALE", Tags: []string{"family:art"}, Quality: QualityBasic},
		{EngineVoiceID: "ko", Name: "Korean", Language: "ko", LanguageName: "Korean", Quality: QualityBasic},
		// espeak-ng names Klingon after its script; BCP 47 says tlh.
		{EngineVoiceID: "art/piqd", Name: "Klingon", Language: "tlh", LanguageName: "Klingon", Gender: "MALE", Tags: []string{"family:art"}, Quality: QualityBasic},
		// A script after the region is out of place: private use too.
		{EngineVoiceID: "iro/chr", Name: "Cherokee", Language: "chr-US-x-qaaa-west", LanguageName: "Cherokee", Gender: "MALE", Tags: []string{"us", "qaaa", "west", "family:iro"}, Quality: QualityBasic},
		// Pyash has no BCP 47 code: not offered.
	}, parseEspeakVoices(out))
}

// espeakWays are the two ways Espeak speaks: a process per synthesis, and
// warm koe-espeak helpers. Each test of speech runs on both: the helper
// must sound the same and fail the same.
func espeakWays(t *testing.T) map[string]*Espeak {
	t.Helper()
	helper := &Espeak{Helper: Helper{Program: ttstest.Require(t, "koe-espeak"), Workers: 2}}
	t.Cleanup(func() { _ = helper.Helper.Close() })
	return map[string]*Espeak{"process": {}, "helper": helper}
}

func TestEspeakSynthesize(t *testing.T) {
	t.Parallel()
	for way, e := range espeakWays(t) {
		t.Run(way, func(t *testing.T) {
			t.Parallel()
			testEspeakSynthesize(t, e)
		})
	}
}

func testEspeakSynthesize(t *testing.T, e *Espeak) {
	tests := []struct {
		name    string
		voice   string
		text    string
		params  Params
		minDur  time.Duration
		maxDur  time.Duration
		wantErr error
	}{
		{name: "english", voice: "gmw/en-US", text: "Hello world.", minDur: 500 * time.Millisecond, maxDur: 2 * time.Second},
		{name: "voice without family directory", voice: "ko", text: "안녕하세요", minDur: 300 * time.Millisecond, maxDur: 5 * time.Second},
		{name: "case of the file name", voice: "sit/cmn-Latn-pinyin", text: "ni3 hao3", minDur: 300 * time.Millisecond, maxDur: 3 * time.Second},
		{name: "text that looks like a flag", voice: "gmw/en-US", text: "-v xx --help", minDur: 500 * time.Millisecond, maxDur: 5 * time.Second},
		// For the helper, a request is a line of JSON: this text stays one.
		{name: "text that looks like a request", voice: "gmw/en-US", text: "Hi\"}\n{\"voice\":\"../../../etc/passwd\",\"text\":\"x\"}\n", minDur: 2 * time.Second, maxDur: 15 * time.Second},
		// The NUL would end espeak-ng's input before "world".
		{name: "control characters", voice: "gmw/en-US", text: "Hello\x00\x07\x1b[0m world\r\n\tagain", minDur: 1 * time.Second, maxDur: 6 * time.Second},
		{name: "mixed scripts and emoji", voice: "gmw/en-US", text: "Hello 世界 مرحبا 😀", minDur: 1 * time.Second, maxDur: 10 * time.Second},
		// As SSML this would be a ten second pause; read out it is shorter.
		{name: "markup is spoken, not obeyed", voice: "gmw/en-US", text: `<speak>Hi <break time="10s"/> there</speak>`, minDur: 1 * time.Second, maxDur: 8 * time.Second},
		{name: "blank text is silence", voice: "gmw/en-US", text: " \n ", maxDur: 0},
		{name: "unknown voice", voice: "gmw/xx", text: "Hello", wantErr: ErrUnknownVoice},
		{name: "language code is not a voice id", voice: "en-us", text: "Hello", wantErr: ErrUnknownVoice},
		{name: "path outside the voices", voice: "../../../../etc/passwd", text: "Hello", wantErr: ErrUnknownVoice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pcm, err := Record(t.Context(), e, tt.voice, tt.text, tt.params)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, 22050, pcm.SampleRate)
			require.GreaterOrEqual(t, pcm.Duration(), tt.minDur)
			require.LessOrEqual(t, pcm.Duration(), tt.maxDur)
		})
	}
}

func TestEspeakParams(t *testing.T) {
	t.Parallel()
	for way, e := range espeakWays(t) {
		t.Run(way, func(t *testing.T) {
			t.Parallel()
			testEspeakParams(t, e)
		})
	}
}

func testEspeakParams(t *testing.T, e *Espeak) {
	speak := func(p Params) PCM {
		pcm, err := Record(t.Context(), e, "gmw/en-US", "The quick brown fox jumps over the lazy dog.", p)
		require.NoError(t, err)
		return pcm
	}
	normal := speak(Params{})
	sameSpeech(t, normal, speak(Params{Speed: 1}), "zero speed is normal speed")
	require.Less(t, speak(Params{Speed: 2}).Duration(), normal.Duration()*2/3)
	require.Greater(t, speak(Params{Speed: 0.5}).Duration(), normal.Duration()*3/2)
	// Far beyond espeak-ng's range, clamped rather than refused.
	sameSpeech(t, speak(Params{Speed: 2.58}), speak(Params{Speed: 100}))
	require.NotEqual(t, speak(Params{Pitch: 12}).Samples, speak(Params{Pitch: -12}).Samples)
}

// sameSpeech asserts that a and b are the same speech: the same rate and
// length to within 1 % or 20 ms. libespeak-ng keeps some state from one
// text to the next, so a helper's later texts come out a few milliseconds
// longer or shorter than its first, which a listener cannot hear
// (TestEspeakHelperSoundsLikeEspeakNg).
func sameSpeech(t *testing.T, a, b PCM, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, a.SampleRate, b.SampleRate, msgAndArgs...)
	delta := max(0.02, a.Duration().Seconds()/100)
	require.InDelta(t, a.Duration().Seconds(), b.Duration().Seconds(), delta, msgAndArgs...)
}

// TestEspeakHelperSoundsLikeEspeakNg: the helper says what espeak-ng says.
// A new helper's first text is espeak-ng's audio sample for sample; later
// texts the same speech to within a few samples of length, in English and
// Japanese, and with another voice spoken in between.
func TestEspeakHelperSoundsLikeEspeakNg(t *testing.T) {
	t.Parallel()
	helper := &Espeak{Helper: Helper{Program: ttstest.Require(t, "koe-espeak"), Workers: 1}}
	t.Cleanup(func() { _ = helper.Helper.Close() })
	process := &Espeak{}
	texts := []struct{ voice, text string }{
		{"gmw/en-US", "The quick brown fox jumps over the lazy dog. It is 10:30 on 3 May 2026."},
		{"jpx/ja", "キョーワ イイ テンキ デスネ。オンセーゴーセーノ テストデス。"},
		{"gmw/en-US", "Hello again, with a question?"},
	}
	for i, tt := range texts {
		want, err := Record(t.Context(), process, tt.voice, tt.text, Params{Speed: 1.2, Pitch: 2})
		require.NoError(t, err)
		got, err := Record(t.Context(), helper, tt.voice, tt.text, Params{Speed: 1.2, Pitch: 2})
		require.NoError(t, err)
		if i == 0 {
			require.Equal(t, want, got, tt.text)
		}
		sameSpeech(t, want, got, tt.text)
	}
}

func TestEspeakFailures(t *testing.T) {
	t.Parallel()
	t.Run("missing program is transient", func(t *testing.T) {
		t.Parallel()
		_, err := Record(t.Context(), &Espeak{Binary: "koe-no-such-espeak"}, "gmw/en-US", "Hello", Params{})
		require.ErrorIs(t, err, ErrTransient)
	})
	t.Run("crash is transient", func(t *testing.T) {
		t.Parallel()
		_, err := (&Espeak{Binary: "false"}).Voices(t.Context())
		require.ErrorIs(t, err, ErrTransient)
	})
	t.Run("cancellation is not transient", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := Record(ctx, &Espeak{}, "gmw/en-US", "Hello", Params{})
		require.ErrorIs(t, err, context.Canceled)
		require.NotErrorIs(t, err, ErrTransient)
	})
	for way, e := range espeakWays(t) {
		t.Run("timeout kills a long synthesis/"+way, func(t *testing.T) {
			t.Parallel()
			_, err := e.Voices(t.Context())
			require.NoError(t, err)
			require.NoError(t, e.Helper.Warm(t.Context()))
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = Record(ctx, e, "gmw/en-US", longText(200_000), Params{})
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.NotErrorIs(t, err, ErrTransient)
			require.Less(t, time.Since(start), 5*time.Second)
			// The next text is spoken, by a new helper if it was one.
			pcm, err := Record(t.Context(), e, "gmw/en-US", "Hello world.", Params{})
			require.NoError(t, err)
			require.Greater(t, pcm.Duration(), 500*time.Millisecond)
		})
	}
}

// TestEspeakLeavesNoPulseDirs runs espeak-ng, as a process and through
// koe-espeak (which links libespeak-ng, and so libpulse), the way a fresh
// container would, with a home that has never seen PulseAudio, and checks
// that libpulse did not leave a pulse-XXXX directory in TMPDIR.
func TestEspeakLeavesNoPulseDirs(t *testing.T) {
	helper := ttstest.Require(t, "koe-espeak")
	for way, e := range map[string]*Espeak{"process": {}, "helper": {Helper: Helper{Program: helper}}} {
		t.Run(way, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("HOME", t.TempDir())
			t.Setenv("TMPDIR", tmp)
			// Set (to restore it afterwards), then unset: libpulse would take an
			// empty value as the runtime directory "/pulse".
			t.Setenv("XDG_RUNTIME_DIR", "")
			require.NoError(t, os.Unsetenv("XDG_RUNTIME_DIR"))
			t.Cleanup(func() { _ = e.Helper.Close() })
			_, err := Record(t.Context(), e, "gmw/en-US", "Hello", Params{})
			require.NoError(t, err)
			pulse, err := filepath.Glob(filepath.Join(tmp, "pulse-*"))
			require.NoError(t, err)
			require.Empty(t, pulse)
		})
	}
}

// longText is English prose of about n characters.
func longText(n int) string {
	const para = "Koe turns written text into speech. Long documents are split at sentence ends, " +
		"spoken in parallel, and joined again, so listeners hear one continuous recording. " +
		"Numbers such as 3.14 and 1,000 stay whole; so do times like 10:30. "
	b := []byte{}
	for len(b) < n {
		b = append(b, para...)
	}
	return string(b[:n])
}

// speech is about seconds of espeak-ng speech, cut to exactly that length.
func speech(t testing.TB, seconds int) PCM {
	t.Helper()
	pcm, err := Record(context.Background(), &Espeak{}, "gmw/en-US", longText(30*seconds), Params{})
	require.NoError(t, err)
	n := pcm.SampleRate * seconds
	require.GreaterOrEqual(t, len(pcm.Samples), n)
	pcm.Samples = slices.Clip(pcm.Samples[:n])
	return pcm
}

// TestEspeakStreams: espeak-ng's audio reaches the writer while it is
// still speaking, and a writer that refuses stops it at once: the long
// text is not spoken to its end.
func TestEspeakStreams(t *testing.T) {
	t.Parallel()
	for way, e := range espeakWays(t) {
		t.Run(way, func(t *testing.T) {
			t.Parallel()
			testEspeakStreams(t, e)
		})
	}
}

func testEspeakStreams(t *testing.T, e *Espeak) {
	full := errors.New("full")
	var got int
	err := e.Synthesize(t.Context(), "gmw/en-US", longText(200_000), Params{Speed: 0.5}, pcmFunc(func(p PCM) error {
		require.Equal(t, 22050, p.SampleRate)
		if got += len(p.Samples); got > 22050 {
			return full
		}
		return nil
	}))
	require.ErrorIs(t, err, full)
	require.NotErrorIs(t, err, ErrTransient)
	require.Less(t, got, 22050*2, "stopped after the first second, not hours later")
}
