package voice_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/store/storetest"
	"github.com/koe-voice/koe/internal/tts"
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
		require.Equal(t, "previews/espeak-ng/en-us.mp3", key)
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
			require.Equal(t, "previews/espeak-ng/ja.mp3", k)
		}
		require.Equal(t, int32(2), engine.calls.Load())
		ok, err := bucket.Exists(ctx, "previews/espeak-ng/ja.mp3")
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
	require.Equal(t, "previews/espeak-ng/de.wav", key)
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
