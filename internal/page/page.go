// Package page is keyset pagination for Relay connections: validated
// first/after arguments and opaque cursors that carry the sort key of the last
// row seen, so a page costs one indexed range scan however deep it is.
package page

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
)

// MaxFirst is the largest page a client may ask for.
const MaxFirst = 100

// Request is a validated first/after pair.
type Request struct {
	// First is how many rows to return, 0..MaxFirst.
	First int
	// After is the decoded sort key of the last row already seen, nil for the
	// first page.
	After []string
	// SkipTotal is set when the client did not ask for the total: Newest
	// then runs no count and leaves TotalCount 0.
	SkipTotal bool
}

// Limit is how many rows to fetch: one more than First, to know whether a
// next page exists.
func (r Request) Limit() int64 { return int64(r.First) + 1 }

// Parse validates first and after; keyLen is the number of values in the sort
// key of the connection. Errors are BAD_USER_INPUT naming "first" or "after".
func Parse(first *int, after *string, def, keyLen int) (Request, error) {
	r := Request{First: def}
	if first != nil {
		r.First = *first
	}
	if r.First < 0 || r.First > MaxFirst {
		return Request{}, apperror.Invalid("first", "must be between 0 and %d, got %d", MaxFirst, r.First)
	}
	if after != nil && *after != "" {
		b, err := base64.RawURLEncoding.DecodeString(*after)
		if err != nil || json.Unmarshal(b, &r.After) != nil || len(r.After) != keyLen {
			return Request{}, apperror.Invalid("after", "is not a cursor from this connection")
		}
	}
	return r, nil
}

// Cursor encodes the sort key of a row.
func Cursor(key ...string) string {
	b, _ := json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Page is one page of rows, trimmed to the requested size.
type Page[T any] struct {
	Items       []T
	HasNextPage bool
	TotalCount  int
}

// Trim cuts rows fetched with Limit() down to First and records whether more
// rows follow.
func Trim[T any](rows []T, r Request, total int) Page[T] {
	p := Page[T]{Items: rows, TotalCount: total}
	if len(rows) > r.First {
		p.Items, p.HasNextPage = rows[:r.First], true
	}
	return p
}

// TimeKey formats a time for a cursor's sort key.
func TimeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// AfterTime parses the i-th value of the after key as a time written by
// TimeKey; a bad value is BAD_USER_INPUT on "after".
func (r Request) AfterTime(i int) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, r.After[i])
	if err != nil {
		return time.Time{}, apperror.Invalid("after", "is not a cursor from this connection")
	}
	return t, nil
}

// Newest returns a page of the rows where narrows, newest first by
// (created_at, id) — the order of every list of things people made — with
// the total count unless req.SkipTotal (a first page that holds every row
// is its own count). The cursor of a row is Cursor(TimeKey(createdAt), id).
func Newest[T any](ctx context.Context, db bun.IDB, req Request, where func(*bun.SelectQuery) *bun.SelectQuery) (Page[T], error) {
	var rows []T
	q := where(db.NewSelect().Model(&rows)).Order("created_at DESC", "id DESC").Limit(req.Limit())
	if req.After != nil {
		after, err := req.AfterTime(0)
		if err != nil {
			return Page[T]{}, err
		}
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", after, after, req.After[1])
	}
	if err := q.Scan(ctx); err != nil {
		return Page[T]{}, fmt.Errorf("list: %w", err)
	}
	total := 0
	switch {
	case req.SkipTotal:
	case req.After == nil && len(rows) <= req.First:
		// The first page holds every row.
		total = len(rows)
	default:
		n, err := where(db.NewSelect().Model(&rows)).Count(ctx)
		if err != nil {
			return Page[T]{}, fmt.Errorf("count: %w", err)
		}
		total = int(n)
	}
	return Trim(rows, req, total), nil
}
