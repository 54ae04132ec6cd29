package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
)

// KeyPrefix starts every API key Koe makes, so secret scanners can spot them.
const KeyPrefix = "koe_"

// FreePlan is the plan code of a new user.
const FreePlan = "free"

// lastUsedFlushEvery bounds how stale ApiKey.lastUsedAt may be: uses are
// batched in memory instead of writing a row per request.
const lastUsedFlushEvery = 30 * time.Second

var keyEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// Service manages users, roles and API keys.
type Service struct {
	db  *store.DB
	now func() time.Time

	mu      sync.Mutex
	touched map[string]time.Time // API key id → last use not yet written

	firebase IDTokenVerifier // nil: Firebase sign-in is off
	tokens   *expiring[[32]byte, verifiedToken]
	keys     *expiring[string, Principal] // by secret hash, or firebaseUserKey + uid

	onRevoke     func(ctx context.Context, keyID string)
	onUserChange func(ctx context.Context, userID string)
}

// OnRevoke sets what happens after a key is revoked, besides refusing its
// next request here: the app ends the key's open websockets, and forgets
// the key, on every replica.
func (s *Service) OnRevoke(f func(ctx context.Context, keyID string)) { s.onRevoke = f }

// OnUserChange sets what happens after a user's role changed or they were
// disabled or enabled again, besides acting on it here at once: the app has
// every replica forget the user's keys (ForgetUser), so the change counts
// everywhere at once.
func (s *Service) OnUserChange(f func(ctx context.Context, userID string)) { s.onUserChange = f }

// userChanged forgets what is remembered of the user here and tells the
// other replicas.
func (s *Service) userChanged(ctx context.Context, userID string) {
	s.ForgetUser(userID)
	if s.onUserChange != nil {
		s.onUserChange(ctx, userID)
	}
}

// NewService returns the identity service on db.
func NewService(db *store.DB) *Service {
	return &Service{
		db: db, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }, touched: map[string]time.Time{},
		keys: newExpiring[string, Principal](keyCacheMax),
	}
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// newSecret returns a fresh API key: 256 random bits after KeyPrefix.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return KeyPrefix + keyEncoding.EncodeToString(b[:])
}

func prefixOf(secret string) string {
	if len(secret) <= 12 {
		return secret[:min(len(secret), 4)]
	}
	return secret[:12]
}

// Bootstrap makes sure the built-in administrator exists and can sign in.
// With adminKey (KOE_ADMIN_API_KEY) set, that key works and any other
// KOE_ADMIN_API_KEY stops working. Without it, earlier KOE_ADMIN_API_KEYs stop
// working, and a key is made once, on first start, and returned so the caller
// can print it; later starts return "".
func (s *Service) Bootstrap(ctx context.Context, adminKey string) (generated string, err error) {
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		adminID, err := s.ensureAdminUser(ctx, tx, adminKey)
		if err != nil {
			return err
		}
		now := s.now()
		hash := ""
		if adminKey != "" {
			hash = hashSecret(adminKey)
		}
		// Only the key KOE_ADMIN_API_KEY holds now works: an earlier one, or
		// one unset since, stops working.
		if _, err := tx.NewUpdate().Table("api_keys").Set("revoked_at = ?", now).
			Where("source = ? AND secret_hash <> ? AND revoked_at IS NULL", sourceEnv, hash).Exec(ctx); err != nil {
			return err
		}
		if adminKey != "" {
			// The configured key works, also when it was set before and
			// revoked since: the configuration is the operator's word.
			res, err := tx.NewUpdate().Table("api_keys").Set("revoked_at = NULL").Set("user_id = ?", adminID).
				Where("source = ? AND secret_hash = ?", sourceEnv, hash).Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				return nil
			}
			_, err = tx.NewInsert().Model(&APIKey{
				ID: gid.New(gid.APIKey), UserID: adminID, Name: "KOE_ADMIN_API_KEY", Prefix: prefixOf(adminKey),
				SecretHash: hash, Source: sourceEnv, CreatedAt: now,
			}).Exec(ctx)
			return err
		}
		made, err := tx.NewSelect().Model((*APIKey)(nil)).Where("source = ?", sourceGenerated).Exists(ctx)
		if err != nil || made {
			return err
		}
		generated = newSecret()
		_, err = tx.NewInsert().Model(&APIKey{
			ID: gid.New(gid.APIKey), UserID: adminID, Name: "admin (made at first start)", Prefix: prefixOf(generated),
			SecretHash: hashSecret(generated), Source: sourceGenerated, CreatedAt: now,
		}).Exec(ctx)
		return err
	})
	// Keys were revoked or moved to the admin.
	s.ForgetKeys()
	if err != nil {
		return "", fmt.Errorf("bootstrap admin: %w", err)
	}
	return generated, nil
}

const adminUserSetting = "admin_user_id"

func (s *Service) ensureAdminUser(ctx context.Context, tx bun.Tx, adminKey string) (string, error) {
	var id string
	err := tx.NewSelect().Table("settings").Column("value").Where("key = ?", adminUserSetting).Scan(ctx, &id)
	if err == nil && adminKey != "" {
		// Like the key, the built-in admin works again after a restart:
		// the configuration is the operator's word.
		_, err = tx.NewUpdate().Table("users").Set("disabled_at = NULL").Set("disabled_by = NULL").
			Where("id = ? AND disabled_at IS NOT NULL", id).Exec(ctx)
	}
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	name := "Administrator"
	u := &User{ID: gid.New(gid.User), DisplayName: &name, Role: RoleAdmin, PlanCode: FreePlan, Locale: "en", CreatedAt: s.now()}
	if _, err := tx.NewInsert().Model(u).Exec(ctx); err != nil {
		return "", err
	}
	_, err = tx.NewInsert().Model(&store.Setting{Key: adminUserSetting, Value: u.ID}).Exec(ctx)
	return u.ID, err
}

// Authenticate returns the principal of a bearer credential: a Firebase ID
// token when Firebase is enabled and the credential is a JWT, else an API
// key. UNAUTHENTICATED when it is unknown, revoked, expired or disabled.
func (s *Service) Authenticate(ctx context.Context, credential string) (Principal, error) {
	if s.firebase != nil && looksLikeJWT(credential) {
		return s.authenticateFirebase(ctx, credential)
	}
	return s.authenticateKey(ctx, credential)
}

// keyCacheTTL is how long an API key's principal — its user's role, plan
// and row — or a Firebase user's is used without reading it again: a
// client that calls many times a second costs one lookup a second. A revoked key, and a user whose
// role or plan changed, are forgotten at once on every replica (ForgetKey,
// ForgetUser, through the bus); a lost announcement is a TTL late at most.
const keyCacheTTL = time.Second

// keyCacheMax bounds the keys remembered at once.
const keyCacheMax = 10_000

func (s *Service) authenticateKey(ctx context.Context, secret string) (Principal, error) {
	hash, now := hashSecret(secret), s.now()
	p, err := s.remembered(hash, now, func() (Principal, error) {
		var row struct {
			User
			KeyID     string     `bun:"key_id"`
			RevokedAt *time.Time `bun:"revoked_at"`
		}
		err := s.db.Read.NewSelect().Model((*User)(nil)).ColumnExpr("?TableColumns, k.id AS key_id, k.revoked_at").
			Join("JOIN api_keys AS k ON k.user_id = ?TableAlias.id").
			Where("k.secret_hash = ?", hash).Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && row.RevokedAt != nil) {
			return Principal{}, apperror.New(apperror.Unauthenticated, "the API key is not valid")
		}
		if err != nil {
			return Principal{}, fmt.Errorf("authenticate: %w", err)
		}
		if row.User.DisabledAt != nil {
			return Principal{}, errDisabled
		}
		u := row.User
		return Principal{UserID: u.ID, Role: u.Role, PlanCode: u.PlanCode, APIKeyID: row.KeyID, User: &u}, nil
	})
	if err != nil {
		return Principal{}, err
	}
	s.mu.Lock()
	s.touched[p.APIKeyID] = now
	s.mu.Unlock()
	return p, nil
}

// errDisabled refuses every credential of a disabled user.
var errDisabled = apperror.New(apperror.Unauthenticated, "this account is disabled")

// remembered returns the principal remembered under key, or reads it with
// read and remembers it for keyCacheTTL. A principal read while something
// is being forgotten is not remembered: it may be what was forgotten. Each
// caller gets its own copy of the user.
func (s *Service) remembered(key string, now time.Time, read func() (Principal, error)) (Principal, error) {
	p, ok := s.keys.get(key, now)
	if !ok {
		seen := s.keys.version()
		var err error
		if p, err = read(); err != nil {
			return Principal{}, err
		}
		s.keys.put(key, p, now.Add(keyCacheTTL), now, seen)
	}
	u := *p.User
	p.User = &u
	return p, nil
}

// ForgetKey drops what is remembered of a revoked key, so its next request
// is refused.
func (s *Service) ForgetKey(keyID string) {
	s.keys.deleteFunc(func(p Principal) bool { return p.APIKeyID == keyID })
}

// ForgetKeys drops what is remembered of every key.
func (s *Service) ForgetKeys() {
	s.keys.deleteFunc(func(Principal) bool { return true })
}

// ForgetUser drops what is remembered of a user's keys, so their next
// requests read the user again.
func (s *Service) ForgetUser(userID string) {
	s.keys.deleteFunc(func(p Principal) bool { return p.UserID == userID })
}

// RunLastUsed writes batched API key uses every lastUsedFlushEvery until ctx
// ends, then once more.
func (s *Service) RunLastUsed(ctx context.Context) {
	t := time.NewTicker(lastUsedFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = s.FlushLastUsed(context.WithoutCancel(ctx))
			return
		case <-t.C:
			_ = s.FlushLastUsed(ctx)
		}
	}
}

// FlushLastUsed writes the API key uses recorded since the last flush.
func (s *Service) FlushLastUsed(ctx context.Context) error {
	s.mu.Lock()
	touched := s.touched
	s.touched = map[string]time.Time{}
	s.mu.Unlock()
	for id, at := range touched {
		if _, err := s.db.NewUpdate().Table("api_keys").Set("last_used_at = ?", at).Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("flush api key use: %w", err)
		}
	}
	return nil
}

// MaxActiveKeys is how many unrevoked API keys one person may hold: enough
// for every script and machine, and a bound on what a leaked session can
// mint.
const MaxActiveKeys = 50

// CreateAPIKey makes a key for the principal's user and returns it with its
// secret, which is not kept and cannot be shown again. CONFLICT when they
// hold MaxActiveKeys already: revoking one makes room.
func (s *Service) CreateAPIKey(ctx context.Context, p Principal, name string) (*APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return nil, "", apperror.Invalid("name", "must be 1 to 100 characters")
	}
	secret := newSecret()
	k := &APIKey{
		ID: gid.New(gid.APIKey), UserID: p.UserID, Name: name, Prefix: prefixOf(secret),
		SecretHash: hashSecret(secret), Source: sourceUser, CreatedAt: s.now(),
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if s.db.Postgres() {
			// Two creations at once must not both see room for one more.
			if _, err := tx.NewRaw("SELECT 1 FROM users WHERE id = ? FOR UPDATE", p.UserID).Exec(ctx); err != nil {
				return err
			}
		}
		active, err := tx.NewSelect().Model((*APIKey)(nil)).Where("user_id = ? AND revoked_at IS NULL", p.UserID).Count(ctx)
		if err != nil {
			return err
		}
		if active >= MaxActiveKeys {
			return apperror.New(apperror.Conflict, "you have %d active API keys, the most one person may have; revoke one you no longer use first", MaxActiveKeys)
		}
		_, err = tx.NewInsert().Model(k).Exec(ctx)
		return err
	})
	if _, ok := apperror.As(err); ok {
		return nil, "", err
	}
	if err != nil {
		return nil, "", fmt.Errorf("create api key: %w", err)
	}
	return k, secret, nil
}

// RevokeAPIKey revokes one of the principal's keys (an admin may revoke any);
// it stops working on the next request. Revoking twice is not an error.
func (s *Service) RevokeAPIKey(ctx context.Context, p Principal, id string) (*APIKey, error) {
	if !gid.Is(id, gid.APIKey) {
		return nil, apperror.Invalid("id", "is not an API key id")
	}
	k := new(APIKey)
	if err := s.db.NewSelect().Model(k).Where("id = ?", id).Scan(ctx); err != nil || !p.CanSee(k.UserID) {
		if err == nil || errors.Is(err, sql.ErrNoRows) {
			return nil, apperror.New(apperror.NotFound, "no API key %s", id)
		}
		return nil, fmt.Errorf("revoke api key: %w", err)
	}
	if k.RevokedAt == nil {
		now := s.now()
		if _, err := s.db.NewUpdate().Model(k).Set("revoked_at = ?", now).WherePK().Where("revoked_at IS NULL").Exec(ctx); err != nil {
			return nil, fmt.Errorf("revoke api key: %w", err)
		}
		k.RevokedAt = &now
	}
	s.ForgetKey(k.ID)
	if s.onRevoke != nil {
		s.onRevoke(ctx, k.ID)
	}
	return k, nil
}

// APIKeys lists the principal's keys, revoked ones included, newest first:
// first of them (default 50, at most page.MaxFirst) after the key whose id
// is after (nil or "": from the newest). BAD_USER_INPUT names "first", or
// "after" when it is not one of the principal's keys.
func (s *Service) APIKeys(ctx context.Context, p Principal, first *int, after *string) ([]*APIKey, error) {
	req, err := page.Parse(first, nil, MaxActiveKeys, 0)
	if err != nil {
		return nil, err
	}
	keys := []*APIKey{}
	if req.First == 0 {
		return keys, nil // bun reads Limit(0) as no limit
	}
	q := s.db.NewSelect().Model(&keys).Where("user_id = ?", p.UserID)
	if after != nil && *after != "" {
		if !gid.Is(*after, gid.APIKey) {
			return nil, apperror.Invalid("after", "is not an API key id")
		}
		last := new(APIKey)
		if err := s.db.NewSelect().Model(last).Where("id = ? AND user_id = ?", *after, p.UserID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil, apperror.Invalid("after", "is not one of your API keys")
			}
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", last.CreatedAt, last.CreatedAt, last.ID)
	}
	if err := q.Order("created_at DESC", "id DESC").Limit(int64(req.First)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// UsersByID returns the users with the given ids; missing ones are absent.
func (s *Service) UsersByID(ctx context.Context, ids []string) (map[string]*User, error) {
	var users []*User
	if err := s.db.Read.NewSelect().Model(&users).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	out := make(map[string]*User, len(users))
	for _, u := range users {
		out[u.ID] = u
	}
	return out, nil
}

// Users lists users newest first; search matches email or display name, and
// a role other than "" keeps only people with it.
func (s *Service) Users(ctx context.Context, search string, role Role, req page.Request) (page.Page[*User], error) {
	search = strings.ToLower(strings.TrimSpace(search))
	users, err := page.Newest[*User](ctx, s.db.Read, req, func(q *bun.SelectQuery) *bun.SelectQuery {
		if role != "" {
			q = q.Where("role = ?", role)
		}
		if search != "" {
			like := "%" + store.EscapeLike(search) + "%"
			q = q.Where("(lower(email) LIKE ? ESCAPE '\\' OR lower(display_name) LIKE ? ESCAPE '\\')", like, like)
		}
		return q
	})
	if err != nil {
		return users, fmt.Errorf("users: %w", err)
	}
	return users, nil
}

// SetRole makes a user an ADMIN or a USER. The last admin cannot be demoted,
// so Koe always has an operator.
func (s *Service) SetRole(ctx context.Context, userID string, role Role) (*User, error) {
	if role != RoleUser && role != RoleAdmin {
		return nil, apperror.Invalid("role", "must be USER or ADMIN")
	}
	if !gid.Is(userID, gid.User) {
		return nil, apperror.Invalid("userId", "is not a user id")
	}
	u := new(User)
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(u).Where("id = ?", userID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return apperror.New(apperror.NotFound, "no user %s", userID)
			}
			return err
		}
		if u.Role == role {
			return nil
		}
		if u.Role == RoleAdmin && u.DisabledAt == nil {
			if err := s.keepAnAdmin(ctx, tx, "the last admin cannot be demoted"); err != nil {
				return err
			}
		}
		u.Role = role
		_, err := tx.NewUpdate().Model(u).Column("role").WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		if _, ok := apperror.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("set role: %w", err)
	}
	s.userChanged(ctx, userID)
	return u, nil
}

// keepAnAdmin answers CONFLICT with message when at most one admin is
// enabled, so none of them may be demoted or disabled: Koe always has an
// operator who can sign in. The enabled admins are locked on PostgreSQL
// until tx ends, so two changes at once cannot both see the other admin
// still in place; SQLite has one writer anyway.
func (s *Service) keepAnAdmin(ctx context.Context, tx bun.Tx, message string) error {
	var admins []string
	q := tx.NewSelect().Model((*User)(nil)).Column("id").Where("role = ? AND disabled_at IS NULL", RoleAdmin).Order("id")
	if s.db.Postgres() {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx, &admins); err != nil {
		return err
	}
	if len(admins) <= 1 {
		return apperror.New(apperror.Conflict, "%s", message)
	}
	return nil
}

// SetDisabled disables a user, or enables them again. A disabled user's
// API keys, ID tokens and sockets are refused on every replica at once;
// their data stays. CONFLICT for the caller themselves and for the last
// enabled admin.
func (s *Service) SetDisabled(ctx context.Context, by Principal, userID string, disabled bool) (*User, error) {
	if !gid.Is(userID, gid.User) {
		return nil, apperror.Invalid("userId", "is not a user id")
	}
	if disabled && userID == by.UserID {
		return nil, apperror.New(apperror.Conflict, "you cannot disable yourself; ask another admin")
	}
	u := new(User)
	changed := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(u).Where("id = ?", userID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return apperror.New(apperror.NotFound, "no user %s", userID)
			}
			return err
		}
		if !disabled {
			if u.DisabledAt == nil {
				return nil
			}
			u.DisabledAt, u.DisabledBy = nil, nil
		} else {
			if u.DisabledAt != nil && deref(u.DisabledBy) == DisabledByOperator {
				return nil
			}
			if u.Role == RoleAdmin && u.DisabledAt == nil {
				if err := s.keepAnAdmin(ctx, tx, "the last admin cannot be disabled"); err != nil {
					return err
				}
			}
			// An operator's word replaces Firebase's: only an operator
			// enables them again.
			now, by := s.now(), DisabledByOperator
			if u.DisabledAt == nil {
				u.DisabledAt = &now
			}
			u.DisabledBy = &by
		}
		changed = true
		_, err := tx.NewUpdate().Model(u).Column("disabled_at", "disabled_by").WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		if _, ok := apperror.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("set disabled: %w", err)
	}
	if changed {
		s.userChanged(ctx, userID)
	}
	return u, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Cursor is the page cursor of u in Users' order.
func Cursor(u *User) string { return page.Cursor(page.TimeKey(u.CreatedAt), u.ID) }
