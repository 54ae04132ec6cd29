package tts

import (
	"context"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/koe-voice/koe/internal/tracing"
)

// Traced returns s with each synthesis traced as a "tts.synthesize" span
// under the caller's span (engine, voice, characters in, samples out).
func Traced(s Synthesizer) Synthesizer { return traced{s} }

type traced struct{ Synthesizer }

func (t traced) Synthesize(ctx context.Context, engineVoiceID, text string, p Params, w PCMWriter) error {
	ctx, span := tracing.Start(ctx, "tts.synthesize", attribute.String("tts.engine", t.Engine()),
		attribute.String("tts.voice", engineVoiceID), attribute.Int("tts.characters", utf8.RuneCountInString(text)))
	c := &countingPCM{w: w}
	err := t.Synthesizer.Synthesize(ctx, engineVoiceID, text, p, c)
	span.SetAttributes(attribute.Int64("tts.samples", c.samples))
	tracing.End(span, err)
	return err
}

// countingPCM passes audio on to w, counting the samples.
type countingPCM struct {
	w       PCMWriter
	samples int64
}

func (c *countingPCM) WritePCM(p PCM) error {
	c.samples += int64(len(p.Samples))
	return c.w.WritePCM(p)
}
