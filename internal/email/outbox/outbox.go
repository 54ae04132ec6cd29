// Package outbox sends Koe's email reliably: each message is a row written
// in the same transaction as its cause, with a River job that sends it,
// retries transient failures with backoff, marks permanent ones, and sends
// under a stable Message-ID (the idempotent send key) so a retry after a
// crash is recognised downstream as the same message. Broadcasts fan out
// into the same outbox in batches.
package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
	"golang.org/x/time/rate"

	"github.com/koe-voice/koe/internal/email"
	"github.com/koe-voice/koe/internal/metrics"
	"github.com/koe-voice/koe/internal/store"
)

// Queue is the River queue email is sent from.
const Queue = "email"

// States of an outbox row.
const (
	StatePending = "pending"
	// StateSending is a message a worker has claimed: a cancel no longer
	// stops it, and a worker that died with it sends it again (same ID).
	StateSending  = "sending"
	StateSent     = "sent"
	StateFailed   = "failed"
	StateCanceled = "canceled"
)

// Mail is a message to enqueue.
type Mail struct {
	// ID is the idempotent send key: enqueueing the same ID twice writes
	// one row, and the message is sent with it as its Message-ID.
	ID          string
	UserID      string
	Kind        string
	To          string
	ToName      string
	Subject     string
	Text        string
	HTML        string
	Unsubscribe string
	BroadcastID *string
	// SendAfter delays the message (broadcasts at the recipient's hour, a
	// digest to the end of its window).
	SendAfter time.Time
	// DigestCount is how many things a digest tells of; 0 for other mail.
	DigestCount int
}

type row struct {
	bun.BaseModel `bun:"table:email_outbox"`

	ID          string     `bun:"id,pk"`
	UserID      string     `bun:"user_id,notnull"`
	Kind        string     `bun:"kind,notnull"`
	To          string     `bun:"to_address,notnull"`
	ToName      string     `bun:"to_name,notnull"`
	Subject     string     `bun:"subject,notnull"`
	Text        string     `bun:"text_body,notnull"`
	HTML        string     `bun:"html_body,notnull"`
	Unsubscribe string     `bun:"unsubscribe_url,notnull"`
	BroadcastID *string    `bun:"broadcast_id"`
	State       string     `bun:"state,notnull"`
	LastError   *string    `bun:"last_error"`
	SendAfter   time.Time  `bun:"send_after,notnull"`
	DigestCount int        `bun:"digest_count,notnull"`
	CreatedAt   time.Time  `bun:"created_at,notnull"`
	SentAt      *time.Time `bun:"sent_at"`
}

// Jobs is what the outbox needs of River: jobs inserted in our
// transactions. *river.Client[*sql.Tx] satisfies it.
type Jobs interface {
	InsertManyTx(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// SendArgs is the River job that sends one outbox row.
type SendArgs struct {
	ID string `json:"id"`
}

// Kind names the job for River.
func (SendArgs) Kind() string { return "email_send" }

// InsertOpts keeps at most one live job per message, so a sweep may insert
// again without doubling anything.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled},
	}}
}

// maxAttempts with the retry policy below keeps a message trying for about
// a day before it is marked failed.
const maxAttempts = 30

// Outbox writes and sends email.
type Outbox struct {
	db      *store.DB
	jobs    Jobs
	sender  email.Sender
	limiter *rate.Limiter
	log     *slog.Logger
	now     func() time.Time
}

// New returns the outbox sending through sender at most perSecond messages
// a second from this process.
func New(db *store.DB, sender email.Sender, perSecond int, log *slog.Logger) *Outbox {
	return &Outbox{
		db: db, sender: sender, limiter: rate.NewLimiter(rate.Limit(perSecond), max(1, perSecond/10)), log: log,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
}

// SetJobs gives the outbox its River client, before the first Enqueue (it
// breaks the construction cycle with the River workers).
func (o *Outbox) SetJobs(jobs Jobs) { o.jobs = jobs }

// Enqueue writes mails and their send jobs in tx. Mails whose ID was
// enqueued before are skipped. A display name is kept only when
// email.SafeName keeps it.
func (o *Outbox) Enqueue(ctx context.Context, tx bun.Tx, mails ...Mail) error {
	if len(mails) == 0 {
		return nil
	}
	now := o.now()
	rows := make([]*row, len(mails))
	for i, m := range mails {
		after := m.SendAfter
		if after.IsZero() {
			after = now
		}
		rows[i] = &row{
			ID: m.ID, UserID: m.UserID, Kind: m.Kind, To: m.To, ToName: email.SafeName(m.ToName), Subject: m.Subject, Text: m.Text, HTML: m.HTML,
			Unsubscribe: m.Unsubscribe, BroadcastID: m.BroadcastID, State: StatePending, SendAfter: after, DigestCount: m.DigestCount, CreatedAt: now,
		}
	}
	var inserted []string
	if err := tx.NewInsert().Model(&rows).On("CONFLICT (id) DO NOTHING").Returning("id").Scan(ctx, &inserted); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("enqueue email: %w", err)
	}
	if len(inserted) == 0 {
		return nil
	}
	after := map[string]time.Time{}
	for _, r := range rows {
		after[r.ID] = r.SendAfter
	}
	params := make([]river.InsertManyParams, len(inserted))
	for i, id := range inserted {
		opts := SendArgs{}.InsertOpts()
		if t := after[id]; t.After(now) {
			opts.ScheduledAt = t
		}
		params[i] = river.InsertManyParams{Args: SendArgs{ID: id}, InsertOpts: &opts}
	}
	if _, err := o.jobs.InsertManyTx(ctx, tx.Tx, params); err != nil {
		return fmt.Errorf("enqueue email: %w", err)
	}
	return nil
}

// Queued is what Latest tells of a message.
type Queued struct {
	ID          string    `bun:"id"`
	Kind        string    `bun:"kind"`
	State       string    `bun:"state"`
	SendAfter   time.Time `bun:"send_after"`
	DigestCount int       `bun:"digest_count"`
}

// Latest returns the user's message of one of kinds that is (or was) due
// last, in any state, or nil: what a throttle needs to know.
func (o *Outbox) Latest(ctx context.Context, tx bun.Tx, userID string, kinds ...string) (*Queued, error) {
	var q []*Queued
	if err := tx.NewSelect().Table("email_outbox").Column("id", "kind", "state", "send_after", "digest_count").
		Where("user_id = ? AND kind IN (?)", userID, bun.In(kinds)).Order("send_after DESC").Limit(1).Scan(ctx, &q); err != nil {
		return nil, fmt.Errorf("latest email: %w", err)
	}
	if len(q) == 0 {
		return nil, nil
	}
	return q[0], nil
}

// Revise rewrites a message that is still pending (a digest that grew) and
// reports whether it did: once a worker has claimed it, it is sent as it
// was, and the caller queues another.
func (o *Outbox) Revise(ctx context.Context, tx bun.Tx, m Mail) (bool, error) {
	res, err := tx.NewUpdate().Table("email_outbox").
		Set("to_address = ?", m.To).Set("to_name = ?", email.SafeName(m.ToName)).Set("subject = ?", m.Subject).
		Set("text_body = ?", m.Text).Set("html_body = ?", m.HTML).Set("unsubscribe_url = ?", m.Unsubscribe).
		Set("digest_count = ?", m.DigestCount).
		Where("id = ? AND state = ?", m.ID, StatePending).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revise email: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SendWorker sends outbox rows.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	outbox *Outbox
}

// NewSendWorker returns the worker.
func NewSendWorker(o *Outbox) *SendWorker { return &SendWorker{outbox: o} }

// NextRetry waits 2^attempt seconds, at most ten minutes: a mail server
// that comes back is used again within minutes.
func (w *SendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	wait := time.Duration(1<<min(job.Attempt, 10)) * time.Second
	return time.Now().Add(min(wait, 10*time.Minute))
}

// Work sends one message: nothing when it was sent, failed or canceled
// already; a retry on transient failures; failed on permanent ones or when
// the attempts are used up.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	o := w.outbox
	r := new(row)
	if err := o.db.NewSelect().Model(r).Where("id = ?", job.Args.ID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	}
	if r.State != StatePending && r.State != StateSending {
		return nil
	}
	if err := o.limiter.Wait(ctx); err != nil {
		return err
	}
	// Claim it right before sending: a cancel from now on leaves it be, so
	// what is counted sent is exactly what was sent.
	res, err := o.db.NewUpdate().Table("email_outbox").Set("state = ?", StateSending).
		Where("id = ? AND state IN (?, ?)", r.ID, StatePending, StateSending).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // canceled meanwhile
	}
	// Read it again now that it is ours: a revision (Revise) that came
	// before the claim is sent, none can come after.
	if err := o.db.NewSelect().Model(r).WherePK().Scan(ctx); err != nil {
		return err
	}
	err = o.sender.Send(ctx, email.Message{
		ID: r.ID, To: r.To, ToName: r.ToName, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Unsubscribe: r.Unsubscribe,
	})
	switch {
	case err == nil:
		metrics.EmailsSent.WithLabelValues("sent").Inc()
		return o.finish(ctx, r, StateSent, nil)
	case errors.Is(err, email.ErrPermanent) || job.Attempt >= job.MaxAttempts:
		metrics.EmailsSent.WithLabelValues("failed").Inc()
		o.log.WarnContext(ctx, "email failed for good", "id", r.ID, "err", err)
		msg := err.Error()
		return o.finish(context.WithoutCancel(ctx), r, StateFailed, &msg)
	default:
		stopped, uerr := o.retryLater(context.WithoutCancel(ctx), r)
		if uerr != nil {
			o.log.WarnContext(ctx, "email back to pending", "id", r.ID, "err", uerr)
		}
		if stopped {
			return nil
		}
		metrics.EmailsSent.WithLabelValues("retry").Inc()
		o.log.InfoContext(ctx, "email will be tried again", "id", r.ID, "attempt", job.Attempt, "err", err)
		return err
	}
}

// retryLater puts a message whose attempt failed back to pending for the
// next one, so a cancel meanwhile still stops it. A message of a broadcast
// canceled while this attempt ran is stopped now instead (stopped is true):
// the cancel could not stop it then, and counts it now.
func (o *Outbox) retryLater(ctx context.Context, r *row) (stopped bool, err error) {
	err = o.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if r.BroadcastID != nil {
			res, err := tx.NewUpdate().Table("email_outbox").Set("state = ?", StateCanceled).
				Where("id = ? AND state = ?", r.ID, StateSending).
				Where("EXISTS (SELECT 1 FROM broadcasts WHERE id = ? AND status = ?)", *r.BroadcastID, BroadcastCanceled).Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				stopped = true
				_, err = tx.NewUpdate().Table("broadcasts").Set("canceled = canceled + 1").Where("id = ?", *r.BroadcastID).Exec(ctx)
				return err
			}
		}
		_, err := tx.NewUpdate().Table("email_outbox").Set("state = ?", StatePending).
			Where("id = ? AND state = ?", r.ID, StateSending).Exec(ctx)
		return err
	})
	return stopped, err
}

// finish records the outcome of a pending row once and counts it on its
// broadcast, completing the broadcast when nothing of it is pending.
func (o *Outbox) finish(ctx context.Context, r *row, state string, lastError *string) error {
	return o.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Table("email_outbox").Set("state = ?", state).Set("last_error = ?", lastError).
			Where("id = ? AND state IN (?, ?)", r.ID, StatePending, StateSending)
		if state == StateSent {
			q = q.Set("sent_at = ?", o.now())
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || r.BroadcastID == nil {
			return nil
		}
		column := "sent"
		if state == StateFailed {
			column = "failed"
		}
		if _, err := tx.NewUpdate().Table("broadcasts").Set(column+" = "+column+" + 1").Where("id = ?", *r.BroadcastID).Exec(ctx); err != nil {
			return err
		}
		return completeBroadcast(ctx, tx, *r.BroadcastID)
	})
}

// SweepArgs is the periodic River job that re-queues pending messages whose
// job is gone (discarded after a bug, deleted by hand): nothing waits forever.
type SweepArgs struct{}

// Kind names the job for River.
func (SweepArgs) Kind() string { return "email_sweep" }

// SweepWorker runs the sweep.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	outbox *Outbox
}

// NewSweepWorker returns the worker.
func NewSweepWorker(o *Outbox) *SweepWorker { return &SweepWorker{outbox: o} }

// Work inserts a send job for every pending row due more than five minutes
// ago; SendArgs' unique options skip rows whose job still lives.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	o := w.outbox
	var ids []string
	if err := o.db.NewSelect().Table("email_outbox").Column("id").
		Where("state IN (?, ?) AND send_after < ?", StatePending, StateSending, o.now().Add(-5*time.Minute)).Limit(10000).Scan(ctx, &ids); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: SendArgs{ID: id}}
	}
	return o.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := o.jobs.InsertManyTx(ctx, tx.Tx, params)
		return err
	})
}
