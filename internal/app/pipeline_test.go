package app_test

import (
	"cmp"
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/generation"
	"github.com/koe-voice/koe/internal/store/storetest"
	"github.com/koe-voice/koe/internal/tts"
)

// TestOutputTooLong is finding 2 of the security review: a generation whose
// audio runs past its plan's cap fails with OUTPUT_TOO_LONG as soon as the
// cap is passed, gives its characters back, and leaves no audio anywhere.
// The cap is the one in force when the generation was created.
func TestOutputTooLong(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			admin := srv.Client(apptest.AdminKey)
			var plan struct {
				UpsertPlan struct {
					Code                         string
					MaxAudioSecondsPerGeneration int
				}
			}
			admin.Must(`mutation { upsertPlan(input: {code: "tiny", name: "Tiny", monthlyPriceCents: 100, currency: "usd",
				includedCharacters: 100000, maxConcurrentGenerations: 10, maxCharactersPerGeneration: 10000,
				maxAudioSecondsPerGeneration: 3}) { code maxAudioSecondsPerGeneration } }`, nil, &plan)
			require.Equal(t, 3, plan.UpsertPlan.MaxAudioSecondsPerGeneration)
			for _, bad := range []int{0, 86401} {
				r := admin.Do(`mutation($n: Int) { upsertPlan(input: {code: "tiny", name: "Tiny", monthlyPriceCents: 100, currency: "usd",
					includedCharacters: 100000, maxConcurrentGenerations: 10, maxCharactersPerGeneration: 10000,
					maxAudioSecondsPerGeneration: $n}) { code } }`, map[string]any{"n": bad})
				require.Len(t, r.Errors, 1)
				require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code())
				require.Equal(t, "input.maxAudioSecondsPerGeneration", r.Errors[0].Field())
			}
			var plans struct {
				Plans []struct {
					Code                         string
					MaxAudioSecondsPerGeneration int
				}
			}
			admin.Must(`{ plans { code maxAudioSecondsPerGeneration } }`, nil, &plans)
			for _, p := range plans.Plans {
				want := map[string]int{"tiny": 3}[p.Code]
				require.Equal(t, cmp.Or(want, 7200), p.MaxAudioSecondsPerGeneration, "%s: the seeded plans allow 2 hours; a refused change changes nothing", p.Code)
			}
			userID, key := srv.NewUser(auth.RoleUser, "long@example.com")
			_, err := srv.DB().NewRaw("UPDATE users SET plan_code = 'tiny' WHERE id = ?", userID).Exec(context.Background())
			require.NoError(t, err)
			c := srv.Client(key)

			// 2,000 characters at half speed are about four minutes of audio.
			for _, format := range []string{"MP3", "WAV"} {
				g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(2000), "format": format, "speed": 0.5})
				// Raising the plan now does not raise this generation's cap.
				admin.Must(`mutation { upsertPlan(input: {code: "tiny", name: "Tiny", monthlyPriceCents: 100, currency: "usd",
					includedCharacters: 100000, maxConcurrentGenerations: 10, maxCharactersPerGeneration: 10000,
					maxAudioSecondsPerGeneration: 7200}) { code } }`, nil, nil)

				evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
				last := evs[len(evs)-1]
				require.Equal(t, "FAILED", last.Status, "%s: %+v", format, last)
				require.Equal(t, "OUTPUT_TOO_LONG", last.Generation.Error.Code)
				require.Contains(t, last.Generation.Error.Message, "ran past 3 seconds")
				require.Nil(t, last.Generation.Audio)

				var u struct{ Usage usageNumbers }
				c.Must(usageQuery, nil, &u)
				require.Equal(t, 0, u.Usage.ReservedCharacters, "the reservation is released")
				require.Equal(t, 0, u.Usage.UsedCharacters, "nothing is charged")
				require.Equal(t, 100000, *u.Usage.RemainingCharacters)
				require.Empty(t, storedFiles(t, srv, g.ID), "no audio stored, not even a partial file")

				admin.Must(`mutation { upsertPlan(input: {code: "tiny", name: "Tiny", monthlyPriceCents: 100, currency: "usd",
					includedCharacters: 100000, maxConcurrentGenerations: 10, maxCharactersPerGeneration: 10000,
					maxAudioSecondsPerGeneration: 3}) { code } }`, nil, nil)
			}

			// A short text under the cap still speaks.
			g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": "Hi.", "format": "MP3"})
			evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
			require.Equal(t, "SUCCEEDED", evs[len(evs)-1].Status)
			var u struct{ Usage usageNumbers }
			c.Must(usageQuery, nil, &u)
			require.Equal(t, 3, u.Usage.UsedCharacters)
			require.Equal(t, 0, u.Usage.ReservedCharacters)
		})
	}
}

// storedFiles lists what the server's bucket directory holds for a
// generation, finished or half written.
func storedFiles(t *testing.T, srv *apptest.Server, id string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(srv.Env["KOE_DATA_DIR"], func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), id) {
			found = append(found, path)
		}
		return err
	})
	require.NoError(t, err)
	return found
}

// TestPipelineFormats: a generation spoken chunk by chunk into one encoder
// gives, in every format, a file as long as its chunks spoken one by one:
// the WAV to the sample, MP3 with lame's delay and padding, Ogg Opus within
// a frame. espeak-ng runs as a process per chunk here, whose chunks come
// out the same alone and in the file; its warm helper's library keeps some
// state from one text to the next, a few samples a chunk
// (tts.TestEspeakHelperSoundsLikeEspeakNg).
func TestPipelineFormats(t *testing.T) {
	t.Parallel()
	input := text(3000)
	chunks := tts.Split(input, generation.ChunkRunes(input))
	require.Greater(t, len(chunks), 1)
	var samples int
	for _, chunk := range chunks {
		pcm, err := tts.Record(t.Context(), &tts.Espeak{}, "gmw/en-US", chunk, tts.Params{Speed: 1})
		require.NoError(t, err)
		samples += len(pcm.Samples)
	}
	want := samples * 1000 / 22050
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, map[string]string{"KOE_ESPEAK_HELPER": "koe-no-such-helper"})
			c := srv.Client(apptest.AdminKey)
			for _, tc := range []struct {
				format   string
				rate     int
				min, max int // ms beyond want
			}{
				{"WAV", 22050, 0, 0},
				{"MP3", 22050, 0, 150},
				{"OGG_OPUS", 48000, -30, 30},
			} {
				g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": input, "format": tc.format})
				evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
				last := evs[len(evs)-1]
				require.Equal(t, "SUCCEEDED", last.Status, "%s: %+v", tc.format, last)
				b, header := download(t, last.Generation.Audio.URL)
				requirePlayable(t, last.Generation, b, header)
				require.Equal(t, tc.rate, last.Generation.Audio.SampleRate)
				d := last.Generation.Audio.DurationMs
				require.GreaterOrEqual(t, d, want+tc.min, "%s: %d ms, chunks alone %d ms", tc.format, d, want)
				require.LessOrEqual(t, d, want+tc.max, "%s: %d ms, chunks alone %d ms", tc.format, d, want)
			}
		})
	}
}
