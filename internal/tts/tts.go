// Package tts turns text into speech: the Synthesizer interface that every
// engine implements (espeak-ng, OpenAI-compatible servers), PCM audio as a
// stream, the sentence chunker, Speak, which speaks chunks in parallel into
// one stream in order, and the encoders that turn that stream into WAV, MP3
// and Ogg Opus as it arrives. Nothing here holds a whole recording: memory
// stays the same however long the audio is.
package tts

import (
	"context"
	"errors"
	"fmt"
)

// PCM is mono, signed 16-bit audio at SampleRate samples per second.
type PCM struct {
	SampleRate int
	Samples    []int16
}

// PCMWriter takes audio as it is made, piece by piece. A piece's samples
// are valid only during the call. An error stops whoever is writing, who
// returns it (errors.Is finds it).
type PCMWriter interface {
	WritePCM(p PCM) error
}

// Voice is one voice as an engine describes it, before the catalog gives it a
// global id.
type Voice struct {
	// EngineVoiceID is the engine's own name for the voice, stable across
	// restarts ("gmw/en-US", "alloy").
	EngineVoiceID string
	// Name is a human name ("English (America)").
	Name string
	// Language is a BCP 47 tag ("en-US", "ja", "pt-BR").
	Language string
	// LanguageName is the English name of the language ("English").
	LanguageName string
	// Gender is "FEMALE", "MALE", "NEUTRAL" or "" when unknown.
	Gender string
	// Description is free text, may be empty.
	Description string
	// Tags are short labels (dialect or variant subtags, engine family).
	Tags []string
	// Quality is how natural the voice sounds; the catalog lists the
	// voices of a language best first.
	Quality Quality
}

// Quality ranks voices by how natural they sound, from the kind of
// synthesis behind them.
type Quality int

// The tiers, worst first: zero is unknown and ranks last.
const (
	// QualityBasic is formant synthesis: clear but robotic (espeak-ng).
	QualityBasic Quality = iota + 1
	// QualityStandard is concatenated recordings, diphones or clustered
	// units (Flite, Festival's diphone voices).
	QualityStandard
	// QualityNatural is statistical parametric synthesis trained on one
	// speaker (HTS voices: Festival's us-slt-hts, Open JTalk).
	QualityNatural
	// QualityNeural is a neural model (an OpenAI-compatible server).
	QualityNeural
)

// Params shape the voice of one synthesis.
type Params struct {
	// Speed is the rate relative to normal: 0.5 .. 2.0, 1 = normal. Zero
	// also means normal.
	Speed float64
	// Pitch is the shift in semitones: -12 .. 12, 0 = normal.
	Pitch float64
}

// Synthesizer is a speech engine.
type Synthesizer interface {
	// Engine is the engine's name as the API shows it ("espeak-ng", "openai").
	Engine() string
	// Voices lists the voices the engine can speak with.
	Voices(ctx context.Context) ([]Voice, error)
	// Synthesize speaks text with the voice, writing the audio to w as the
	// engine makes it, all at one sample rate; blank text writes one empty
	// piece that only carries the rate. An error of w stops the engine at
	// once and is returned. Other errors wrapped with ErrTransient may pass
	// when tried again; any other error is final.
	Synthesize(ctx context.Context, engineVoiceID, text string, p Params, w PCMWriter) error
}

// ErrTransient marks an engine failure worth retrying (a timeout, a 5xx, a
// process that could not start for lack of resources).
var ErrTransient = errors.New("transient engine failure")

// failure classifies an engine that could not be reached or run:
// cancellation is the caller's doing, anything else (a network error, a
// missing or crashed program) may pass on a retry.
func failure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	return fmt.Errorf("%w: %w", ErrTransient, err)
}

// ErrUnknownVoice is returned by Synthesize for a voice the engine does not have.
var ErrUnknownVoice = errors.New("unknown voice")
