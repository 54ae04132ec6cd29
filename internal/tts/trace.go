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

func (t traced) Synthesize(ctx context.Context, engineVoiceID, text string, p Params) (PCM, error) {
	ctx, span := tracing.Start(ctx, "tts.synthesize", attribute.String("tts.engine", t.Engine()),
		attribute.String("tts.voice", engineVoiceID), attribute.Int("tts.characters", utf8.RuneCountInString(text)))
	pcm, err := t.Synthesizer.Synthesize(ctx, engineVoiceID, text, p)
	span.SetAttributes(attribute.Int("tts.samples", len(pcm.Samples)))
	tracing.End(span, err)
	return pcm, err
}
