package tts

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"
)

// SpeakOptions tune Speak.
type SpeakOptions struct {
	// MaxDuration stops every engine with ErrOutputTooLong as soon as the
	// audio made passes it; 0 sets no limit.
	MaxDuration time.Duration
	// Acquire waits for a turn to run an engine and returns the function
	// that ends it; nil runs every chunk at once.
	Acquire func(ctx context.Context) (release func(), err error)
	// Spoken, when set, is called as each chunk's audio is complete, from
	// the chunk's goroutine, in any order.
	Spoken func(i int)
	// SpoolMemory is how many bytes of audio may wait in memory for the
	// chunks before them (0: DefaultSpoolMemory).
	SpoolMemory int
}

// Speak speaks chunks with the engine, several at once (chunks take their
// turns in order), and writes their audio to out in chunk order, at the
// sample rate of the first: a chunk that finishes before those ahead of it
// waits in a Sequence. Nothing holds the whole recording, so memory does
// not grow with the text. The first error (an engine's, out's, the limit,
// ctx) cancels the other engines, killing their processes, and is
// returned; out is not closed either way.
func Speak(ctx context.Context, engine Synthesizer, engineVoiceID string, chunks []string, p Params, out PCMWriter, o SpeakOptions) error {
	seq := NewSequence(len(chunks), out, o.SpoolMemory, o.MaxDuration)
	defer seq.Close()
	g, gctx := errgroup.WithContext(ctx)
	// An engine's failure cancels gctx; the writer must hear it too.
	stop := context.AfterFunc(gctx, func() { seq.Abort(context.Cause(gctx)) })
	defer stop()
	g.Go(seq.Run)
	for i, text := range chunks {
		release := func() {}
		if o.Acquire != nil {
			var err error
			if release, err = o.Acquire(gctx); err != nil {
				break // gctx ended: g.Wait says why
			}
		}
		g.Go(func() error {
			defer release()
			if err := engine.Synthesize(gctx, engineVoiceID, text, p, seq.Part(i)); err != nil {
				return err
			}
			seq.Done(i)
			if o.Spoken != nil {
				o.Spoken(i)
			}
			return nil
		})
	}
	return g.Wait()
}

// Slots returns an Acquire for SpeakOptions that lets as many engines run
// at once as slots has room, across every Speak given the same channel.
func Slots(slots chan struct{}) func(ctx context.Context) (func(), error) {
	return func(ctx context.Context) (func(), error) {
		select {
		case slots <- struct{}{}:
			return func() { <-slots }, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}
