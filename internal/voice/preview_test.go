package voice_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/store/storetest"
	"github.com/koe-voice/koe/internal/tts"
	"github.com/koe-voice/koe/internal/tts/ja"
	"github.com/koe-voice/koe/internal/voice"
)

// countingEspeak is the real espeak-ng, counting the syntheses asked of it.
type countingEspeak struct {
	*tts.Espeak
	calls atomic.Int32
}

func (c *countingEspeak) Synthesize(ctx context.Context, engineVoiceID, text string, p tts.Params, w tts.PCMWriter) error {
	c.calls.Add(1)
	return c.Espeak.Synthesize(ctx, engineVoiceID, text, p, w)
}

func openBucket(t *testing.T) *blob.Bucket {
	t.Helper()
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { _ = bucket.Close() })
	return bucket
}

func TestPreviewIsMadeOnce(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		ctx := t.Context()
		engine := &countingEspeak{Espeak: &tts.Espeak{}}
		b := setup(t, kind, engine)
		bucket := openBucket(t)
		previews := voice.NewPreviews(b.catalog, bucket, tts.Encoder{})

		key, err := previews.Key(ctx, "espeak-ng:en-us")
		require.NoError(t, err)
		require.Regexp(t, `^previews/espeak-ng/en-us-[0-9a-f]{12}\.mp3$`, key)
		require.Equal(t, int32(1), engine.calls.Load())

		data, err := bucket.ReadAll(ctx, key)
		require.NoError(t, err)
		durationMs, sampleRate, err := tts.ProbeMP3(data)
		require.NoError(t, err, "a playable MP3")
		require.Greater(t, durationMs, 1000, "the whole sample, spoken")
		require.Positive(t, sampleRate)
		attrs, err := bucket.Attributes(ctx, key)
		require.NoError(t, err)
		require.Equal(t, "audio/mpeg", attrs.ContentType)

		again, err := previews.Key(ctx, "espeak-ng:en-us")
		require.NoError(t, err)
		require.Equal(t, key, again)
		require.Equal(t, int32(1), engine.calls.Load(), "the second request is served from the bucket")

		// Another process (a fresh Previews) finds it in the bucket too.
		_, err = voice.NewPreviews(b.catalog, bucket, tts.Encoder{}).Key(ctx, "espeak-ng:en-us")
		require.NoError(t, err)
		require.Equal(t, int32(1), engine.calls.Load())

		// Many first requests for one voice at once: one synthesis.
		var wg sync.WaitGroup
		keys := make([]string, 8)
		for i := range keys {
			wg.Go(func() {
				k, err := previews.Key(ctx, "espeak-ng:ja")
				if err == nil {
					keys[i] = k
				}
			})
		}
		wg.Wait()
		for _, k := range keys {
			require.Regexp(t, `^previews/espeak-ng/ja-[0-9a-f]{12}\.mp3$`, k)
			require.Equal(t, keys[0], k)
		}
		require.Equal(t, int32(2), engine.calls.Load())
		ok, err := bucket.Exists(ctx, keys[0])
		require.NoError(t, err)
		require.True(t, ok)
	})
}

func TestPreviewWithoutLameIsWAV(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, storetest.SQLite, &tts.Espeak{})
	bucket := openBucket(t)
	previews := voice.NewPreviews(b.catalog, bucket, tts.Encoder{LameBinary: "/nonexistent/lame"})

	key, err := previews.Key(ctx, "espeak-ng:de")
	require.NoError(t, err)
	require.Regexp(t, `^previews/espeak-ng/de-[0-9a-f]{12}\.wav$`, key)
	data, err := bucket.ReadAll(ctx, key)
	require.NoError(t, err)
	pcm, err := tts.DecodeWAV(data)
	require.NoError(t, err, "a playable WAV")
	require.Greater(t, pcm.Duration().Milliseconds(), int64(500))
}

func TestPreviewFailures(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		ctx := t.Context()
		b := setup(t, kind, &tts.Espeak{})
		bucket := openBucket(t)

		_, err := voice.NewPreviews(b.catalog, bucket, tts.Encoder{}).Key(ctx, "espeak-ng:nope")
		require.Equal(t, apperror.NotFound, apperror.CodeOf(err))

		// A process that does not run the voice's engine cannot speak it.
		without := voice.NewCatalog(voice.CatalogConfig{DB: b.db})
		_, err = voice.NewPreviews(without, bucket, tts.Encoder{}).Key(ctx, "espeak-ng:fr")
		require.Error(t, err)
		require.True(t, strings.Contains(err.Error(), "not configured"), "%v", err)

		it := bucket.List(nil)
		_, err = it.Next(ctx)
		require.Error(t, err, "nothing was written")
	})
}

// TestNewSampleIsNewPreview: a deployment that kept a preview of an older
// sample text (the Japanese one that said "Chinese letter" for each kanji)
// makes a new one when the text changes, and keeps serving the new one.
func TestNewSampleIsNewPreview(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		ctx := t.Context()
		engine := &countingEspeak{Espeak: &tts.Espeak{}}
		b := setup(t, kind, ja.FrontEnd(engine))
		bucket := openBucket(t)
		encoder := tts.Encoder{LameBinary: "/nonexistent/lame"} // WAV: its length is exact

		old := voice.NewPreviews(b.catalog, bucket, encoder)
		voice.SetSample(old, func(string) string { return "今日" })
		oldKey, err := old.Key(ctx, "espeak-ng:ja")
		require.NoError(t, err)

		current := voice.NewPreviews(b.catalog, bucket, encoder)
		key, err := current.Key(ctx, "espeak-ng:ja")
		require.NoError(t, err)
		require.NotEqual(t, oldKey, key)
		require.Equal(t, int32(2), engine.calls.Load(), "the new text is spoken, not served from the old file")
		short, long := duration(t, bucket, oldKey), duration(t, bucket, key)
		require.Greater(t, long, 2*short, "the new preview says the whole new sample")

		again, err := voice.NewPreviews(b.catalog, bucket, encoder).Key(ctx, "espeak-ng:ja")
		require.NoError(t, err)
		require.Equal(t, key, again)
		require.Equal(t, int32(2), engine.calls.Load(), "and then it is kept")
	})
}

// TestEveryVoiceHasAPreview: every voice of the installed espeak-ng, as the
// server runs it, says its sample: Japanese as Japanese (kanji read, not
// spelled out as "Chinese letter"), every other language in its own words
// or numbers.
func TestEveryVoiceHasAPreview(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, storetest.SQLite, ja.FrontEnd(&tts.Espeak{}))
	bucket := openBucket(t)
	previews := voice.NewPreviews(b.catalog, bucket, tts.Encoder{LameBinary: "/nonexistent/lame"})
	for _, v := range walk(t, b.catalog, voice.Filter{}, 100) {
		key, err := previews.Key(ctx, v.ID)
		require.NoError(t, err, v.ID)
		require.Greater(t, duration(t, bucket, key), 500*time.Millisecond, "%s says something", v.ID)
	}
	key, err := previews.Key(ctx, "espeak-ng:ja")
	require.NoError(t, err)
	// The sample has 40 characters, 11 of them kanji: espeak-ng alone,
	// saying "Chinese letter" for each, takes about 17 s.
	require.Less(t, duration(t, bucket, key), 10*time.Second, "the Japanese sample is read as Japanese")
}

// duration is how long the WAV preview at key plays.
func duration(t *testing.T, bucket *blob.Bucket, key string) time.Duration {
	t.Helper()
	data, err := bucket.ReadAll(t.Context(), key)
	require.NoError(t, err)
	pcm, err := tts.DecodeWAV(data)
	require.NoError(t, err)
	return pcm.Duration()
}
