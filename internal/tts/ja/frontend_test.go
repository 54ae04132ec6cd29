package ja_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/tts"
	"github.com/koe-voice/koe/internal/tts/ja"
)

// recordingEngine says nothing; it keeps the text it was given per voice
// and counts how often its voices were listed.
type recordingEngine struct {
	mu     sync.Mutex
	texts  map[string][]string
	listed int
}

func (r *recordingEngine) Engine() string { return "recording" }

func (r *recordingEngine) Voices(context.Context) ([]tts.Voice, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listed++
	return []tts.Voice{
		{EngineVoiceID: "jpx/ja", Language: "ja"},
		{EngineVoiceID: "ja-jp", Language: "ja-JP"},
		{EngineVoiceID: "gmw/en-US", Language: "en-US"},
		{EngineVoiceID: "jam", Language: "jam"}, // Jamaican Creole: "ja" is only its prefix
	}, nil
}

func (r *recordingEngine) Synthesize(_ context.Context, id, text string, _ tts.Params, w tts.PCMWriter) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.texts == nil {
		r.texts = map[string][]string{}
	}
	r.texts[id] = append(r.texts[id], text)
	return w.WritePCM(tts.PCM{SampleRate: 8000})
}

// TestFrontEndReadsJapaneseVoicesOnly: the wrapper gives Japanese voices
// kana and every other voice the text as written, and lists the engine's
// voices once.
func TestFrontEndReadsJapaneseVoicesOnly(t *testing.T) {
	t.Parallel()
	engine := &recordingEngine{}
	fe := ja.FrontEnd(engine)
	require.Equal(t, "recording", fe.Engine())
	text := "AIの音声は3人で作りました。"
	var wg sync.WaitGroup
	for _, id := range []string{"jpx/ja", "ja-jp", "gmw/en-US", "jam", "jpx/ja"} {
		wg.Go(func() {
			_, err := tts.Record(t.Context(), fe, id, text, tts.Params{})
			require.NoError(t, err)
		})
	}
	wg.Wait()
	want := "エーアイノ オンセイワ サンニンデ ツクリマシタ。"
	require.Equal(t, []string{want, want}, engine.texts["jpx/ja"])
	require.Equal(t, []string{want}, engine.texts["ja-jp"])
	require.Equal(t, []string{text}, engine.texts["gmw/en-US"])
	require.Equal(t, []string{text}, engine.texts["jam"])
	require.Equal(t, 1, engine.listed)
}

// TestChunksSplitBeforeReading: the worker splits the text as written
// (tts.Split cuts Japanese at 。！？ with no space after them), and each
// chunk read on its own keeps its end mark, so espeak-ng still pauses
// between them.
func TestChunksSplitBeforeReading(t *testing.T) {
	t.Parallel()
	text := "今日は2026年12月5日です。会議は午後3時！参加者は3人？よろしくお願いします。"
	chunks := tts.Split(text, 18)
	require.Equal(t, []string{"今日は2026年12月5日です。", "会議は午後3時！参加者は3人？", "よろしくお願いします。"}, chunks)
	var read []string
	for _, c := range chunks {
		read = append(read, ja.Reading(c))
	}
	require.Equal(t, []string{
		"キョーワ ニセンニジューロクネン ジューニガツ イツカデス。",
		"カイギワ ゴゴ サンジ！サンカシャワ サンニン？",
		"ヨロシク オネガイシマス。",
	}, read)
}

// TestEspeakJapaneseLength is the acceptance sentence on the real
// espeak-ng ja voice: through the front end it is said in 1–7 s, where
// espeak-ng alone reads each kanji as "Chinese letter" (about 12 s).
func TestEspeakJapaneseLength(t *testing.T) {
	t.Parallel()
	const text = "今日は良い天気ですね。音声合成のテストです。"
	espeak := &tts.Espeak{}
	said, err := tts.Record(t.Context(), ja.FrontEnd(espeak), "jpx/ja", text, tts.Params{Speed: 1})
	require.NoError(t, err)
	require.GreaterOrEqual(t, said.Duration(), time.Second)
	require.LessOrEqual(t, said.Duration(), 7*time.Second)

	raw, err := tts.Record(t.Context(), espeak, "jpx/ja", text, tts.Params{Speed: 1})
	require.NoError(t, err)
	require.Greater(t, raw.Duration(), 7*time.Second, "without the front end espeak-ng spells the kanji out")
}

// TestEspeakJapaneseNumbers: a paragraph with kanji, numbers and a date
// is said at a Japanese pace, well under a second per character (espeak-ng
// alone takes about half a second per kanji and spells digits in groups).
func TestEspeakJapaneseNumbers(t *testing.T) {
	t.Parallel()
	text := "2026年12月5日、東京の会議室で、AIの音声合成について3人が1,500円の予算で20%の改善を目指します。"
	said, err := tts.Record(t.Context(), ja.FrontEnd(&tts.Espeak{}), "jpx/ja", text, tts.Params{Speed: 1})
	require.NoError(t, err)
	chars := len([]rune(text))
	require.Greater(t, said.Duration(), time.Duration(chars)*100*time.Millisecond, "every part of it is said")
	require.Less(t, said.Duration(), time.Duration(chars)*400*time.Millisecond)
	require.False(t, strings.ContainsAny(ja.Reading(text), "0123456789東京会議室音声合成予算改善目指"), "no digit or kanji reaches the engine")
}
