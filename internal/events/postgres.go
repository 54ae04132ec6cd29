package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxPayload is PostgreSQL's NOTIFY limit (8000 bytes) less room for the topic.
const maxPayload = 7900

// Postgres is the bus over LISTEN/NOTIFY: Publish notifies, and one
// connection per process listens and hands messages to local subscribers.
type Postgres struct {
	*Memory
	pool    *pgxpool.Pool
	channel string
	log     *slog.Logger
}

// NewPostgres returns a bus on pool. The channel is named after the schema,
// so databases shared by several schemas (tests) do not hear each other.
func NewPostgres(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (*Postgres, error) {
	var schema string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return &Postgres{Memory: NewMemory(), pool: pool, channel: "koe_events_" + schema, log: log}, nil
}

// Publish notifies every process listening on the bus's channel, with one
// NOTIFY whatever the number of topics. Topics must not contain spaces or
// newlines.
func (p *Postgres) Publish(ctx context.Context, payload []byte, topics ...string) error {
	head := strings.Join(topics, " ")
	if len(head)+len(payload) > maxPayload {
		return fmt.Errorf("events: payload of %d bytes on %s is over the NOTIFY limit", len(payload), head)
	}
	_, err := p.pool.Exec(ctx, "SELECT pg_notify($1, $2)", p.channel, head+"\n"+string(payload))
	return err
}

// Run listens until ctx ends, reconnecting after failures. ready is closed
// once the first LISTEN is in place, so callers can wait before publishing.
func (p *Postgres) Run(ctx context.Context, ready chan<- struct{}) {
	const firstBackoff = 100 * time.Millisecond
	backoff := firstBackoff
	listened, lost := false, false
	listening := func() {
		listened = true
		backoff = firstBackoff
		// The first LISTEN that works is what callers wait for; it may
		// come after failed attempts.
		if ready != nil {
			close(ready)
			ready = nil
		}
		// After a reconnect, messages sent meanwhile are gone: tell every
		// subscriber to re-read what it watches.
		if lost {
			p.resync()
			lost = false
		}
	}
	for {
		err := p.listen(ctx, listening)
		if ctx.Err() != nil {
			return
		}
		lost = listened // before the first LISTEN there was nothing to lose
		p.log.Warn("events: listener lost, reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (p *Postgres) listen(ctx context.Context, listening func()) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection is left in LISTEN state; it is not given back to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		return err
	}
	listening()
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		head, payload, ok := strings.Cut(n.Payload, "\n")
		if !ok {
			p.log.Error("events: malformed notification", "err", errors.New("no topic"))
			continue
		}
		p.dispatch([]byte(payload), strings.Split(head, " "))
	}
}
