package generation

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/metrics"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/tts"
	"github.com/koe-voice/koe/internal/voice"
)

// idempotencyKey remembers the generation a key made, for idempotencyWindow.
type idempotencyKey struct {
	bun.BaseModel `bun:"table:idempotency_keys"`

	OwnerID      string    `bun:"owner_id,pk"`
	Key          string    `bun:"key,pk"`
	GenerationID string    `bun:"generation_id,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	// InputHash is inputHash of the input the key was first used with; nil
	// for keys recorded before it was kept, which match any input.
	InputHash *string `bun:"input_hash"`
}

// inputHash identifies a validated input (what a generation is made from),
// so a key used again with another input is told apart from a retry.
func inputHash(voiceID, text string, format tts.Format, speed, pitch float64) string {
	b, _ := json.Marshal([]any{voiceID, text, format, speed, pitch})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// errKeyReused answers an idempotency key used again with another input.
var errKeyReused = &apperror.Error{Code: apperror.Conflict, Field: "input.idempotencyKey",
	Message: "this idempotency key was used in the last 24 hours with another input; use a new key for a new generation"}

// idempotencyWindow is how long an idempotency key returns its first
// generation.
const idempotencyWindow = 24 * time.Hour

// Voices is what generation needs of the voice catalog.
type Voices interface {
	// Get returns a voice; NOT_FOUND when there is none.
	Get(ctx context.Context, id string) (*voice.Voice, error)
	// Engine returns the synthesizer that speaks a voice.
	Engine(v *voice.Voice) (tts.Synthesizer, bool)
}

// Jobs is what generation needs of River: inserting jobs inside our
// transactions and canceling them. *river.Client[*sql.Tx] satisfies it on
// SQLite and PostgreSQL alike.
type Jobs interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
}

// Encoder turns PCM into the file formats of the API.
type Encoder interface {
	// Available is nil when format can be produced, else says what is missing.
	Available(format tts.Format) error
	// Stream starts a file of format written to out as it is encoded.
	Stream(ctx context.Context, format tts.Format, out io.Writer) (*tts.Encoding, error)
}

// PlanLimits are what a principal's plan allows of generations.
type PlanLimits struct {
	// Concurrent is how many may be queued or running at once.
	Concurrent int
	// MaxCharacters is the longest text of one.
	MaxCharacters int
	// MaxAudioSeconds is the longest audio of one; 0: no plan cap.
	MaxAudioSeconds int
}

// LimitsFunc returns a principal's plan limits; unlimited for operators.
type LimitsFunc func(ctx context.Context, p auth.Principal) (limits PlanLimits, unlimited bool, err error)

// Quota is what generation needs of the usage ledger. Each call runs inside
// the transaction of the state change it belongs to, and is idempotent.
type Quota interface {
	// Reserve holds characters for a new generation; QUOTA_EXCEEDED when
	// the owner's period has no room for them.
	Reserve(ctx context.Context, tx bun.Tx, userID, generationID string, characters int) error
	// Settle turns the reservation into use when the generation succeeds.
	Settle(ctx context.Context, tx bun.Tx, generationID string) error
	// Release gives the reservation back when it fails, is canceled or deleted.
	Release(ctx context.Context, tx bun.Tx, generationID string) error
}

// Lexicon is what generation needs of people's pronunciation lexicons. The
// entries a generation speaks with are chosen when it is created and
// stored with it, opaque to generation, so a queued job or a retry says
// what was asked for even after the owner edits their lexicon.
type Lexicon interface {
	// Choose returns the owner's entries that change text spoken in
	// language (a voice's BCP 47 tag), encoded to be stored; "" for none.
	Choose(ctx context.Context, ownerID, language, text string) (string, error)
	// Apply returns text with the entries Choose returned applied.
	Apply(text, chosen string) (string, error)
}

// Service creates and manages generations.
type Service struct {
	db           *store.DB
	voices       Voices
	encoder      Encoder
	jobs         Jobs
	bus          events.Bus
	log          *slog.Logger
	maxTextChars int
	limits       LimitsFunc
	quota        Quota
	lexicon      Lexicon
	queued       func()
	now          func() time.Time
}

// Config is what NewService needs.
type Config struct {
	DB      *store.DB
	Voices  Voices
	Encoder Encoder
	Bus     events.Bus
	Log     *slog.Logger
	// MaxTextChars is the longest text a generation may have.
	MaxTextChars int
	// Limits are the plan limits of a principal.
	Limits LimitsFunc
	// Quota reserves, settles and releases characters.
	Quota Quota
	// Lexicon chooses and applies the owner's pronunciation entries; nil:
	// text is spoken as written.
	Lexicon Lexicon
	// Queued, when set, is called once a transaction that queued a
	// generation's job has committed (riverwake.Driver.Wake on SQLite).
	Queued func()
}

// NewService returns the generation service.
func NewService(c Config) *Service {
	return &Service{
		db: c.DB, voices: c.Voices, encoder: c.Encoder, bus: c.Bus, log: c.Log,
		maxTextChars: c.MaxTextChars, limits: c.Limits, quota: c.Quota, lexicon: c.Lexicon, queued: c.Queued, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
}

// SetJobs gives the service its River client. It must be called before the
// first Create: it breaks the construction cycle between the service and the
// River client whose workers need the service.
func (s *Service) SetJobs(jobs Jobs) { s.jobs = jobs }

// CreateInput is what to speak and how.
type CreateInput struct {
	VoiceID        string
	Text           string
	Format         tts.Format
	Speed          float64
	Pitch          float64
	IdempotencyKey *string
}

// limitsOf returns the plan limits of p; no limits when none are configured.
func (s *Service) limitsOf(ctx context.Context, p auth.Principal) (PlanLimits, bool, error) {
	if s.limits == nil {
		return PlanLimits{}, true, nil
	}
	return s.limits(ctx, p)
}

func (s *Service) validate(ctx context.Context, lim PlanLimits, unlimited bool, in *CreateInput) error {
	// NUL cannot be stored in PostgreSQL text and would end espeak-ng's
	// input early; it carries nothing to speak, so it is dropped.
	in.Text = strings.ReplaceAll(in.Text, "\x00", "")
	if strings.TrimSpace(in.Text) == "" {
		return apperror.Invalid("input.text", "must not be empty")
	}
	if n := tts.CountCharacters(in.Text); n > s.maxTextChars {
		return apperror.Invalid("input.text", "is %d characters long; the limit is %d", n, s.maxTextChars)
	}
	if n := tts.CountCharacters(in.Text); !unlimited && n > lim.MaxCharacters {
		return apperror.Invalid("input.text", "is %d characters long; your plan allows %d per generation", n, lim.MaxCharacters)
	}
	if math.IsNaN(in.Speed) || in.Speed < 0.5 || in.Speed > 2 {
		return apperror.Invalid("input.speed", "must be between 0.5 and 2.0, got %g", in.Speed)
	}
	if math.IsNaN(in.Pitch) || in.Pitch < -12 || in.Pitch > 12 {
		return apperror.Invalid("input.pitch", "must be between -12 and 12 semitones, got %g", in.Pitch)
	}
	if err := s.encoder.Available(in.Format); err != nil {
		s.log.WarnContext(ctx, "format asked for but not available", "format", in.Format, "err", err)
		return apperror.Invalid("input.format", "%s is not available on this server", in.Format)
	}
	if k := in.IdempotencyKey; k != nil && (*k == "" || utf8.RuneCountInString(*k) > 255) {
		return apperror.Invalid("input.idempotencyKey", "must be 1 to 255 characters")
	}
	v, err := s.voices.Get(ctx, in.VoiceID)
	if apperror.CodeOf(err) == apperror.NotFound {
		return apperror.Invalid("input.voiceId", "there is no voice %q", in.VoiceID)
	}
	if err != nil {
		return err
	}
	if !v.Usable() {
		return apperror.Invalid("input.voiceId", "the voice %q is disabled", in.VoiceID)
	}
	if _, ok := s.voices.Engine(v); !ok {
		return apperror.Invalid("input.voiceId", "the engine of voice %q is not configured on this server", in.VoiceID)
	}
	return nil
}

// Create validates the input and queues a generation: the row, the
// idempotency key and the River job are written in one transaction. The same
// idempotency key from the same user within 24 hours returns the first
// generation instead.
func (s *Service) Create(ctx context.Context, p auth.Principal, in CreateInput) (*Generation, error) {
	lim, unlimited, err := s.limitsOf(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.validate(ctx, lim, unlimited, &in); err != nil {
		return nil, err
	}
	hash := inputHash(in.VoiceID, in.Text, in.Format, in.Speed, in.Pitch)
	if in.IdempotencyKey != nil {
		if g, err := s.byIdempotencyKey(ctx, p.UserID, *in.IdempotencyKey, hash); err != nil || g != nil {
			return g, err
		}
	}
	lexicon, err := s.chooseLexicon(ctx, p.UserID, in)
	if err != nil {
		return nil, err
	}
	g := &Generation{
		ID: gid.New(gid.Generation), OwnerID: p.UserID, VoiceID: in.VoiceID, Text: in.Text,
		Characters: tts.CountCharacters(in.Text), Format: in.Format, Speed: in.Speed, Pitch: in.Pitch,
		Status: StatusQueued, Lexicon: lexicon, CreatedAt: s.now(),
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.admit(ctx, tx, lim, unlimited, g); err != nil {
			return err
		}
		return s.insert(ctx, tx, g, in.IdempotencyKey)
	})
	if err != nil && in.IdempotencyKey != nil && store.IsUniqueViolation(err) {
		// Another request with the same key won the race: answer its
		// generation (or CONFLICT, when its input was another).
		if first, err2 := s.byIdempotencyKey(ctx, p.UserID, *in.IdempotencyKey, hash); err2 != nil || first != nil {
			return first, err2
		}
	}
	if _, ok := apperror.As(err); ok {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("create generation: %w", err)
	}
	s.wake()
	s.publish(ctx, g)
	return g, nil
}

// maxSpokenFactor bounds how much a lexicon may lengthen a text: what is
// spoken is at most this many times the longest text, so a job's memory
// does not grow with its owner's aliases.
const maxSpokenFactor = 2

// chooseLexicon returns the owner's lexicon entries a generation of in
// speaks with, nil when none applies; BAD_USER_INPUT on input.text when
// they would make the text past maxSpokenFactor times the longest. It runs
// before the transaction, as limitsOf does.
func (s *Service) chooseLexicon(ctx context.Context, ownerID string, in CreateInput) (*string, error) {
	if s.lexicon == nil {
		return nil, nil
	}
	v, err := s.voices.Get(ctx, in.VoiceID)
	if err != nil {
		return nil, err
	}
	chosen, err := s.lexicon.Choose(ctx, ownerID, v.Language, in.Text)
	if err != nil || chosen == "" {
		return nil, err
	}
	spoken, err := s.lexicon.Apply(in.Text, chosen)
	if err != nil {
		return nil, err
	}
	if n, most := tts.CountCharacters(spoken), maxSpokenFactor*s.maxTextChars; n > most {
		return nil, apperror.Invalid("input.text", "is %d characters long with your pronunciation lexicon applied; the limit is %d", n, most)
	}
	return &chosen, nil
}

// spoken is the text g's engine is given: its text with the lexicon
// entries stored with it applied.
func (s *Service) spoken(g *Generation) (string, error) {
	if g.Lexicon == nil || s.lexicon == nil {
		return g.Text, nil
	}
	return s.lexicon.Apply(g.Text, *g.Lexicon)
}

// admit checks, inside the transaction that would insert g, that the
// principal has room for it: fewer than their plan's number queued or
// running (RATE_LIMITED), and its characters in their quota (QUOTA_EXCEEDED,
// which also reserves them). On PostgreSQL the user's row is locked first, so
// two requests at once cannot both see room for one.
//
// The limits are looked up before the transaction: on SQLite a transaction
// holds the only connection, so nothing inside it may query outside it.
func (s *Service) admit(ctx context.Context, tx bun.Tx, lim PlanLimits, unlimited bool, g *Generation) error {
	// The audio cap is fixed now: a plan changed while the job runs does
	// not change it, and the worker needs no plan.
	g.MaxAudioSeconds = audioCap(lim, unlimited, g.Characters)
	if !unlimited {
		if s.db.Postgres() {
			if _, err := tx.NewRaw("SELECT 1 FROM users WHERE id = ? FOR UPDATE", g.OwnerID).Exec(ctx); err != nil {
				return err
			}
		}
		going, err := tx.NewSelect().Model((*Generation)(nil)).
			Where("owner_id = ? AND status IN (?, ?)", g.OwnerID, StatusQueued, StatusRunning).Count(ctx)
		if err != nil {
			return err
		}
		if int(going) >= lim.Concurrent {
			return &apperror.Error{Code: apperror.RateLimited, RetryAfter: 5 * time.Second,
				Message: fmt.Sprintf("your plan runs %d generations at once; wait for one to finish or cancel one", lim.Concurrent)}
		}
	}
	if s.quota == nil {
		return nil
	}
	return s.quota.Reserve(ctx, tx, g.OwnerID, g.ID, g.Characters)
}

// insert writes a queued generation, its idempotency key (with the hash of
// its input) and its job in tx.
func (s *Service) insert(ctx context.Context, tx bun.Tx, g *Generation, key *string) error {
	if key != nil {
		// An expired key is replaced: it starts a new 24-hour window.
		if _, err := tx.NewDelete().Table("idempotency_keys").Where("owner_id = ? AND key = ? AND created_at < ?",
			g.OwnerID, *key, g.CreatedAt.Add(-idempotencyWindow)).Exec(ctx); err != nil {
			return err
		}
		hash := inputHash(g.VoiceID, g.Text, g.Format, g.Speed, g.Pitch)
		if _, err := tx.NewInsert().Model(&idempotencyKey{OwnerID: g.OwnerID, Key: *key, GenerationID: g.ID, CreatedAt: g.CreatedAt, InputHash: &hash}).Exec(ctx); err != nil {
			return err
		}
	}
	res, err := s.jobs.InsertTx(ctx, tx.Tx, Args{GenerationID: g.ID}, nil)
	if err != nil {
		return err
	}
	g.JobID = &res.Job.ID
	_, err = tx.NewInsert().Model(g).Exec(ctx)
	return err
}

// byIdempotencyKey returns the generation the owner's key made in the last
// idempotencyWindow, nil when none did, and CONFLICT naming the key when it
// was made from an input other than the one of hash.
func (s *Service) byIdempotencyKey(ctx context.Context, ownerID, key, hash string) (*Generation, error) {
	var keys []*idempotencyKey
	err := s.db.NewSelect().Model(&keys).Where("owner_id = ? AND key = ? AND created_at >= ?", ownerID, key, s.now().Add(-idempotencyWindow)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	if k := keys[0]; k.InputHash != nil && *k.InputHash != hash {
		return nil, errKeyReused
	}
	g, err := s.load(ctx, s.db, keys[0].GenerationID)
	if err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	return g, nil
}

// Get returns a generation the principal may see, or nil.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (*Generation, error) {
	if !gid.Is(id, gid.Generation) {
		return nil, apperror.Invalid("id", "is not a generation id")
	}
	g, err := s.load(ctx, s.db, id)
	if err != nil || g == nil || !p.CanSee(g.OwnerID) {
		return nil, err
	}
	return g, nil
}

func (s *Service) load(ctx context.Context, db bun.IDB, id string) (*Generation, error) {
	g := new(Generation)
	if err := db.NewSelect().Model(g).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("load generation: %w", err)
	}
	return g, nil
}

// mustGet is Get with NOT_FOUND instead of nil, for mutations.
func (s *Service) mustGet(ctx context.Context, p auth.Principal, id string) (*Generation, error) {
	g, err := s.Get(ctx, p, id)
	if err == nil && g == nil {
		err = apperror.New(apperror.NotFound, "no generation %s", id)
	}
	return g, err
}

// List returns the principal's generations, newest first, optionally of one
// status.
func (s *Service) List(ctx context.Context, p auth.Principal, status *Status, req page.Request) (page.Page[*Generation], error) {
	gens, err := page.Newest[*Generation](ctx, s.db.Read, req, func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("owner_id = ?", p.UserID)
		if status != nil {
			q = q.Where("status = ?", *status)
		}
		return q
	})
	if err != nil {
		return gens, fmt.Errorf("generations: %w", err)
	}
	return gens, nil
}

// Cursor is the page cursor of g in List's order.
func Cursor(g *Generation) string { return page.Cursor(page.TimeKey(g.CreatedAt), g.ID) }

// Cancel stops a queued or running generation. A running one stops within a
// second: its worker hears the event and kills its engine processes. A
// finished one answers CONFLICT.
func (s *Service) Cancel(ctx context.Context, p auth.Principal, id string) (*Generation, error) {
	g, err := s.mustGet(ctx, p, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	canceled := false
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Table("generations").
			Set("status = ?", StatusCanceled).Set("finished_at = ?", now).
			Where("id = ? AND status IN (?)", id, bun.In([]Status{StatusQueued, StatusRunning})).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		canceled = true
		// What subscribers are told is the row as canceled, with the
		// progress the worker had made by then: the copy read before may
		// be behind it, and progress never goes back.
		if g, err = s.load(ctx, tx, id); err != nil {
			return err
		}
		return s.release(ctx, tx, id)
	})
	if err != nil {
		return nil, fmt.Errorf("cancel generation: %w", err)
	}
	if !canceled {
		if g, err = s.load(ctx, s.db, id); err != nil || g == nil {
			return nil, apperror.New(apperror.NotFound, "no generation %s", id)
		}
		return nil, apperror.New(apperror.Conflict, "the generation is already %s", strings.ToLower(string(g.Status)))
	}
	metrics.GenerationsFinished.WithLabelValues(string(StatusCanceled)).Inc()
	s.publish(ctx, g)
	s.cancelJob(ctx, g)
	return g, nil
}

// cancelJob cancels g's River job. The worker checks the row anyway; this
// only saves a queued job a fetch.
func (s *Service) cancelJob(ctx context.Context, g *Generation) {
	if g.JobID == nil {
		return
	}
	if _, err := s.jobs.JobCancel(ctx, *g.JobID); err != nil && !errors.Is(err, river.ErrNotFound) {
		s.log.WarnContext(ctx, "cancel job", "generation", g.ID, "err", err)
	}
}

// Retry queues a new generation with the input of a failed or canceled one
// and returns it.
func (s *Service) Retry(ctx context.Context, p auth.Principal, id string) (*Generation, error) {
	old, err := s.mustGet(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if old.Status != StatusFailed && old.Status != StatusCanceled {
		return nil, apperror.New(apperror.Conflict, "only failed or canceled generations can be retried; this one is %s", strings.ToLower(string(old.Status)))
	}
	in := CreateInput{VoiceID: old.VoiceID, Text: old.Text, Format: old.Format, Speed: old.Speed, Pitch: old.Pitch}
	lim, unlimited, err := s.limitsOf(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.validate(ctx, lim, unlimited, &in); err != nil {
		return nil, err
	}
	g := &Generation{
		ID: gid.New(gid.Generation), OwnerID: old.OwnerID, VoiceID: old.VoiceID, Text: old.Text, Characters: old.Characters,
		Format: old.Format, Speed: old.Speed, Pitch: old.Pitch, Status: StatusQueued, RetryOf: &old.ID, CreatedAt: s.now(),
		Lexicon: old.Lexicon, // says what the first one said, whatever the lexicon holds now
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.admit(ctx, tx, lim, unlimited, g); err != nil {
			return err
		}
		return s.insert(ctx, tx, g, nil)
	})
	if _, ok := apperror.As(err); ok {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("retry generation: %w", err)
	}
	s.wake()
	s.publish(ctx, g)
	return g, nil
}

// wake tells the job queue that a committed transaction queued a job.
func (s *Service) wake() {
	if s.queued != nil {
		s.queued()
	}
}

// Delete removes a generation and, through a job in the same transaction, its
// audio. A generation still going is canceled first.
func (s *Service) Delete(ctx context.Context, p auth.Principal, id string) error {
	g, err := s.mustGet(ctx, p, id)
	if err != nil {
		return err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Table("idempotency_keys").Where("generation_id = ?", id).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Table("generations").Where("id = ?", id).Exec(ctx); err != nil {
			return err
		}
		if err := s.release(ctx, tx, id); err != nil {
			return err
		}
		if g.AudioKey != nil {
			if _, err := s.jobs.InsertTx(ctx, tx.Tx, DeleteAudioArgs{Key: *g.AudioKey}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete generation: %w", err)
	}
	if !g.Status.Terminal() {
		// Tell a worker that may be running it to stop; it finds no row to
		// finish and drops its audio.
		g.Status = StatusCanceled
		s.publish(ctx, g)
		s.cancelJob(ctx, g)
	}
	return nil
}

// release gives a generation's reserved characters back, in tx; nothing
// when none are reserved (settled already, or released).
func (s *Service) release(ctx context.Context, tx bun.Tx, generationID string) error {
	if s.quota == nil {
		return nil
	}
	return s.quota.Release(ctx, tx, generationID)
}

// publish tells subscribers about g's current state. A lost event is not
// fatal: subscribers read the current state when they start.
func (s *Service) publish(ctx context.Context, g *Generation) {
	if err := Publish(ctx, s.bus, eventOf(g)); err != nil {
		s.log.WarnContext(ctx, "publish generation event", "generation", g.ID, "err", err)
	}
}

// Publish sends e on bus to the watchers of its generation and of its owner,
// as a worker does; the benchmarks publish through it from outside a server.
func Publish(ctx context.Context, bus events.Bus, e Event) error {
	b, _ := json.Marshal(e)
	return bus.Publish(ctx, b, generationTopic(e.GenerationID), ownerTopic(e.OwnerID))
}
