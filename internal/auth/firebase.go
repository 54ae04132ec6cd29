package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
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
	// emailVerified is the email_verified claim: Koe mails only verified
	// addresses.
	emailVerified bool
	// verifiedAt is when Koe asked Firebase about the token, which then
	// said its account was enabled and the token not revoked.
	verifiedAt time.Time
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
			if fbauth.IsUserDisabled(err) || fbauth.IsIDTokenRevoked(err) {
				// The SDK checks revocation and disablement only after the
				// token itself verified (signature, audience, expiry), so its
				// subject is the person Firebase refuses.
				if derr := s.disabledByFirebase(ctx, subjectOf(idToken)); derr != nil {
					return Principal{}, derr
				}
			}
			return Principal{}, tokenError(err)
		}
		t = verifiedToken{uid: tok.UID, expires: time.Unix(tok.Expires, 0), verifiedAt: now}
		until := now.Add(tokenCacheTTL)
		if t.expires.Before(until) {
			until = t.expires // an expiring token is not trusted past its expiry
		}
		t.email, _ = tok.Claims["email"].(string)
		t.name, _ = tok.Claims["name"].(string)
		t.role, _ = tok.Claims["role"].(string)
		t.emailVerified, _ = tok.Claims["email_verified"].(bool)
		s.tokens.put(key, t, until, now, seen)
	}
	// The user is remembered like an API key's, under the uid.
	p, err := s.remembered(firebaseUserKey+t.uid, now, func() (Principal, error) {
		u, err := s.userOf(ctx, t)
		if err != nil {
			return Principal{}, fmt.Errorf("authenticate: %w", err)
		}
		if u.DisabledAt != nil {
			return Principal{}, errDisabled
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
		return errDisabled
	case fbauth.IsIDTokenExpired(err):
		return apperror.New(apperror.Unauthenticated, "the ID token has expired; refresh it and try again")
	case fbauth.IsCertificateFetchFailed(err):
		return fmt.Errorf("verify ID token: %w", err)
	}
	return apperror.New(apperror.Unauthenticated, "the ID token is not valid for this server")
}

// subjectOf is the sub claim of a JWT the SDK verified, or "".
func subjectOf(idToken string) string {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Sub string `json:"sub"`
	}
	if err != nil || json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Sub
}

// disabledByFirebase disables the Koe user of Firebase uid, whose token
// Firebase refused as revoked or of a disabled account, so their API keys
// stop working too. Firebase accepting one of their tokens after that lifts
// it (refresh); an operator's disablement stays.
func (s *Service) disabledByFirebase(ctx context.Context, uid string) error {
	if uid == "" {
		return nil
	}
	var ids []string
	if err := s.db.NewUpdate().Table("users").Set("disabled_at = ?", s.now()).Set("disabled_by = ?", DisabledByFirebase).
		Where("firebase_uid = ? AND disabled_at IS NULL", uid).Returning("id").Scan(ctx, &ids); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("disable user seen disabled in Firebase: %w", err)
	}
	for _, id := range ids {
		s.userChanged(ctx, id)
	}
	return nil
}

// userOf returns the user of a verified token, creating it on first sight.
// A known user's address and its verification follow the token (refresh).
func (s *Service) userOf(ctx context.Context, t verifiedToken) (*User, error) {
	u := new(User)
	err := s.db.Read.NewSelect().Model(u).Where("firebase_uid = ?", t.uid).Scan(ctx)
	if err == nil {
		return s.refresh(ctx, u, t)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	role := RoleUser
	if Role(strings.ToUpper(t.role)) == RoleAdmin {
		role = RoleAdmin
	}
	uid := t.uid
	u = &User{ID: gid.New(gid.User), FirebaseUID: &uid, Email: nonEmpty(t.email), EmailVerified: t.email != "" && t.emailVerified,
		DisplayName: nonEmpty(t.name), Role: role, PlanCode: FreePlan, Locale: Locale(ctx), CreatedAt: s.now()}
	// Two first requests at once: one insert wins, both read the winner.
	if _, err := s.db.NewInsert().Model(u).On("CONFLICT (firebase_uid) DO NOTHING").Exec(ctx); err != nil {
		return nil, err
	}
	u = new(User)
	return u, s.db.NewSelect().Model(u).Where("firebase_uid = ?", t.uid).Scan(ctx)
}

// refresh brings a known user up to date with a verified token: the
// address and whether it is verified (which change when the person changes
// their address in Firebase), and a disablement Koe saw in Firebase that a
// later verification shows to be over. It writes only what changed.
func (s *Service) refresh(ctx context.Context, u *User, t verifiedToken) (*User, error) {
	if t.email != "" && (deref(u.Email) != t.email || u.EmailVerified != t.emailVerified) {
		u.Email, u.EmailVerified = &t.email, t.emailVerified
		if _, err := s.db.NewUpdate().Model(u).Column("email", "email_verified").WherePK().Exec(ctx); err != nil {
			return nil, err
		}
	}
	// Firebase vouched for the person after Koe saw them disabled or
	// revoked: they were enabled again, or signed in again since. A token
	// verified before (and still trusted from the cache) lifts nothing.
	if u.DisabledAt == nil || deref(u.DisabledBy) != DisabledByFirebase || !t.verifiedAt.After(*u.DisabledAt) {
		return u, nil
	}
	res, err := s.db.NewUpdate().Table("users").Set("disabled_at = NULL").Set("disabled_by = NULL").
		Where("id = ? AND disabled_by = ?", u.ID, DisabledByFirebase).Exec(ctx)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		u.DisabledAt, u.DisabledBy = nil, nil
		s.userChanged(ctx, u.ID)
	} // else an operator disabled them meanwhile, and they stay disabled
	return u, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
