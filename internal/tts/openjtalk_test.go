package tts

import (
	"cmp"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

type fakeOpenJTalk struct {
	engine *OpenJTalk
	log    string // what each run was given
	tmp    string // $TMPDIR
	dir    string
}

// setupFakeOpenJTalk puts the fake open_jtalk (testdata/open_jtalk) first
// on PATH, with a dictionary folder and a voice folder of two voices (one a
// folder down, as Debian installs them), a duplicate and files that are not
// voices.
func setupFakeOpenJTalk(t *testing.T) fakeOpenJTalk {
	dir := t.TempDir()
	f := fakeOpenJTalk{log: filepath.Join(dir, "log"), tmp: filepath.Join(dir, "tmp"), dir: dir}
	script, err := os.ReadFile(filepath.Join("testdata", "open_jtalk"))
	require.NoError(t, err)
	for path, content := range map[string]string{
		"bin/open_jtalk":             string(script),
		"dic/sys.dic":                "",
		"voices/README":              "not a voice",
		"voices/mei_normal.htsvoice": "[GLOBAL]\nHTS_VOICE_VERSION:1.0\nSAMPLING_FREQUENCY:48000\n[DATA]\n",
		"voices/nitech-jp-atr503-m001/nitech_jp_atr503_m001.htsvoice": "[GLOBAL]\nSAMPLING_FREQUENCY:16000\n[DATA]\n",
		"voices/zz/mei_normal.htsvoice":                               "[GLOBAL]\nSAMPLING_FREQUENCY:8000\n[DATA]\n",
	} {
		p := filepath.Join(dir, path)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o755))
	}
	require.NoError(t, os.Mkdir(f.tmp, 0o755))
	t.Setenv("PATH", filepath.Join(dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("TMPDIR", f.tmp)
	t.Setenv("FAKE_OPEN_JTALK_LOG", f.log)
	f.engine = &OpenJTalk{Dictionary: filepath.Join(dir, "dic"), VoiceDir: filepath.Join(dir, "voices")}
	return f
}

// runs returns what each open_jtalk run was given: dictionary, voice,
// output, speed, tone, text.
func (f fakeOpenJTalk) runs(t *testing.T) [][]string {
	b, err := os.ReadFile(f.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var runs [][]string
	for line := range strings.Lines(string(b)) {
		runs = append(runs, strings.SplitN(strings.TrimSuffix(line, "\n"), "|", 6))
	}
	return runs
}

func TestOpenJTalkVoices(t *testing.T) {
	f := setupFakeOpenJTalk(t)
	require.Equal(t, "open-jtalk", f.engine.Engine())
	voices, err := f.engine.Voices(t.Context())
	require.NoError(t, err)
	require.Len(t, voices, 2, "one voice per name; other files are not voices")
	require.Equal(t, Voice{
		EngineVoiceID: "mei_normal", Name: "Japanese (mei normal)", Language: "ja", LanguageName: "Japanese",
		Description: "Open JTalk HTS voice mei_normal.htsvoice", Tags: []string{"hts", "open-jtalk"}, Quality: QualityNatural,
	}, voices[0])
	require.Equal(t, "nitech_jp_atr503_m001", voices[1].EngineVoiceID)

	_, err = (&OpenJTalk{VoiceDir: filepath.Join(f.dir, "none")}).Voices(t.Context())
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestOpenJTalkSynthesize: the text goes on stdin, the dictionary, voice
// file, speed and pitch as arguments, the WAV it writes comes out as PCM at
// the voice's rate, and the file is gone afterwards.
func TestOpenJTalkSynthesize(t *testing.T) {
	f := setupFakeOpenJTalk(t)
	const text = "今日は良い天気ですね。"
	pcm, err := Record(t.Context(), f.engine, "mei_normal", text, Params{Speed: 1.5, Pitch: -2})
	require.NoError(t, err)
	require.Equal(t, 48000, pcm.SampleRate)
	require.Equal(t, time.Duration(len(text))*10*time.Millisecond, pcm.Duration())

	runs := f.runs(t)
	require.Len(t, runs, 1)
	require.Equal(t, filepath.Join(f.dir, "dic"), runs[0][0])
	require.Equal(t, filepath.Join(f.dir, "voices", "mei_normal.htsvoice"), runs[0][1])
	require.Equal(t, f.tmp, filepath.Dir(runs[0][2]), "the output file is made in $TMPDIR")
	require.Equal(t, []string{"1.5", "-2", text}, runs[0][3:])
	left, err := os.ReadDir(f.tmp)
	require.NoError(t, err)
	require.Empty(t, left, "the output file is removed")

	// The defaults: normal speed, no shift; the voice one folder down
	// speaks at its own rate.
	pcm, err = Record(t.Context(), f.engine, "nitech_jp_atr503_m001", "はい", Params{})
	require.NoError(t, err)
	require.Equal(t, 16000, pcm.SampleRate)
	require.Equal(t, []string{"1", "0", "はい"}, f.runs(t)[1][3:])
}

// TestOpenJTalkLongText: open_jtalk reads one line of at most 1,022 bytes,
// so a long text is spoken in pieces that fit, cut at sentence ends, in
// order, with line breaks as spaces.
func TestOpenJTalkLongText(t *testing.T) {
	f := setupFakeOpenJTalk(t)
	text := strings.Repeat("音声合成のテストです。\n長い文章を読みます。", 40)
	pcm, err := Record(t.Context(), f.engine, "mei_normal", text, Params{})
	require.NoError(t, err)
	runs := f.runs(t)
	require.Greater(t, len(runs), 1)
	var said strings.Builder
	for _, r := range runs {
		require.LessOrEqual(t, len(r[5]), 1000)
		require.LessOrEqual(t, utf8.RuneCountInString(r[5]), openJTalkRunes)
		said.WriteString(r[5])
	}
	without := func(s string) string { return strings.NewReplacer(" ", "", "\n", "").Replace(s) }
	require.Equal(t, without(text), without(said.String()))
	require.Equal(t, time.Duration(len(said.String()))*10*time.Millisecond, pcm.Duration())
}

func TestOpenJTalkFailures(t *testing.T) {
	f := setupFakeOpenJTalk(t)
	ctx := t.Context()
	for _, id := range []string{"nope", "../voices/mei_normal", f.engine.VoiceDir + "/mei_normal.htsvoice", ""} {
		_, err := Record(ctx, f.engine, id, "はい", Params{})
		require.ErrorIs(t, err, ErrUnknownVoice, id)
	}

	_, err := Record(ctx, f.engine, "mei_normal", "FAIL", Params{})
	require.ErrorIs(t, err, ErrTransient)
	require.ErrorContains(t, err, "waveform cannot be synthesized")

	// Nothing to say: no run, one empty piece at the voice's rate.
	for _, text := range []string{"", "  \n", "「」。"} {
		pcm, err := Record(ctx, f.engine, "nitech_jp_atr503_m001", text, Params{})
		require.NoError(t, err)
		require.Equal(t, PCM{SampleRate: 16000}, pcm)
	}
	require.Empty(t, f.runs(t))

	// The writer's error stops the run and is returned as it is.
	stop := errors.New("listener gone")
	err = f.engine.Synthesize(ctx, "mei_normal", "はい", Params{}, pcmFunc(func(PCM) error { return stop }))
	require.ErrorIs(t, err, stop)
	require.NotErrorIs(t, err, ErrTransient)

	// A missing dictionary fails as the real program does.
	broken := &OpenJTalk{Dictionary: filepath.Join(f.dir, "none"), VoiceDir: f.engine.VoiceDir}
	_, err = Record(ctx, broken, "mei_normal", "はい", Params{})
	require.ErrorContains(t, err, "cannot be loaded")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Record(canceled, f.engine, "mei_normal", "はい", Params{})
	require.ErrorIs(t, err, context.Canceled)
	left, err := os.ReadDir(f.tmp)
	require.NoError(t, err)
	require.Empty(t, left, "no output file is left behind")
}

// TestOpenJTalkRealEngine speaks with the real open_jtalk and the first
// voice of KOE_OPENJTALK_VOICES (default /usr/share/hts-voice). Debian's
// archive here has open-jtalk but no voice file, and the scripts cannot
// install one, so it skips here and in CI.
func TestOpenJTalkRealEngine(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("open_jtalk"); err != nil {
		t.Skip("open_jtalk is not installed (Debian: apt-get install open-jtalk open-jtalk-mecab-naist-jdic)")
	}
	o := &OpenJTalk{
		Dictionary: cmp.Or(os.Getenv("KOE_OPENJTALK_DICTIONARY"), "/var/lib/mecab/dic/open-jtalk/naist-jdic"),
		VoiceDir:   cmp.Or(os.Getenv("KOE_OPENJTALK_VOICES"), "/usr/share/hts-voice"),
	}
	voices, err := o.Voices(t.Context())
	if err != nil || len(voices) == 0 {
		t.Skipf("no .htsvoice file in %s (set KOE_OPENJTALK_VOICES to a folder of HTS voices, e.g. those of the Open JTalk project)", o.VoiceDir)
	}
	pcm, err := Record(t.Context(), o, voices[0].EngineVoiceID, "今日は良い天気ですね。音声合成のテストです。", Params{})
	require.NoError(t, err)
	require.GreaterOrEqual(t, pcm.Duration(), time.Second)
	require.LessOrEqual(t, pcm.Duration(), 7*time.Second)
}
