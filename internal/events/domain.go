package events

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Kinds of domain events.
const (
	// KindGenerationSucceeded: a generation's audio is ready.
	KindGenerationSucceeded = "generation.succeeded"
	// KindGenerationFailed: a generation failed for good.
	KindGenerationFailed = "generation.failed"
	// KindUsageThreshold: a user's period reached 80% or 100% of its quota.
	KindUsageThreshold = "usage.threshold"
	// KindPaymentFailed: a subscription invoice or a credit pack payment failed.
	KindPaymentFailed = "billing.payment_failed"
	// KindPlanChanged: a user's plan changed through their subscription.
	KindPlanChanged = "billing.plan_changed"
)

// DomainEvent is something that happened that a person may need to hear
// about. It is written in the transaction of its cause, under an id derived
// from the cause, so a retried cause records it once; notifications turn
// them into messages.
type DomainEvent struct {
	bun.BaseModel `bun:"table:domain_events"`

	ID        string         `bun:"id,pk"`
	Kind      string         `bun:"kind,notnull"`
	UserID    string         `bun:"user_id,notnull"`
	Payload   map[string]any `bun:"payload,notnull"`
	CreatedAt time.Time      `bun:"created_at,notnull"`
}

// Record writes a domain event in db (the cause's transaction); an event
// with the same id is recorded once.
func Record(ctx context.Context, db bun.IDB, id, kind, userID string, payload map[string]any) error {
	if payload == nil {
		payload = map[string]any{}
	}
	e := &DomainEvent{ID: id, Kind: kind, UserID: userID, Payload: payload, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if _, err := db.NewInsert().Model(e).On("CONFLICT (id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("record %s: %w", kind, err)
	}
	return nil
}
