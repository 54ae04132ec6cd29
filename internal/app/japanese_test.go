package app_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
	"github.com/koe-voice/koe/internal/tts"
)

// TestJapaneseVoiceReadsKanji is issue #14's acceptance test: a generation
// on espeak-ng's Japanese voice reads kanji, numbers and dates as Japanese.
// Without the Japanese front end espeak-ng says "Chinese letter" for every
// kanji and groups of digits: the 22-character sentence lasted about 12 s
// and the paragraph 23 s (0.42 s a character); read as Japanese they last
// about 3.6 s and 9 s. The bound of 0.25 s a character sits between.
func TestJapaneseVoiceReadsKanji(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			c := srv.Client(apptest.AdminKey)
			for _, tc := range []struct {
				text     string
				min, max time.Duration
			}{
				{"今日は良い天気ですね。音声合成のテストです。", time.Second, 7 * time.Second},
				{"2026年12月5日、午後3時から東京の会議室で、AIの音声について3人が1,500円の予算を話し合います。", 0, 0},
			} {
				chars := utf8.RuneCountInString(tc.text)
				if tc.max == 0 {
					// Every part is said (no less than 0.1 s a character),
					// none spelled out.
					tc.min, tc.max = time.Duration(chars)*100*time.Millisecond, time.Duration(chars)*250*time.Millisecond
				}
				g := create(t, c, map[string]any{"voiceId": "espeak-ng:ja", "text": tc.text, "format": "WAV"})
				evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
				last := evs[len(evs)-1]
				require.Equal(t, "SUCCEEDED", last.Status, "%+v", last)
				require.Equal(t, chars, last.Generation.Characters, "the characters as written are counted")
				b, _ := download(t, last.Generation.Audio.URL)
				stored, err := tts.DecodeWAV(b)
				require.NoError(t, err)
				require.Equal(t, int64(last.Generation.Audio.DurationMs), stored.Duration().Milliseconds())
				require.GreaterOrEqual(t, stored.Duration(), tc.min, tc.text)
				require.LessOrEqual(t, stored.Duration(), tc.max, tc.text)
			}
		})
	}
}

// TestJapanesePreview: the Japanese voice's preview is a Japanese sentence
// with kanji, read as Japanese (about 6.5 s; espeak-ng alone, spelling its
// sixteen kanji, takes 17.6 s).
func TestJapanesePreview(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	var v struct{ Voice struct{ PreviewURL string } }
	srv.Client("").Must(`{ voice(id: "espeak-ng:ja") { previewUrl } }`, nil, &v)
	b, _ := download(t, v.Voice.PreviewURL)
	durationMs, _, err := tts.ProbeMP3(b)
	require.NoError(t, err)
	require.Greater(t, durationMs, 3000)
	require.Less(t, durationMs, 10000)
}

// TestOpenJTalkEngine: with open_jtalk (here the fake of
// internal/tts/testdata, which makes 10 ms per byte of text) and a voice
// file, Open JTalk's voices join the catalog as Japanese voices and speak;
// they get the text as written, not the front end's kana, since Open JTalk
// reads kanji itself. Without the program the server starts all the same,
// without those voices.
func TestOpenJTalkEngine(t *testing.T) {
	t.Parallel()
	fake, err := filepath.Abs(filepath.Join("..", "tts", "testdata", "open_jtalk"))
	require.NoError(t, err)
	dic, voices := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dic, "sys.dic"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(voices, "mei_normal.htsvoice"), []byte("[GLOBAL]\nSAMPLING_FREQUENCY:48000\n[DATA]\n"), 0o644))
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{
		"KOE_OPENJTALK_PATH": fake, "KOE_OPENJTALK_DICTIONARY": dic, "KOE_OPENJTALK_VOICES": voices,
	})
	c := srv.Client(apptest.AdminKey)
	var list struct {
		Voices struct {
			Edges []struct {
				Node struct{ ID, Engine, Language string }
			}
		}
	}
	c.Must(`{ voices(filter: {engine: "open-jtalk"}) { edges { node { id engine language } } } }`, nil, &list)
	require.Len(t, list.Voices.Edges, 1)
	require.Equal(t, "open-jtalk:mei_normal", list.Voices.Edges[0].Node.ID)
	require.Equal(t, "ja", list.Voices.Edges[0].Node.Language)

	// The first Japanese voice a person sees is the one that reads kanji
	// itself, before espeak-ng's.
	var first struct {
		Voices struct {
			Edges []struct {
				Node struct{ ID, Quality string }
			}
		}
	}
	_, person := srv.NewUser(auth.RoleUser, "ja-first@example.com")
	srv.Client(person).Must(`{ voices(filter: {language: "ja"}, first: 2) { edges { node { id quality } } } }`, nil, &first)
	require.Len(t, first.Voices.Edges, 2)
	require.Equal(t, "open-jtalk:mei_normal", first.Voices.Edges[0].Node.ID)
	require.Equal(t, "NATURAL", first.Voices.Edges[0].Node.Quality)
	require.Equal(t, "espeak-ng:ja", first.Voices.Edges[1].Node.ID)
	require.Equal(t, "BASIC", first.Voices.Edges[1].Node.Quality)

	const text = "今日は良い天気ですね。"
	g := create(t, c, map[string]any{"voiceId": "open-jtalk:mei_normal", "text": text, "format": "WAV"})
	evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	last := evs[len(evs)-1]
	require.Equal(t, "SUCCEEDED", last.Status, "%+v", last)
	require.Equal(t, 48000, last.Generation.Audio.SampleRate)
	require.Equal(t, len(text)*10, last.Generation.Audio.DurationMs, "open_jtalk was given the text as written")

	without := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_OPENJTALK_PATH": filepath.Join(t.TempDir(), "open_jtalk"), "KOE_OPENJTALK_VOICES": voices})
	without.Client(apptest.AdminKey).Must(`{ voices(filter: {engine: "open-jtalk"}) { edges { node { id engine language } } } }`, nil, &list)
	require.Empty(t, list.Voices.Edges)
}
