package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/email"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/page"
)

// Broadcast statuses; the values are the GraphQL enum's.
const (
	BroadcastScheduled = "SCHEDULED"
	BroadcastSending   = "SENDING"
	BroadcastSent      = "SENT"
	BroadcastCanceled  = "CANCELED"
)

// Broadcast is an email to many people.
type Broadcast struct {
	bun.BaseModel `bun:"table:broadcasts"`

	ID       string  `bun:"id,pk"`
	Subject  string  `bun:"subject,notnull"`
	TextBody string  `bun:"text_body,notnull"`
	HTMLBody *string `bun:"html_body"`
	// Translations are its versions in other languages.
	Translations     []Translation `bun:"translations,notnull"`
	PlanCodes        []string      `bun:"plan_codes,notnull"`
	SendAt           time.Time     `bun:"send_at,notnull"`
	OptimizeSendTime bool          `bun:"optimize_send_time,notnull"`
	Status           string        `bun:"status,notnull"`
	Recipients       int           `bun:"recipients,notnull"`
	Sent             int           `bun:"sent,notnull"`
	Failed           int           `bun:"failed,notnull"`
	// Canceled counts the messages that were not sent because the
	// broadcast was canceled.
	Canceled     int       `bun:"canceled,notnull"`
	FannedOut    bool      `bun:"fanned_out,notnull"`
	FanOutCursor string    `bun:"fan_out_cursor,notnull"`
	CreatedBy    string    `bun:"created_by,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
}

// Translation is a broadcast's words in one language.
type Translation struct {
	Locale   string  `json:"locale"`
	Subject  string  `json:"subject"`
	TextBody string  `json:"textBody"`
	HTMLBody *string `json:"htmlBody,omitempty"`
}

// In returns the broadcast's words for a person whose language is locale:
// its translation into it, or the broadcast as composed.
func (b *Broadcast) In(locale string) Translation {
	for _, t := range b.Translations {
		if t.Locale == locale {
			return t
		}
	}
	return Translation{Locale: locale, Subject: b.Subject, TextBody: b.TextBody, HTMLBody: b.HTMLBody}
}

// BroadcastInput is what an operator composes.
type BroadcastInput struct {
	Subject          string
	TextBody         string
	HTMLBody         *string
	Translations     []Translation
	PlanCodes        []string
	SendAt           *time.Time
	OptimizeSendTime bool
}

// Recipient is one person a broadcast reaches.
type Recipient struct {
	UserID string
	Email  string
	Name   string
	Locale string
	// UsualHour is the UTC hour the person usually uses Koe, -1 unknown.
	UsualHour int
}

// Composer renders a broadcast's message for one recipient.
type Composer func(b *Broadcast, r Recipient) (Mail, error)

// Broadcasts schedules, fans out and cancels broadcasts.
type Broadcasts struct {
	outbox  *Outbox
	compose Composer
	// batch is how many recipients one fan-out transaction takes.
	batch int
}

// NewBroadcasts returns the broadcast service on the outbox.
func NewBroadcasts(o *Outbox, compose Composer) *Broadcasts {
	return &Broadcasts{outbox: o, compose: compose, batch: 500}
}

// Create schedules a broadcast for sendAt (now when nil).
func (b *Broadcasts) Create(ctx context.Context, createdBy string, in BroadcastInput) (*Broadcast, error) {
	o := b.outbox
	base := Translation{Subject: in.Subject, TextBody: in.TextBody, HTMLBody: in.HTMLBody}
	if err := checkWords("input.", &base); err != nil {
		return nil, err
	}
	in.Subject = base.Subject
	seen := map[string]bool{}
	for i := range in.Translations {
		t := &in.Translations[i]
		at := fmt.Sprintf("input.translations[%d].", i)
		switch {
		case !slices.Contains(email.Locales, t.Locale):
			return nil, apperror.Invalid(at+"locale", "must be en or ja")
		case seen[t.Locale]:
			return nil, apperror.Invalid(at+"locale", "names a language given before")
		}
		seen[t.Locale] = true
		if err := checkWords(at, t); err != nil {
			return nil, err
		}
	}
	now := o.now()
	sendAt := now
	if in.SendAt != nil {
		if in.SendAt.Before(now.Add(-time.Minute)) {
			return nil, apperror.Invalid("input.sendAt", "is in the past")
		}
		sendAt = in.SendAt.UTC()
	}
	codes := in.PlanCodes
	if codes == nil {
		codes = []string{}
	}
	translations := in.Translations
	if translations == nil {
		translations = []Translation{}
	}
	if len(codes) > 0 {
		known, err := o.db.NewSelect().Table("plans").Where("code IN (?)", bun.In(codes)).Count(ctx)
		if err != nil {
			return nil, fmt.Errorf("create broadcast: %w", err)
		}
		if known != int64(len(codes)) {
			return nil, apperror.Invalid("input.planCodes", "names a plan that does not exist")
		}
	}
	bc := &Broadcast{
		ID: gid.New(gid.Broadcast), Subject: in.Subject, TextBody: in.TextBody, HTMLBody: in.HTMLBody, PlanCodes: codes,
		Translations: translations,
		SendAt:       sendAt, OptimizeSendTime: in.OptimizeSendTime, Status: BroadcastScheduled, CreatedBy: createdBy, CreatedAt: now,
	}
	if _, err := o.db.NewInsert().Model(bc).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create broadcast: %w", err)
	}
	return bc, nil
}

// checkWords checks one version of a broadcast, its fields under prefix
// ("input." or "input.translations[0]."), and trims its subject.
func checkWords(prefix string, t *Translation) error {
	t.Subject = strings.TrimSpace(t.Subject)
	switch {
	case t.Subject == "" || utf8.RuneCountInString(t.Subject) > 200:
		return apperror.Invalid(prefix+"subject", "must be 1 to 200 characters")
	case strings.TrimSpace(t.TextBody) == "" || len(t.TextBody) > 100_000:
		return apperror.Invalid(prefix+"textBody", "must not be empty and at most 100,000 bytes")
	case t.HTMLBody != nil && len(*t.HTMLBody) > 200_000:
		return apperror.Invalid(prefix+"htmlBody", "must be at most 200,000 bytes")
	}
	return nil
}

// Get returns a broadcast: NOT_FOUND when there is none.
func (b *Broadcasts) Get(ctx context.Context, id string) (*Broadcast, error) {
	bc := new(Broadcast)
	if err := b.outbox.db.NewSelect().Model(bc).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperror.New(apperror.NotFound, "no broadcast %s", id)
		}
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	return bc, nil
}

// Cancel stops a broadcast: what is not sent yet is not sent. A finished or
// canceled one answers CONFLICT.
func (b *Broadcasts) Cancel(ctx context.Context, id string) (*Broadcast, error) {
	if !gid.Is(id, gid.Broadcast) {
		return nil, apperror.Invalid("id", "is not a broadcast id")
	}
	err := b.outbox.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Table("broadcasts").Set("status = ?", BroadcastCanceled).
			Where("id = ? AND status IN (?, ?)", id, BroadcastScheduled, BroadcastSending).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotCancelable
		}
		res, err = tx.NewUpdate().Table("email_outbox").Set("state = ?", StateCanceled).
			Where("broadcast_id = ? AND state = ?", id, StatePending).Exec(ctx)
		if err != nil {
			return err
		}
		stopped, _ := res.RowsAffected()
		_, err = tx.NewUpdate().Table("broadcasts").Set("canceled = ?", stopped).Where("id = ?", id).Exec(ctx)
		return err
	})
	if errors.Is(err, errNotCancelable) {
		bc, gerr := b.Get(ctx, id)
		if gerr != nil {
			return nil, gerr
		}
		return nil, apperror.New(apperror.Conflict, "the broadcast is already %s", strings.ToLower(bc.Status))
	}
	if err != nil {
		return nil, fmt.Errorf("cancel broadcast: %w", err)
	}
	return b.Get(ctx, id)
}

var errNotCancelable = errors.New("not cancelable")

// List returns broadcasts newest first.
func (b *Broadcasts) List(ctx context.Context, req page.Request) (page.Page[*Broadcast], error) {
	list, err := page.Newest[*Broadcast](ctx, b.outbox.db.Read, req, func(q *bun.SelectQuery) *bun.SelectQuery { return q })
	if err != nil {
		return list, fmt.Errorf("broadcasts: %w", err)
	}
	return list, nil
}

// Cursor is the page cursor of a broadcast in List's order.
func Cursor(bc *Broadcast) string { return page.Cursor(page.TimeKey(bc.CreatedAt), bc.ID) }

// Release fans out every broadcast whose time has come, a batch of
// recipients per transaction, so a crash resumes from the last batch.
func (b *Broadcasts) Release(ctx context.Context) error {
	db := b.outbox.db
	var due []*Broadcast
	if err := db.NewSelect().Model(&due).Where("status IN (?, ?) AND NOT fanned_out AND send_at <= ?",
		BroadcastScheduled, BroadcastSending, b.outbox.now()).Scan(ctx); err != nil {
		return fmt.Errorf("release broadcasts: %w", err)
	}
	for _, bc := range due {
		for {
			done, err := b.fanOut(ctx, bc)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	return nil
}

// fanOut enqueues the next batch of a broadcast's recipients; done when
// there are no more.
func (b *Broadcasts) fanOut(ctx context.Context, bc *Broadcast) (done bool, err error) {
	o := b.outbox
	err = o.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Re-read under the transaction: a cancel may have happened. On
		// PostgreSQL the row is locked, so two releases at once (a slow
		// one overlapping the next) take turns: the second sees the first's
		// cursor instead of counting the same batch again. SQLite has one
		// writer anyway.
		q := tx.NewSelect().Model(bc).WherePK()
		if o.db.Postgres() {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return err
		}
		if bc.Status == BroadcastCanceled || bc.FannedOut {
			done = true
			return nil
		}
		recipients, err := b.recipients(ctx, tx, bc)
		if err != nil {
			return err
		}
		if len(recipients) == 0 {
			done = true
			if _, err := tx.NewUpdate().Table("broadcasts").Set("fanned_out = TRUE").Set("status = ?", BroadcastSending).
				Where("id = ?", bc.ID).Exec(ctx); err != nil {
				return err
			}
			return completeBroadcast(ctx, tx, bc.ID)
		}
		mails := make([]Mail, len(recipients))
		for i, r := range recipients {
			m, err := b.compose(bc, r)
			if err != nil {
				return err
			}
			m.ID = "bc-" + bc.ID + "-" + r.UserID
			m.UserID, m.Kind, m.BroadcastID = r.UserID, "broadcast", &bc.ID
			m.SendAfter = sendTime(bc.SendAt, bc.OptimizeSendTime, r.UsualHour)
			mails[i] = m
		}
		if err := o.Enqueue(ctx, tx, mails...); err != nil {
			return err
		}
		_, err = tx.NewUpdate().Table("broadcasts").Set("status = ?", BroadcastSending).
			Set("recipients = recipients + ?", len(recipients)).Set("fan_out_cursor = ?", recipients[len(recipients)-1].UserID).
			Where("id = ?", bc.ID).Exec(ctx)
		return err
	})
	return done, err
}

// sendTime is when one recipient gets a broadcast: at sendAt, or with
// optimizeSendTime at the first time from sendAt (within 24 hours) that is in
// the hour they usually use Koe.
func sendTime(sendAt time.Time, optimize bool, usualHour int) time.Time {
	if !optimize || usualHour < 0 {
		return sendAt
	}
	for k := range 24 {
		t := sendAt.Truncate(time.Hour).Add(time.Duration(k) * time.Hour)
		if t.Hour() == usualHour {
			if t.Before(sendAt) {
				return sendAt
			}
			return t
		}
	}
	return sendAt
}

// recipients returns the broadcast's next batch: people with a verified
// email who accept product news and are not disabled, on one of its plans
// (any plan when none are named), after the fan-out cursor, with their usual
// hour when it is asked for.
func (b *Broadcasts) recipients(ctx context.Context, tx bun.Tx, bc *Broadcast) ([]Recipient, error) {
	var rows []struct {
		ID     string  `bun:"id"`
		Email  string  `bun:"email"`
		Name   *string `bun:"display_name"`
		Locale string  `bun:"locale"`
	}
	q := tx.NewSelect().TableExpr("users AS u").Join("JOIN notification_preferences AS np ON np.user_id = u.id").
		ColumnExpr("u.id, u.email, u.display_name, u.locale").
		Where("u.email IS NOT NULL AND u.email_verified AND u.disabled_at IS NULL AND np.product_news AND u.id > ?", bc.FanOutCursor).OrderExpr("u.id").Limit(int64(b.batch))
	if len(bc.PlanCodes) > 0 {
		q = q.Where("u.plan_code IN (?)", bun.In(bc.PlanCodes))
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("broadcast recipients: %w", err)
	}
	out := make([]Recipient, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		out[i] = Recipient{UserID: r.ID, Email: r.Email, Locale: r.Locale, UsualHour: -1}
		if r.Name != nil {
			out[i].Name = *r.Name
		}
		ids[i] = r.ID
	}
	if !bc.OptimizeSendTime || len(rows) == 0 {
		return out, nil
	}
	hours, err := b.usualHours(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if h, ok := hours[out[i].UserID]; ok {
			out[i].UsualHour = h
		}
	}
	return out, nil
}

// usualHours is each person's most frequent UTC hour of creating
// generations in the last 90 days.
func (b *Broadcasts) usualHours(ctx context.Context, tx bun.Tx, ids []string) (map[string]int, error) {
	hour := "CAST(substr(created_at, 12, 2) AS INTEGER)"
	if b.outbox.db.Postgres() {
		hour = "CAST(EXTRACT(HOUR FROM created_at AT TIME ZONE 'UTC') AS INTEGER)"
	}
	var counts []struct {
		OwnerID string `bun:"owner_id"`
		Hour    int    `bun:"hour"`
		N       int    `bun:"n"`
	}
	err := tx.NewSelect().Table("generations").ColumnExpr("owner_id").ColumnExpr(hour+" AS hour").ColumnExpr("COUNT(*) AS n").
		Where("owner_id IN (?) AND created_at >= ?", bun.In(ids), b.outbox.now().Add(-90*24*time.Hour)).
		GroupExpr("owner_id, hour").Scan(ctx, &counts)
	if err != nil {
		return nil, fmt.Errorf("usual hours: %w", err)
	}
	best := map[string]int{}
	top := map[string]int{}
	for _, c := range counts {
		if c.N > top[c.OwnerID] || (c.N == top[c.OwnerID] && c.Hour < best[c.OwnerID]) {
			best[c.OwnerID], top[c.OwnerID] = c.Hour, c.N
		}
	}
	return best, nil
}

// completeBroadcast marks a fanned-out broadcast SENT once nothing of it is
// pending.
func completeBroadcast(ctx context.Context, tx bun.Tx, id string) error {
	_, err := tx.NewRaw(`UPDATE broadcasts SET status = ? WHERE id = ? AND status = ? AND fanned_out
		AND NOT EXISTS (SELECT 1 FROM email_outbox WHERE broadcast_id = ? AND state IN (?, ?))`,
		BroadcastSent, id, BroadcastSending, id, StatePending, StateSending).Exec(ctx)
	return err
}

// ReleaseArgs is the periodic River job that releases due broadcasts.
type ReleaseArgs struct{}

// Kind names the job for River.
func (ReleaseArgs) Kind() string { return "broadcast_release" }

// ReleaseWorker runs Release on one replica at a time.
type ReleaseWorker struct {
	river.WorkerDefaults[ReleaseArgs]
	broadcasts *Broadcasts
}

// NewReleaseWorker returns the worker.
func NewReleaseWorker(b *Broadcasts) *ReleaseWorker { return &ReleaseWorker{broadcasts: b} }

// Work releases due broadcasts.
func (w *ReleaseWorker) Work(ctx context.Context, _ *river.Job[ReleaseArgs]) error {
	return w.broadcasts.Release(ctx)
}
