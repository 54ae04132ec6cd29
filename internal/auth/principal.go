// Package auth knows who is calling: principals and roles, users, API keys,
// and the authentication of HTTP requests and websocket connections.
package auth

import (
	"context"
	"strings"
	"time"

	"github.com/koe-voice/koe/internal/apperror"
)

// Role is what a principal may do. The values are the GraphQL enum's.
type Role string

// The roles, in increasing order of power.
const (
	RoleUser  Role = "USER"
	RoleAdmin Role = "ADMIN"
)

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 2
	case RoleUser:
		return 1
	}
	return 0
}

// AtLeast reports whether r is min or more powerful.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() }

// Principal is who makes a request: a user, through an API key or a sign-in.
type Principal struct {
	UserID string
	Role   Role
	// PlanCode is the user's plan, for limits checked on every request.
	PlanCode string
	// APIKeyID is the key the request came with; empty for other sign-ins.
	APIKeyID string
	// Expires is when the credential stops working: a Firebase ID token's
	// exp; zero for API keys, which work until revoked. A websocket opened
	// with the credential ends then.
	Expires time.Time
	// User is the user's row as read when the request was authenticated, so
	// a response that shows the caller needs no second read; nil for a
	// principal made otherwise.
	User *User
}

// IsAdmin reports whether the principal operates Koe.
func (p Principal) IsAdmin() bool { return p.Role.AtLeast(RoleAdmin) }

// CanSee reports whether the principal may see an object owned by ownerID.
func (p Principal) CanSee(ownerID string) bool { return p.UserID == ownerID || p.IsAdmin() }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Require returns the principal of ctx, or UNAUTHENTICATED.
func Require(ctx context.Context) (Principal, error) {
	p, ok := FromContext(ctx)
	if !ok {
		return Principal{}, apperror.New(apperror.Unauthenticated, "sign in or send an API key as Authorization: Bearer <key>")
	}
	return p, nil
}

// RequireRole returns the principal of ctx if it has at least role min:
// UNAUTHENTICATED without one, FORBIDDEN with a lesser role.
func RequireRole(ctx context.Context, min Role) (Principal, error) {
	p, err := Require(ctx)
	if err != nil {
		return p, err
	}
	if !p.Role.AtLeast(min) {
		return Principal{}, apperror.New(apperror.Forbidden, "this needs the %s role", min)
	}
	return p, nil
}

type localeKey struct{}

// WithLocale returns ctx carrying the request's Accept-Language header,
// which sets the language of a user made on first sight.
func WithLocale(ctx context.Context, acceptLanguage string) context.Context {
	return context.WithValue(ctx, localeKey{}, acceptLanguage)
}

// Locale is the language of the request: "ja" when the caller's first
// Accept-Language is Japanese, else "en". A user made on first sight gets it
// as their email language, and error messages are written in it.
func Locale(ctx context.Context) string {
	header, _ := ctx.Value(localeKey{}).(string)
	first, _, _ := strings.Cut(header, ",")
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(first)), "ja") {
		return "ja"
	}
	return "en"
}
