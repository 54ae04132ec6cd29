package tts

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchText is the prose both benchmarks speak.
var benchText = longText(2000)

// BenchmarkEspeakWhole speaks the text in one espeak-ng run.
func BenchmarkEspeakWhole(b *testing.B) {
	e := &Espeak{}
	ctx := context.Background()
	for b.Loop() {
		if _, err := Record(ctx, e, "gmw/en-US", benchText, Params{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(benchText)*b.N)/b.Elapsed().Seconds(), "chars/s")
}

// BenchmarkEspeakChunkedParallel speaks the same text as ~300-rune chunks,
// one espeak-ng run per chunk on runtime.NumCPU() workers, and joins them.
func BenchmarkEspeakChunkedParallel(b *testing.B) {
	e := &Espeak{}
	ctx := context.Background()
	for b.Loop() {
		if _, err := synthesizeChunked(ctx, e, "gmw/en-US", Split(benchText, 300), runtime.NumCPU()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(benchText)*b.N)/b.Elapsed().Seconds(), "chars/s")
}

// synthesizeChunked speaks chunks on the given number of workers through
// Speak, as the generation worker does, and keeps the audio.
func synthesizeChunked(ctx context.Context, s Synthesizer, voice string, chunks []string, workers int) (PCM, error) {
	var out pcmBuffer
	err := Speak(ctx, s, voice, chunks, Params{}, &out, SpeakOptions{Acquire: Slots(make(chan struct{}, workers))})
	return out.PCM, err
}

func TestSynthesizeChunkedMatchesWhole(t *testing.T) {
	t.Parallel()
	e := &Espeak{}
	whole, err := Record(t.Context(), e, "gmw/en-US", benchText, Params{})
	require.NoError(t, err)
	chunked, err := synthesizeChunked(t.Context(), e, "gmw/en-US", Split(benchText, 300), 4)
	require.NoError(t, err)
	// Each chunk ends in espeak-ng's own pause, so joining them without
	// extra silence keeps the pace of the whole text.
	require.InDelta(t, whole.Duration().Seconds(), chunked.Duration().Seconds(), whole.Duration().Seconds()*0.05)
}
