// Package generation turns text into stored speech: creating, canceling,
// retrying and deleting generations, the River worker with its chunked
// pipeline, and the live events subscribers follow.
package generation

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/tts"
)

// Status is where a generation is in its life. The values are the GraphQL
// enum's.
type Status string

// The statuses of a generation.
const (
	StatusQueued    Status = "QUEUED"
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusCanceled  Status = "CANCELED"
)

// Terminal reports whether nothing will change the status any more.
func (s Status) Terminal() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCanceled
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s.Terminal() || s == StatusQueued || s == StatusRunning
}

// Error codes of failed generations.
const (
	CodeEngineFailed     = "ENGINE_FAILED"
	CodeVoiceUnavailable = "VOICE_UNAVAILABLE"
	CodeEncoderFailed    = "ENCODER_FAILED"
	CodeTimeout          = "TIMEOUT"
	CodeInternal         = "INTERNAL"
	// CodeOutputTooLong: the audio ran past the generation's cap (or past
	// what a WAV file holds); the engines were stopped there.
	CodeOutputTooLong = "OUTPUT_TOO_LONG"
)

// Limits on a generation's audio besides the plan's, because characters are
// what is billed and audio per character varies tenfold ("9999999999999. "
// at half speed makes about 1.05 s a character, prose at half speed 0.12 s):
// at most AudioSecondsPerCharacter a billed character, but never less than
// MinAudioSeconds, so that a short text spoken slowly ("Hi", about 1.6 s
// at half speed) is never refused.
const (
	AudioSecondsPerCharacter = 1
	MinAudioSeconds          = 60
)

// audioCap is the longest audio, in seconds, a generation of characters
// may make under lim: the plan's cap and the per-character one, whichever
// is lower; nil (no cap) for operators.
func audioCap(lim PlanLimits, unlimited bool, characters int) *int {
	if unlimited {
		return nil
	}
	n := max(characters*AudioSecondsPerCharacter, MinAudioSeconds)
	if lim.MaxAudioSeconds > 0 {
		n = min(n, lim.MaxAudioSeconds)
	}
	return &n
}

// Generation is one text spoken with one voice.
type Generation struct {
	bun.BaseModel `bun:"table:generations"`

	ID          string     `bun:"id,pk"`
	OwnerID     string     `bun:"owner_id,notnull"`
	VoiceID     string     `bun:"voice_id,notnull"`
	Text        string     `bun:"text,notnull"`
	Characters  int        `bun:"characters,notnull"`
	Format      tts.Format `bun:"format,notnull"`
	Speed       float64    `bun:"speed,notnull"`
	Pitch       float64    `bun:"pitch,notnull"`
	Status      Status     `bun:"status,notnull"`
	Progress    float64    `bun:"progress,notnull"`
	ChunksDone  int        `bun:"chunks_done,notnull"`
	ChunksTotal int        `bun:"chunks_total,notnull"`
	// MaxAudioSeconds is the longest audio this generation may make, fixed
	// when it was created; nil: no cap.
	MaxAudioSeconds *int `bun:"max_audio_seconds"`

	AudioKey         *string `bun:"audio_key"`
	AudioContentType *string `bun:"audio_content_type"`
	AudioBytes       *int64  `bun:"audio_bytes"`
	AudioDurationMs  *int    `bun:"audio_duration_ms"`
	AudioSampleRate  *int    `bun:"audio_sample_rate"`

	ErrorCode    *string `bun:"error_code"`
	ErrorMessage *string `bun:"error_message"`

	JobID   *int64  `bun:"job_id"`
	RetryOf *string `bun:"retry_of"`
	// Lexicon is the owner's pronunciation entries this generation speaks
	// with, as the Lexicon chose them when it was created; nil: none.
	Lexicon *string `bun:"lexicon"`

	CreatedAt  time.Time  `bun:"created_at,notnull"`
	StartedAt  *time.Time `bun:"started_at"`
	FinishedAt *time.Time `bun:"finished_at"`
}

// Audio describes the finished file of a generation.
type Audio struct {
	Key         string
	ContentType string
	Bytes       int64
	DurationMs  int
	SampleRate  int
}

// Audio returns the finished file, or nil unless the generation succeeded.
func (g *Generation) Audio() *Audio {
	if g.Status != StatusSucceeded || g.AudioKey == nil {
		return nil
	}
	return &Audio{Key: *g.AudioKey, ContentType: deref(g.AudioContentType), Bytes: deref(g.AudioBytes), DurationMs: deref(g.AudioDurationMs), SampleRate: deref(g.AudioSampleRate)}
}

// Failure is why a generation failed.
type Failure struct {
	Code    string
	Message string
}

// Failure returns why the generation failed, or nil unless it failed.
func (g *Generation) Failure() *Failure {
	if g.Status != StatusFailed || g.ErrorCode == nil {
		return nil
	}
	return &Failure{Code: *g.ErrorCode, Message: deref(g.ErrorMessage)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Event is one step of a generation's life, as the bus carries it.
type Event struct {
	GenerationID string  `json:"id"`
	OwnerID      string  `json:"owner"`
	Status       Status  `json:"status"`
	Progress     float64 `json:"progress"`
	ChunksDone   int     `json:"chunksDone"`
	ChunksTotal  int     `json:"chunksTotal"`
}

func eventOf(g *Generation) Event {
	return Event{GenerationID: g.ID, OwnerID: g.OwnerID, Status: g.Status, Progress: g.Progress, ChunksDone: g.ChunksDone, ChunksTotal: g.ChunksTotal}
}

// newer reports whether e is a later step than old of the same generation: a
// terminal status beats anything, then higher progress, then a status change
// from QUEUED to RUNNING.
func (e Event) newer(old Event) bool {
	switch {
	case old.Status.Terminal():
		return false
	case e.Status.Terminal():
		return true
	case e.Progress != old.Progress:
		return e.Progress > old.Progress
	default:
		return e.Status == StatusRunning && old.Status == StatusQueued || e.ChunksTotal > old.ChunksTotal
	}
}

func generationTopic(id string) string { return "generation:" + id }
func ownerTopic(userID string) string  { return "generations-of:" + userID }
