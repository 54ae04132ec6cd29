package app_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
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
