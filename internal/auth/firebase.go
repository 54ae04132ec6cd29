package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	fbauth "firebase.google.com/go/v4/auth"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/gid"
)

// IDTokenVerifier checks Firebase ID tokens, including that they were not
// revoked and their user is not disabled. *auth.Client of the Firebase Admin
// SDK satisfies it.
type IDTokenVerifier interface {
	VerifyIDTokenAndCheckRevoked(ctx context.Context, idToken string) (*fbauth.Token, error)
}

// tokenCacheTTL is how long a verified token is trusted without asking
// Firebase again: revoking a session or disabling a user takes effect within
// it, and a busy client costs one revocation check per TTL, not per request.
const tokenCacheTTL = 30 * time.Second

// verifiedToken is what Koe keeps of a verified ID token.
type verifiedToken struct {
	uid, email, name, role string
	expires                time.Time
}

// EnableFirebase makes Authenticate accept Firebase ID tokens checked by v.
// Call it before serving.
func (s *Service) EnableFirebase(v IDTokenVerifier) {
	s.firebase = v
	s.tokens = newExpiring[[32]byte, verifiedToken](50_000)
}

// looksLikeJWT tells an ID token (three base64url parts) from an API key.
func looksLikeJWT(credential string) bool {
	return strings.Count(credential, ".") == 2 && strings.HasPrefix(credential, "eyJ")
}

// authenticateFirebase verifies an ID token (or finds it verified in the
// last tokenCacheTTL) and returns its user's principal, creating the user on
// first sight on the free plan, with the role of the token's `role` claim
// when it names one. After that, the role in Koe's database decides.
func (s *Service) authenticateFirebase(ctx context.Context, idToken string) (Principal, error) {
	key := sha256.Sum256([]byte(idToken))
	now := s.now()
	t, ok := s.tokens.get(key, now)
	if !ok {
		seen := s.tokens.version()
		tok, err := s.firebase.VerifyIDTokenAndCheckRevoked(ctx, idToken)
		if err != nil {
			return Principal{}, tokenError(err)
		}
		t = verifiedToken{uid: tok.UID, expires: time.Unix(tok.Expires, 0)}
		until := now.Add(tokenCacheTTL)
		if t.expires.Before(until) {
			until = t.expires // an expiring token is not trusted past its expiry
		}
		t.email, _ = tok.Claims["email"].(string)
		t.name, _ = tok.Claims["name"].(string)
		t.role, _ = tok.Claims["role"].(string)
		s.tokens.put(key, t, until, now, seen)
	}
	// The user is remembered like an API key's, under the uid.
	p, err := s.remembered(firebaseUserKey+t.uid, now, func() (Principal, error) {
		u, err := s.userOf(ctx, t)
		if err != nil {
			return Principal{}, fmt.Errorf("authenticate: %w", err)
		}
		return Principal{UserID: u.ID, Role: u.Role, PlanCode: u.PlanCode, User: u}, nil
	})
	if err != nil {
		return Principal{}, err
	}
	p.Expires = t.expires // this token's, not that of whichever token was remembered
	return p, nil
}

// firebaseUserKey prefixes a Firebase uid among the remembered principals,
// which are otherwise keyed by API key hashes (hex, no colon).
const firebaseUserKey = "firebase:"

// tokenError says why a token was refused, in words the client can act on;
// failures that are not the token's fault stay internal.
func tokenError(err error) error {
	switch {
	case fbauth.IsIDTokenRevoked(err):
		return apperror.New(apperror.Unauthenticated, "this sign-in was revoked; sign in again")
	case fbauth.IsUserDisabled(err):
		return apperror.New(apperror.Unauthenticated, "this account is disabled")
	case fbauth.IsIDTokenExpired(err):
		return apperror.New(apperror.Unauthenticated, "the ID token has expired; refresh it and try again")
	case fbauth.IsCertificateFetchFailed(err):
		return fmt.Errorf("verify ID token: %w", err)
	}
	return apperror.New(apperror.Unauthenticated, "the ID token is not valid for this server")
}

// userOf returns the user of a verified token, creating it on first sight.
func (s *Service) userOf(ctx context.Context, t verifiedToken) (*User, error) {
	u := new(User)
	err := s.db.Read.NewSelect().Model(u).Where("firebase_uid = ?", t.uid).Scan(ctx)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return u, err
	}
	role := RoleUser
	if Role(strings.ToUpper(t.role)) == RoleAdmin {
		role = RoleAdmin
	}
	uid := t.uid
	u = &User{ID: gid.New(gid.User), FirebaseUID: &uid, Email: nonEmpty(t.email), DisplayName: nonEmpty(t.name), Role: role, PlanCode: FreePlan,
		Locale: Locale(ctx), CreatedAt: s.now()}
	// Two first requests at once: one insert wins, both read the winner.
	if _, err := s.db.NewInsert().Model(u).On("CONFLICT (firebase_uid) DO NOTHING").Exec(ctx); err != nil {
		return nil, err
	}
	u = new(User)
	return u, s.db.NewSelect().Model(u).Where("firebase_uid = ?", t.uid).Scan(ctx)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
