// Package notification tells people what happened: it turns domain events
// (a generation finished, usage crossed a threshold, a payment failed, the
// plan changed) into in-app notifications and, where the person allows it,
// email — each exactly once per cause — and keeps their preferences.
package notification

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/email"
	"github.com/koe-voice/koe/internal/email/outbox"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/wake"
)

// Notification is something a person is told in the app.
type Notification struct {
	bun.BaseModel `bun:"table:notifications"`

	ID        string     `bun:"id,pk" json:"id"`
	UserID    string     `bun:"user_id,notnull" json:"userId"`
	Kind      string     `bun:"kind,notnull" json:"kind"`
	Title     string     `bun:"title,notnull" json:"title"`
	Body      string     `bun:"body,notnull" json:"body"`
	CauseID   string     `bun:"cause_id,notnull" json:"-"`
	ReadAt    *time.Time `bun:"read_at" json:"readAt"`
	CreatedAt time.Time  `bun:"created_at,notnull" json:"createdAt"`
}

// The preferences, by the names of the GraphQL fields (also used in
// unsubscribe links).
const (
	PrefGenerationFinished = "emailOnGenerationFinished"
	PrefUsageThreshold     = "emailOnUsageThreshold"
	PrefBilling            = "emailOnBilling"
	PrefProductNews        = "productNews"
)

// Preferences are which emails a person gets. Product news is opt-in.
type Preferences struct {
	bun.BaseModel `bun:"table:notification_preferences"`

	UserID                    string `bun:"user_id,pk"`
	EmailOnGenerationFinished bool   `bun:"email_on_generation_finished,notnull"`
	EmailOnUsageThreshold     bool   `bun:"email_on_usage_threshold,notnull"`
	EmailOnBilling            bool   `bun:"email_on_billing,notnull"`
	ProductNews               bool   `bun:"product_news,notnull"`
}

func defaults(userID string) *Preferences {
	return &Preferences{UserID: userID, EmailOnGenerationFinished: true, EmailOnUsageThreshold: true, EmailOnBilling: true}
}

// allows reports whether the preferences allow email about kind.
func (p *Preferences) allows(kind string) bool {
	switch kind {
	case events.KindGenerationSucceeded, events.KindGenerationFailed:
		return p.EmailOnGenerationFinished
	case events.KindUsageThreshold:
		return p.EmailOnUsageThreshold
	case events.KindPaymentFailed, events.KindPlanChanged:
		return p.EmailOnBilling
	}
	return false
}

// preferenceOf is the preference an unsubscribe link of kind turns off.
func preferenceOf(kind string) string {
	switch kind {
	case events.KindGenerationSucceeded, events.KindGenerationFailed, email.KindGenerationDigest:
		return PrefGenerationFinished
	case events.KindUsageThreshold:
		return PrefUsageThreshold
	case events.KindPaymentFailed, events.KindPlanChanged:
		return PrefBilling
	}
	return PrefProductNews
}

// Renderer renders an email of kind in locale.
type Renderer func(kind, locale string, data map[string]any) (subject, text, html string, err error)

// Links makes the links messages carry.
type Links interface {
	// Unsubscribe is the signed one-click link that turns preference off.
	Unsubscribe(userID, preference string) string
	// App is a page of the web app, e.g. "/history".
	App(path string) string
}

// Mailer is what notification needs of the outbox.
type Mailer interface {
	Enqueue(ctx context.Context, tx bun.Tx, mails ...outbox.Mail) error
	// Latest is the user's message of one of kinds due last, or nil.
	Latest(ctx context.Context, tx bun.Tx, userID string, kinds ...string) (*outbox.Queued, error)
	// Revise rewrites a pending message; false once it is being sent.
	Revise(ctx context.Context, tx bun.Tx, m outbox.Mail) (bool, error)
}

// audioReadyEvery is how often at most a person is emailed that audio is
// ready: the first finished generation is told at once, the ones that
// finish in the next audioReadyEvery in one digest at its end, and so on. A
// script making generations all day sends a handful of messages, not one
// each.
const audioReadyEvery = 10 * time.Minute

// failedEvery is how often at most a person is emailed that a generation
// failed: the first failure is told at once, the ones in the next
// failedEvery only in the app (the email links to the history, which lists
// them all). A script whose generations all fail does not flood a mailbox.
const failedEvery = 10 * time.Minute

// Service creates notifications and keeps preferences.
type Service struct {
	db     *store.DB
	bus    events.Bus
	mailer Mailer
	render Renderer
	links  Links
	log    *slog.Logger
	now    func() time.Time
}

// NewService returns the notification service.
func NewService(db *store.DB, bus events.Bus, mailer Mailer, render Renderer, links Links, log *slog.Logger) *Service {
	return &Service{db: db, bus: bus, mailer: mailer, render: render, links: links, log: log,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

func topic(userID string) string { return "notifications-of:" + userID }

// dispatchBatch bounds the events one dispatch transaction takes.
const dispatchBatch = 200

// Dispatch turns unprocessed domain events into notifications and emails,
// each in the transaction that marks its event processed, so a crash
// repeats nothing and loses nothing. It returns how many it handled.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	var created []*Notification
	handled := 0
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var evs []*events.DomainEvent
		q := tx.NewSelect().Model(&evs).Where("processed_at IS NULL").Order("created_at", "id").Limit(dispatchBatch)
		if s.db.Postgres() {
			q = q.For("UPDATE SKIP LOCKED") // replicas dispatching at once take different events
		}
		if err := q.Scan(ctx); err != nil {
			return err
		}
		for _, e := range evs {
			n, err := s.handle(ctx, tx, e)
			if err != nil {
				return fmt.Errorf("event %s: %w", e.ID, err)
			}
			if n != nil {
				created = append(created, n)
			}
		}
		handled = len(evs)
		if handled == 0 {
			return nil
		}
		ids := make([]string, len(evs))
		for i, e := range evs {
			ids[i] = e.ID
		}
		_, err := tx.NewUpdate().Table("domain_events").Set("processed_at = ?", s.now()).Where("id IN (?)", bun.In(ids)).Exec(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("dispatch notifications: %w", err)
	}
	for _, n := range created {
		b, _ := json.Marshal(n)
		if err := s.bus.Publish(ctx, b, topic(n.UserID)); err != nil {
			s.log.WarnContext(ctx, "publish notification", "err", err)
		}
	}
	return handled, nil
}

// recipient is what a message needs of its person.
type recipient struct {
	Email    *string    `bun:"email"`
	Verified bool       `bun:"email_verified"`
	Disabled *time.Time `bun:"disabled_at"`
	Name     *string    `bun:"display_name"`
	Locale   string     `bun:"locale"`
}

// mailable reports whether Koe may email the person: only to an address
// its owner verified (anyone can sign up with someone else's address), and
// not while their account is disabled.
func (r recipient) mailable() bool { return r.Email != nil && r.Verified && r.Disabled == nil }

// handle makes the notification of one event (once: the cause id is
// unique) and, when allowed, its email.
func (s *Service) handle(ctx context.Context, tx bun.Tx, e *events.DomainEvent) (*Notification, error) {
	var who recipient
	if err := tx.NewSelect().Table("users").Column("email", "email_verified", "disabled_at", "display_name", "locale").
		Where("id = ?", e.UserID).Scan(ctx, &who); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil // the user is gone
		}
		return nil, err
	}
	title, body := inApp(e.Kind, who.Locale, e.Payload)
	n := &Notification{ID: gid.New(gid.Notice), UserID: e.UserID, Kind: e.Kind, Title: title, Body: body, CauseID: e.ID, CreatedAt: s.now()}
	res, err := tx.NewInsert().Model(n).On("CONFLICT (cause_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, err
	}
	if rows, _ := res.RowsAffected(); rows == 0 {
		return nil, nil
	}
	prefs, err := s.preferences(ctx, tx, e.UserID)
	if err != nil {
		return nil, err
	}
	if !who.mailable() || !prefs.allows(e.Kind) {
		return n, nil
	}
	data := map[string]any{}
	for k, v := range e.Payload {
		data[k] = v
	}
	m, err := s.message(e.Kind, mailID(e.ID), e.UserID, who, templateData(e.Kind, data))
	if err != nil {
		return nil, err
	}
	switch e.Kind {
	case events.KindGenerationSucceeded:
		return n, s.audioReady(ctx, tx, e, who, m)
	case events.KindGenerationFailed:
		return n, s.failed(ctx, tx, e, m)
	}
	return n, s.mailer.Enqueue(ctx, tx, m)
}

// message renders a message of kind to who, with the link to the app page
// of kind and the one that turns its preference off.
func (s *Service) message(kind, id, userID string, who recipient, data map[string]any) (outbox.Mail, error) {
	// The template greets by name only when email.SafeName keeps it.
	data["Name"] = deref(who.Name)
	data["URL"] = s.links.App(appPath(kind))
	unsubscribe := s.links.Unsubscribe(userID, preferenceOf(kind))
	data["Unsubscribe"] = unsubscribe
	subject, text, html, err := s.render(kind, who.Locale, data)
	if err != nil {
		return outbox.Mail{}, err
	}
	return outbox.Mail{
		ID: id, UserID: userID, Kind: kind, To: *who.Email, ToName: deref(who.Name),
		Subject: subject, Text: text, HTML: html, Unsubscribe: unsubscribe,
	}, nil
}

// audioReady emails that a generation finished: at once (mail) when the
// person had no such email in the last audioReadyEvery, else in the digest
// at the end of that window, which it joins while the digest is pending or
// starts when the last one is already being sent. All of it is in tx, the
// transaction that marks the event processed, so a crash loses or repeats
// nothing; on PostgreSQL the person's row is locked first, so two
// dispatchers cannot both see no recent email.
func (s *Service) audioReady(ctx context.Context, tx bun.Tx, e *events.DomainEvent, who recipient, mail outbox.Mail) error {
	if err := s.lockUser(ctx, tx, e.UserID); err != nil {
		return err
	}
	last, err := s.mailer.Latest(ctx, tx, e.UserID, events.KindGenerationSucceeded, email.KindGenerationDigest)
	if err != nil {
		return err
	}
	if last == nil || !s.now().Before(last.SendAfter.Add(audioReadyEvery)) {
		return s.mailer.Enqueue(ctx, tx, mail)
	}
	digest := func(id string, count int, at time.Time) (outbox.Mail, error) {
		m, err := s.message(email.KindGenerationDigest, id, e.UserID, who, map[string]any{"Count": count})
		m.DigestCount, m.SendAfter = count, at
		return m, err
	}
	if last.Kind == email.KindGenerationDigest && last.State == outbox.StatePending {
		m, err := digest(last.ID, last.DigestCount+1, last.SendAfter)
		if err != nil {
			return err
		}
		if revised, err := s.mailer.Revise(ctx, tx, m); err != nil || revised {
			return err
		}
	}
	m, err := digest(mailID(e.ID), 1, last.SendAfter.Add(audioReadyEvery))
	if err != nil {
		return err
	}
	return s.mailer.Enqueue(ctx, tx, m)
}

// failed emails that a generation failed when the person had no such email
// in the last failedEvery; else the app's notification is all. As
// audioReady, in tx, the person's row locked on PostgreSQL.
func (s *Service) failed(ctx context.Context, tx bun.Tx, e *events.DomainEvent, mail outbox.Mail) error {
	if err := s.lockUser(ctx, tx, e.UserID); err != nil {
		return err
	}
	last, err := s.mailer.Latest(ctx, tx, e.UserID, events.KindGenerationFailed)
	if err != nil {
		return err
	}
	if last != nil && s.now().Before(last.SendAfter.Add(failedEvery)) {
		return nil
	}
	return s.mailer.Enqueue(ctx, tx, mail)
}

// lockUser locks the person's row for tx on PostgreSQL, so two dispatchers
// cannot both see no recent email; SQLite has one writer.
func (s *Service) lockUser(ctx context.Context, tx bun.Tx, userID string) error {
	if !s.db.Postgres() {
		return nil
	}
	_, err := tx.NewRaw("SELECT 1 FROM users WHERE id = ? FOR UPDATE", userID).Exec(ctx)
	return err
}

// mailID is the idempotent send key of an event's email: derived from the
// event, and a dot-atom as a Message-ID needs.
func mailID(eventID string) string {
	sum := sha256.Sum256([]byte(eventID))
	return "n-" + hex.EncodeToString(sum[:16])
}

func appPath(kind string) string {
	switch kind {
	case events.KindGenerationSucceeded, events.KindGenerationFailed, email.KindGenerationDigest:
		return "/history"
	}
	return "/billing"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// preferences returns a user's preferences, the defaults when never set.
func (s *Service) preferences(ctx context.Context, db bun.IDB, userID string) (*Preferences, error) {
	p := new(Preferences)
	err := db.NewSelect().Model(p).Where("user_id = ?", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return defaults(userID), nil
	}
	if err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	return p, nil
}

// Preferences returns the user's preferences.
func (s *Service) Preferences(ctx context.Context, userID string) (*Preferences, error) {
	return s.preferences(ctx, s.db, userID)
}

// PreferencesInput changes preferences; nil fields stay as they are.
type PreferencesInput struct {
	EmailOnGenerationFinished, EmailOnUsageThreshold, EmailOnBilling, ProductNews *bool
}

// UpdatePreferences changes the user's preferences.
func (s *Service) UpdatePreferences(ctx context.Context, userID string, in PreferencesInput) (*Preferences, error) {
	var p *Preferences
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if p, err = s.preferences(ctx, tx, userID); err != nil {
			return err
		}
		set := func(dst *bool, v *bool) {
			if v != nil {
				*dst = *v
			}
		}
		set(&p.EmailOnGenerationFinished, in.EmailOnGenerationFinished)
		set(&p.EmailOnUsageThreshold, in.EmailOnUsageThreshold)
		set(&p.EmailOnBilling, in.EmailOnBilling)
		set(&p.ProductNews, in.ProductNews)
		_, err = tx.NewInsert().Model(p).On("CONFLICT (user_id) DO UPDATE").
			Set("email_on_generation_finished = EXCLUDED.email_on_generation_finished").
			Set("email_on_usage_threshold = EXCLUDED.email_on_usage_threshold").
			Set("email_on_billing = EXCLUDED.email_on_billing").Set("product_news = EXCLUDED.product_news").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update preferences: %w", err)
	}
	return p, nil
}

// Unsubscribe turns one preference off, from a signed link: it works
// without signing in and changes nothing else.
func (s *Service) Unsubscribe(ctx context.Context, userID, preference string) error {
	off := false
	var in PreferencesInput
	switch preference {
	case PrefGenerationFinished:
		in.EmailOnGenerationFinished = &off
	case PrefUsageThreshold:
		in.EmailOnUsageThreshold = &off
	case PrefBilling:
		in.EmailOnBilling = &off
	case PrefProductNews:
		in.ProductNews = &off
	default:
		return apperror.Invalid("t", "names no preference")
	}
	_, err := s.UpdatePreferences(ctx, userID, in)
	return err
}

// List returns the user's notifications, newest first.
func (s *Service) List(ctx context.Context, userID string, unreadOnly bool, req page.Request) (page.Page[*Notification], error) {
	list, err := page.Newest[*Notification](ctx, s.db.Read, req, func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("user_id = ?", userID)
		if unreadOnly {
			q = q.Where("read_at IS NULL")
		}
		return q
	})
	if err != nil {
		return list, fmt.Errorf("notifications: %w", err)
	}
	return list, nil
}

// Get returns one of the user's notifications, or nil.
func (s *Service) Get(ctx context.Context, userID, id string) (*Notification, error) {
	var list []*Notification
	if err := s.db.NewSelect().Model(&list).Where("id = ? AND user_id = ?", id, userID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("notification: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list[0], nil
}

// Cursor is the page cursor of n in List's order.
func Cursor(n *Notification) string { return page.Cursor(page.TimeKey(n.CreatedAt), n.ID) }

// MarkRead marks the user's notifications read (all of them when ids is
// nil) and returns how many changed.
func (s *Service) MarkRead(ctx context.Context, userID string, ids []string) (int, error) {
	q := s.db.NewUpdate().Table("notifications").Set("read_at = ?", s.now()).Where("user_id = ? AND read_at IS NULL", userID)
	if ids != nil {
		for _, id := range ids {
			if !gid.Is(id, gid.Notice) {
				return 0, apperror.Invalid("ids", "%q is not a notification id", id)
			}
		}
		if len(ids) == 0 {
			return 0, nil
		}
		q = q.Where("id IN (?)", bun.In(ids))
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// watchBuffer is how many notifications a subscriber may be behind before
// new ones are dropped for it (they stay in the list).
const watchBuffer = 64

// Watch returns the user's new notifications as they are made, closed when
// ctx ends. It needs no goroutine: the bus's handler puts each one in the
// channel's buffer and, when the transport gave a wake function (package
// wake), tells it there is one to receive.
func (s *Service) Watch(ctx context.Context, userID string) <-chan *Notification {
	out := make(chan *Notification, watchBuffer)
	wakeUp := wake.Take(ctx)
	var mu sync.Mutex
	closed := false
	unsubscribe := s.bus.Subscribe(topic(userID), func(payload []byte) {
		var n Notification
		if payload == nil || json.Unmarshal(payload, &n) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return
		}
		select {
		case out <- &n:
			if wakeUp != nil {
				wakeUp()
			}
		default:
			s.log.Warn("notification subscriber is not reading; dropped one", "user", userID)
		}
	})
	context.AfterFunc(ctx, func() {
		unsubscribe()
		mu.Lock()
		closed = true
		close(out)
		mu.Unlock()
		if wakeUp != nil {
			wakeUp()
		}
	})
	return out
}

// DispatchArgs is the periodic River job that dispatches domain events.
type DispatchArgs struct{}

// Kind names the job for River.
func (DispatchArgs) Kind() string { return "notification_dispatch" }

// DispatchWorker dispatches until no events are left.
type DispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	service *Service
}

// NewDispatchWorker returns the worker.
func NewDispatchWorker(s *Service) *DispatchWorker { return &DispatchWorker{service: s} }

// Work dispatches every waiting event.
func (w *DispatchWorker) Work(ctx context.Context, _ *river.Job[DispatchArgs]) error {
	for {
		n, err := w.service.Dispatch(ctx)
		if err != nil || n < dispatchBatch {
			return err
		}
	}
}
