package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/generation"
	"github.com/koe-voice/koe/internal/tts"
)

// voice is espeak-ng's American English voice file.
const voice = "gmw/en-US"

// espeak returns an engine with its voice list already read, so the one-off
// `espeak-ng --voices` run stays out of the timings. It skips the benchmark
// when espeak-ng is not installed.
func espeak(b *testing.B) *tts.Espeak {
	b.Helper()
	e := &tts.Espeak{}
	if _, err := e.Voices(context.Background()); err != nil {
		b.Skipf("espeak-ng: %v", err)
	}
	return e
}

// speak is the synthesis step of generation.Worker without the database
// and the encoder: split text into chunks of at most chunkRunes runes (0: do
// not split) and speak them through tts.Speak on `workers` slots, the audio
// leaving in order into a sink that counts it.
func speak(ctx context.Context, e tts.Synthesizer, text string, chunkRunes, workers int) (time.Duration, int, error) {
	chunks := []string{text}
	if chunkRunes > 0 {
		chunks = tts.Split(text, chunkRunes)
	}
	var sink counted
	err := tts.Speak(ctx, e, voice, chunks, tts.Params{}, &sink, tts.SpeakOptions{Acquire: tts.Slots(make(chan struct{}, workers))})
	return sink.d, len(chunks), err
}

// counted is a PCMWriter that keeps only the length of what it gets.
type counted struct{ d time.Duration }

func (c *counted) WritePCM(p tts.PCM) error {
	c.d += p.Duration()
	return nil
}

// BenchmarkPipeline measures speech throughput in characters per second for
// ~2,000 and ~20,000 characters of English prose, three ways:
//
//   - whole: one espeak-ng run over the whole text, the baseline;
//   - ChunkRunes=N: what the worker does, tts.Split at generation.ChunkRunes
//     and the chunks spoken by tts.Speak on runtime.NumCPU() slots, their
//     audio leaving in order;
//   - chunk=300: the same with 300-rune chunks, to show why ChunkRunes does
//     not go below 500 (every espeak-ng run pays a fixed start-up cost).
//
// Besides chars/s it reports the CPU time espeak-ng used (espeak-cpu-ms/op)
// and the CPU time of this process (go-cpu-ms/op: starting processes, reading
// their WAV, decoding and putting it in order), which say where the time goes.
func BenchmarkPipeline(b *testing.B) {
	e := espeak(b)
	ctx := context.Background()
	for _, n := range []int{2000, 20000} {
		text := prose(n)
		modes := []struct {
			name              string
			chunkRunes, works int
		}{
			{"whole", 0, 1},
			{fmt.Sprintf("ChunkRunes=%d", generation.ChunkRunes(text)), generation.ChunkRunes(text), runtime.NumCPU()},
			{"chunk=300", 300, runtime.NumCPU()},
		}
		for _, m := range modes {
			b.Run(fmt.Sprintf("chars=%d/%s", len(text), m.name), func(b *testing.B) {
				var chunks int
				self0, child0 := cpuTime()
				for b.Loop() {
					var err error
					if _, chunks, err = speak(ctx, e, text, m.chunkRunes, m.works); err != nil {
						b.Fatal(err)
					}
				}
				self, child := cpuTime()
				n := float64(b.N)
				b.ReportMetric(float64(len(text))*n/b.Elapsed().Seconds(), "chars/s")
				b.ReportMetric(float64(chunks), "chunks")
				b.ReportMetric(ms(child-child0)/n, "espeak-cpu-ms/op")
				b.ReportMetric(ms(self-self0)/n, "go-cpu-ms/op")
			})
		}
	}
}

// BenchmarkEspeakStartup measures the fixed cost of one espeak-ng run (start
// the process, load the voice and dictionary, speak one short word): the
// price every extra chunk pays, and the reason for ChunkRunes' 500-rune floor.
func BenchmarkEspeakStartup(b *testing.B) {
	e := espeak(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := tts.Record(ctx, e, voice, "Hi.", tts.Params{}); err != nil {
			b.Fatal(err)
		}
	}
}
