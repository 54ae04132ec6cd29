package generation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/metrics"
	"github.com/koe-voice/koe/internal/tts"
)

// Queue is the River queue generations run on.
const Queue = "generation"

// maxAttempts bounds the runs of a generation: retries of transient
// failures (River's backoff: about 1 s, 16 s, 81 s, 256 s between them) and
// runs a process died during. River is given one attempt more: a job left
// running on its last attempt by a process that died would be discarded by
// River's rescuer unseen, the generation RUNNING for good and its
// characters reserved; the extra attempt only fails the generation.
const maxAttempts = 5

// ChunkRunes picks the longest piece of text one engine call speaks: about
// eight pieces per text, so progress moves in visible steps and every core
// has work, but no fewer than 500 runes (starting espeak-ng costs about as
// much as speaking 250 runes, see BENCHMARKS.md) and no more than 2,000.
func ChunkRunes(text string) int {
	return min(max(utf8.RuneCountInString(text)/8, 500), 2000)
}

// Args is the River job that runs one generation.
type Args struct {
	GenerationID string `json:"generation_id"`
}

// Kind names the job for River.
func (Args) Kind() string { return "generation" }

// InsertOpts puts generations on their own queue.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: maxAttempts + 1}
}

// DeleteAudioArgs is the River job that deletes a deleted generation's audio.
type DeleteAudioArgs struct {
	Key string `json:"key"`
}

// Kind names the job for River.
func (DeleteAudioArgs) Kind() string { return "generation_audio_delete" }

// Worker runs generations: split, synthesize chunks in parallel, encode,
// store, and tell subscribers at each step.
type Worker struct {
	river.WorkerDefaults[Args]
	svc    *Service
	bucket *blob.Bucket
	// slots bounds engine calls running at once in this process, across jobs.
	slots   chan struct{}
	timeout time.Duration
}

// NewWorker returns the generation worker; synthConcurrency bounds the engine
// calls running at once in this process, and timeout one job's run.
func NewWorker(svc *Service, bucket *blob.Bucket, synthConcurrency int, timeout time.Duration) *Worker {
	return &Worker{svc: svc, bucket: bucket, slots: make(chan struct{}, synthConcurrency), timeout: timeout}
}

// Timeout is how long one run may take; River cancels the job's context after
// it and retries.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return w.timeout }

// Work runs one generation. It returns nil when there is nothing (more) to do
// — the generation was deleted, canceled or finished — and an error only when
// River should try again.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	s := w.svc
	g, err := s.load(ctx, s.db, job.Args.GenerationID)
	if err != nil || g == nil || g.Status.Terminal() {
		return err
	}
	if job.Attempt > maxAttempts {
		// Every run so far ended with its process: this one would too.
		s.log.ErrorContext(ctx, "generation stopped its process at every attempt", "generation", g.ID, "attempts", maxAttempts)
		return w.finishFailed(ctx, g, CodeInternal, "Speaking this text stopped the server at every try; it is not tried again.")
	}
	v, err := s.voices.Get(ctx, g.VoiceID)
	if err != nil {
		return w.fail(ctx, job, g, err)
	}
	engine, ok := s.voices.Engine(v)
	if !ok {
		return w.finishFailed(ctx, g, CodeVoiceUnavailable, "The voice's speech engine is not available on this server any more.")
	}
	// The owner's pronunciation entries first, as stored with the
	// generation; the language front end and the chunker see the result.
	text, err := s.spoken(g)
	if err != nil {
		s.log.ErrorContext(ctx, "apply lexicon", "generation", g.ID, "err", err)
		return w.finishFailed(ctx, g, CodeInternal, "The generation's pronunciation entries could not be read.")
	}
	chunks := tts.Split(text, ChunkRunes(text))
	now := s.now()
	res, err := s.db.NewUpdate().Table("generations").
		Set("status = ?", StatusRunning).Set("started_at = COALESCE(started_at, ?)", now).Set("chunks_total = ?", len(chunks)).
		Where("id = ? AND status IN (?, ?)", g.ID, StatusQueued, StatusRunning).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // canceled or deleted meanwhile
	}
	if g.StartedAt == nil {
		g.StartedAt = &now
	}
	g.Status, g.ChunksTotal = StatusRunning, len(chunks)
	s.publish(ctx, g)

	key, enc, err := w.speak(ctx, g, engine, v.EngineVoiceID, chunks)
	if err != nil {
		return w.fail(ctx, job, g, err)
	}
	return w.finishSucceeded(ctx, g, key, enc)
}

var (
	errEncode = errors.New("encode")
	errStore  = errors.New("store audio")
)

// speak speaks the chunks in parallel through the process-wide slots into
// one encoder that writes straight to the bucket, recording and publishing
// progress as each chunk is spoken. Chunks leave in order (tts.Speak), so
// memory stays flat however long the audio; past the generation's cap the
// engines are stopped with tts.ErrOutputTooLong. On any failure the upload
// is aborted: nothing is stored.
func (w *Worker) speak(ctx context.Context, g *Generation, engine tts.Synthesizer, voiceID string, chunks []string) (string, tts.Encoded, error) {
	// Cancelled before the blob writer closes, on failure: the write is
	// then dropped (gocloud.dev/blob).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	contentType, ext := tts.FileType(g.Format)
	key := "audio/" + g.ID + "." + ext
	file, err := w.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return "", tts.Encoded{}, fmt.Errorf("%w: %w: %w", errStore, tts.ErrTransient, err)
	}
	enc, err := w.svc.encoder.Stream(ctx, g.Format, storeWriter{file})
	if err != nil {
		cancel()
		_ = file.Close()
		return "", tts.Encoded{}, fmt.Errorf("%w: %w", errEncode, err)
	}
	var limit time.Duration
	if g.MaxAudioSeconds != nil {
		limit = time.Duration(*g.MaxAudioSeconds) * time.Second
	}
	// A retried job speaks every chunk again: count from zero, or progress
	// would pass 1 (advance keeps the stored progress from going back).
	g.ChunksDone = 0
	spoken := make(chan struct{}, len(chunks))
	progressed := make(chan struct{})
	go func() {
		defer close(progressed)
		for range spoken {
			g.ChunksDone++
			// The last step, finishing and storing the file, is the +1:
			// 100% means done.
			w.advance(ctx, g, float64(g.ChunksDone)/float64(g.ChunksTotal+1))
		}
	}()
	err = tts.Speak(ctx, engine, voiceID, chunks, tts.Params{Speed: g.Speed, Pitch: g.Pitch}, enc, tts.SpeakOptions{
		MaxDuration: limit,
		Acquire:     tts.Slots(w.slots),
		Spoken:      func(int) { spoken <- struct{}{} },
	})
	close(spoken)
	<-progressed
	var info tts.Encoded
	if err == nil {
		if info, err = enc.Close(); err != nil && !errors.Is(err, errStore) {
			err = fmt.Errorf("%w: %w", errEncode, err)
		}
	} else {
		enc.Abort()
	}
	if err != nil {
		cancel()
		_ = file.Close()
		return "", tts.Encoded{}, err
	}
	if err := file.Close(); err != nil {
		return "", tts.Encoded{}, fmt.Errorf("%w: %w: %w", errStore, tts.ErrTransient, err)
	}
	return key, info, nil
}

// storeWriter marks the bucket's write errors, which a retry may get past,
// apart from the encoder's own.
type storeWriter struct{ w io.Writer }

func (s storeWriter) Write(b []byte) (int, error) {
	n, err := s.w.Write(b)
	if err != nil {
		err = fmt.Errorf("%w: %w: %w", errStore, tts.ErrTransient, err)
	}
	return n, err
}

// advance records progress if it is higher than what is stored (a retried
// job starts its chunks again, but progress never goes back) and publishes it.
func (w *Worker) advance(ctx context.Context, g *Generation, progress float64) {
	s := w.svc
	res, err := s.db.NewUpdate().Table("generations").Set("progress = ?", progress).Set("chunks_done = ?", g.ChunksDone).
		Where("id = ? AND status = ? AND progress < ?", g.ID, StatusRunning, progress).Exec(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "record progress", "generation", g.ID, "err", err)
		return
	}
	if n, _ := res.RowsAffected(); n == 1 {
		g.Progress = progress
		s.publish(ctx, g)
	}
}

func (w *Worker) finishSucceeded(ctx context.Context, g *Generation, key string, enc tts.Encoded) error {
	s := w.svc
	now := s.now()
	size := enc.Bytes
	succeeded := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Table("generations").
			Set("status = ?", StatusSucceeded).Set("progress = 1").Set("chunks_done = chunks_total").Set("finished_at = ?", now).
			Set("audio_key = ?", key).Set("audio_content_type = ?", enc.ContentType).Set("audio_bytes = ?", size).
			Set("audio_duration_ms = ?", enc.DurationMs).Set("audio_sample_rate = ?", enc.SampleRate).
			Where("id = ? AND status = ?", g.ID, StatusRunning).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		succeeded = true
		if err := events.Record(ctx, tx, events.KindGenerationSucceeded+":"+g.ID, events.KindGenerationSucceeded, g.OwnerID,
			map[string]any{"generationId": g.ID, "characters": g.Characters, "voiceId": g.VoiceID}); err != nil {
			return err
		}
		if s.quota == nil {
			return nil
		}
		return s.quota.Settle(ctx, tx, g.ID)
	})
	if err != nil {
		return err
	}
	if !succeeded {
		// Canceled or deleted while we worked: nobody will fetch this file.
		if err := w.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			s.log.WarnContext(ctx, "delete audio of canceled generation", "generation", g.ID, "err", err)
		}
		return nil
	}
	metrics.CharactersGenerated.Add(float64(g.Characters))
	metrics.GenerationsFinished.WithLabelValues(string(StatusSucceeded)).Inc()
	g.Status, g.Progress, g.ChunksDone, g.FinishedAt = StatusSucceeded, 1, g.ChunksTotal, &now
	g.AudioKey, g.AudioContentType, g.AudioBytes, g.AudioDurationMs, g.AudioSampleRate = &key, &enc.ContentType, &size, &enc.DurationMs, &enc.SampleRate
	s.publish(ctx, g)
	return nil
}

// fail decides what an error means: nothing when the generation was canceled
// or deleted meanwhile, a snooze on shutdown, a retry with River's backoff for
// transient failures and timeouts, and FAILED otherwise or when the attempts
// are used up.
func (w *Worker) fail(ctx context.Context, job *river.Job[Args], g *Generation, cause error) error {
	s := w.svc
	detached := context.WithoutCancel(ctx)
	current, err := s.load(detached, s.db, g.ID)
	if err != nil {
		return err
	}
	if current == nil || current.Status.Terminal() {
		return nil
	}
	code, message := CodeEngineFailed, "The speech engine could not speak this text."
	retry := errors.Is(cause, tts.ErrTransient)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		code, message, retry = CodeTimeout, "Speaking this text took too long.", true
	case ctx.Err() != nil:
		// The process is shutting down: run again soon, on this replica
		// after a restart or on another, without spending an attempt.
		return river.JobSnooze(time.Second)
	case errors.Is(cause, tts.ErrOutputTooLong):
		code, message, retry = CodeOutputTooLong, tooLongMessage(g, cause), false
	case errors.Is(cause, errEncode):
		code, message = CodeEncoderFailed, "The audio could not be encoded in the format asked for."
	case errors.Is(cause, tts.ErrUnknownVoice):
		code, message = CodeVoiceUnavailable, "The voice is not available from its engine any more."
	}
	s.log.WarnContext(ctx, "generation attempt failed", "generation", g.ID, "attempt", job.Attempt, "code", code, "retry", retry, "err", cause)
	if retry && job.Attempt < maxAttempts {
		return cause
	}
	if err := w.finishFailed(detached, g, code, message); err != nil {
		return err
	}
	return river.JobCancel(cause)
}

// tooLongMessage says which limit the audio ran past, and what to do.
func tooLongMessage(g *Generation, cause error) string {
	if errors.Is(cause, errEncode) {
		return "The audio is longer than a WAV file can hold (4 GiB). Choose MP3 or OGG_OPUS, or split the text."
	}
	limit := 0
	if g.MaxAudioSeconds != nil {
		limit = *g.MaxAudioSeconds
	}
	return fmt.Sprintf("The audio ran past %d seconds, the longest this generation may make (your plan's limit per generation, "+
		"and %d second per character of text with at least %d seconds). It was stopped there and nothing is charged: "+
		"shorten the text or raise the speed.", limit, AudioSecondsPerCharacter, MinAudioSeconds)
}

func (w *Worker) finishFailed(ctx context.Context, g *Generation, code, message string) error {
	s := w.svc
	now := s.now()
	failed := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Table("generations").
			Set("status = ?", StatusFailed).Set("finished_at = ?", now).Set("error_code = ?", code).Set("error_message = ?", message).
			Where("id = ? AND status IN (?, ?)", g.ID, StatusQueued, StatusRunning).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		failed = true
		if err := events.Record(ctx, tx, events.KindGenerationFailed+":"+g.ID, events.KindGenerationFailed, g.OwnerID,
			map[string]any{"generationId": g.ID, "reason": message}); err != nil {
			return err
		}
		return s.release(ctx, tx, g.ID)
	})
	if err != nil {
		return err
	}
	if failed {
		metrics.GenerationsFinished.WithLabelValues(string(StatusFailed)).Inc()
		g.Status, g.FinishedAt, g.ErrorCode, g.ErrorMessage = StatusFailed, &now, &code, &message
		s.publish(ctx, g)
	}
	return nil
}

// DeleteAudioWorker deletes the audio of deleted generations.
type DeleteAudioWorker struct {
	river.WorkerDefaults[DeleteAudioArgs]
	bucket *blob.Bucket
}

// NewDeleteAudioWorker returns the worker that deletes audio from bucket.
func NewDeleteAudioWorker(bucket *blob.Bucket) *DeleteAudioWorker {
	return &DeleteAudioWorker{bucket: bucket}
}

// Work deletes one file; a file already gone is fine.
func (w *DeleteAudioWorker) Work(ctx context.Context, job *river.Job[DeleteAudioArgs]) error {
	if err := w.bucket.Delete(ctx, job.Args.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return err
	}
	return nil
}
