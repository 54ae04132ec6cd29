package auth_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/store/storetest"
)

type bundle struct {
	db   *store.DB
	auth *auth.Service
}

func setup(t *testing.T, kind storetest.Kind) bundle {
	t.Helper()
	db := storetest.Open(t, kind)
	return bundle{db: db, auth: auth.NewService(db)}
}

// forEachDatabase runs test on SQLite and PostgreSQL, in parallel.
func forEachDatabase(t *testing.T, test func(t *testing.T, b bundle)) {
	t.Helper()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			test(t, setup(t, kind))
		})
	}
}

// addUser inserts a user as sign-up would; email and name may be empty.
func (b bundle) addUser(t *testing.T, email, name string, role auth.Role, createdAt time.Time) *auth.User {
	t.Helper()
	u := &auth.User{ID: gid.New(gid.User), Role: role, PlanCode: auth.FreePlan, CreatedAt: createdAt.UTC()}
	if email != "" {
		u.Email = &email
	}
	if name != "" {
		u.DisplayName = &name
	}
	_, err := b.db.NewInsert().Model(u).Exec(t.Context())
	require.NoError(t, err)
	return u
}

func (b bundle) count(t *testing.T, table, where string, args ...any) int {
	t.Helper()
	n, err := b.db.NewSelect().Table(table).Where(where, args...).Count(t.Context())
	require.NoError(t, err)
	return int(n)
}

func requireCode(t *testing.T, err error, code apperror.Code) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, apperror.CodeOf(err), "%v", err)
}

func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := apperror.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperror.BadUserInput, e.Code)
	require.Equal(t, field, e.Field)
}

// secretPattern is what CreateAPIKey and Bootstrap hand out: the prefix,
// then 256 bits in lower-case Crockford base32 (52 characters).
var secretPattern = regexp.MustCompile(`^koe_[0-9a-hjkmnp-tv-z]{52}$`)

func TestBootstrapWithoutKeyMakesOneAdminKeyOnce(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		secret, err := b.auth.Bootstrap(ctx, "")
		require.NoError(t, err)
		require.Regexp(t, secretPattern, secret)

		p, err := b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, auth.RoleAdmin, p.Role)
		require.True(t, p.IsAdmin())
		require.NotEmpty(t, p.APIKeyID)

		again, err := b.auth.Bootstrap(ctx, "")
		require.NoError(t, err)
		require.Empty(t, again, "the key is printed at first start only")
		restarted, err := auth.NewService(b.db).Bootstrap(ctx, "")
		require.NoError(t, err)
		require.Empty(t, restarted, "nor after a restart")

		require.Equal(t, 1, b.count(t, "api_keys", "TRUE"))
		require.Equal(t, 1, b.count(t, "users", "role = ?", auth.RoleAdmin), "one built-in administrator")
		_, err = b.auth.Authenticate(ctx, secret)
		require.NoError(t, err, "the first key still works")
	})
}

func TestBootstrapWithAdminKey(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		first, second := strings.Repeat("1", 32)+"-first-admin-key", strings.Repeat("2", 40)

		generated, err := b.auth.Bootstrap(ctx, first)
		require.NoError(t, err)
		require.Empty(t, generated, "nothing to print: the operator chose the key")
		p1, err := b.auth.Authenticate(ctx, first)
		require.NoError(t, err)
		require.Equal(t, auth.RoleAdmin, p1.Role)

		// A restart with the same key changes nothing.
		_, err = auth.NewService(b.db).Bootstrap(ctx, first)
		require.NoError(t, err)
		require.Equal(t, 1, b.count(t, "api_keys", "TRUE"))
		_, err = b.auth.Authenticate(ctx, first)
		require.NoError(t, err)

		// A new key replaces the old one, for the same administrator.
		_, err = b.auth.Bootstrap(ctx, second)
		require.NoError(t, err)
		p2, err := b.auth.Authenticate(ctx, second)
		require.NoError(t, err)
		require.Equal(t, p1.UserID, p2.UserID)
		_, err = b.auth.Authenticate(ctx, first)
		requireCode(t, err, apperror.Unauthenticated)

		require.Equal(t, 1, b.count(t, "users", "role = ?", auth.RoleAdmin))
		require.Equal(t, 1, b.count(t, "api_keys", "revoked_at IS NULL"), "only the configured key works")

		// Going back to the first key makes it work again, and only it.
		_, err = b.auth.Bootstrap(ctx, first)
		require.NoError(t, err)
		_, err = b.auth.Authenticate(ctx, first)
		require.NoError(t, err)
		_, err = b.auth.Authenticate(ctx, second)
		requireCode(t, err, apperror.Unauthenticated)

		// Unsetting KOE_ADMIN_API_KEY stops it working; a key is made and
		// shown instead.
		made, err := b.auth.Bootstrap(ctx, "")
		require.NoError(t, err)
		require.NotEmpty(t, made)
		_, err = b.auth.Authenticate(ctx, first)
		requireCode(t, err, apperror.Unauthenticated)
		_, err = b.auth.Authenticate(ctx, made)
		require.NoError(t, err)
	})
}

func TestCreateAPIKey(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		u := b.addUser(t, "ada@example.com", "Ada", auth.RoleUser, time.Now())
		p := auth.Principal{UserID: u.ID, Role: auth.RoleUser}

		key, secret, err := b.auth.CreateAPIKey(ctx, p, "  build server  ")
		require.NoError(t, err)
		require.Regexp(t, secretPattern, secret, "koe_ and 256 random bits")
		require.GreaterOrEqual(t, (len(secret)-len(auth.KeyPrefix))*5, 192)
		require.Equal(t, "build server", key.Name)
		require.Equal(t, u.ID, key.UserID)
		require.True(t, strings.HasPrefix(secret, key.Prefix), "the prefix shown helps tell keys apart")
		require.Less(t, len(key.Prefix), 16, "the prefix gives little of the secret away")

		// The secret itself is nowhere in the row.
		row := map[string]any{}
		require.NoError(t, b.db.NewSelect().Table("api_keys").Where("id = ?", key.ID).Scan(ctx, &row))
		require.NotEmpty(t, row)
		for column, value := range row {
			v := fmt.Sprint(value)
			require.NotContains(t, v, secret[len(key.Prefix):], "column %s", column)
			require.NotContains(t, strings.ToLower(v), secret[len(secret)-16:], "column %s", column)
		}

		got, err := b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, auth.Principal{UserID: u.ID, Role: auth.RoleUser, PlanCode: auth.FreePlan, APIKeyID: key.ID, User: got.User}, got)
		require.NotNil(t, got.User)
		require.Equal(t, u.ID, got.User.ID)
		require.Equal(t, "ada@example.com", *got.User.Email, "the caller's user, read with the key")
		require.Equal(t, "Ada", *got.User.DisplayName)
		require.Equal(t, auth.FreePlan, got.User.PlanCode)

		_, other, err := b.auth.CreateAPIKey(ctx, p, "laptop")
		require.NoError(t, err)
		require.NotEqual(t, secret, other)

		for _, name := range []string{"", "   ", strings.Repeat("x", 101)} {
			_, _, err := b.auth.CreateAPIKey(ctx, p, name)
			requireInvalid(t, err, "name")
		}
		_, _, err = b.auth.CreateAPIKey(ctx, p, strings.Repeat("声", 100))
		require.NoError(t, err, "100 characters, whatever their bytes")

		keys, err := b.auth.APIKeys(ctx, p, nil, nil)
		require.NoError(t, err)
		require.Len(t, keys, 3)
		require.Equal(t, key.ID, keys[2].ID, "newest first")
	})
}

func TestAuthenticateRejectsUnknownKeys(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		secret, err := b.auth.Bootstrap(ctx, "")
		require.NoError(t, err)
		for _, bad := range []string{"", "koe_", secret[:len(secret)-1], secret + "x", strings.ToUpper(secret)} {
			_, err := b.auth.Authenticate(ctx, bad)
			requireCode(t, err, apperror.Unauthenticated)
		}
	})
}

func TestRevokeAPIKey(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		ada := auth.Principal{UserID: b.addUser(t, "ada@example.com", "", auth.RoleUser, time.Now()).ID, Role: auth.RoleUser}
		bob := auth.Principal{UserID: b.addUser(t, "bob@example.com", "", auth.RoleUser, time.Now()).ID, Role: auth.RoleUser}
		admin := auth.Principal{UserID: b.addUser(t, "ops@example.com", "", auth.RoleAdmin, time.Now()).ID, Role: auth.RoleAdmin}
		adaKey, adaSecret, err := b.auth.CreateAPIKey(ctx, ada, "ada's")
		require.NoError(t, err)
		bobKey, bobSecret, err := b.auth.CreateAPIKey(ctx, bob, "bob's")
		require.NoError(t, err)

		_, err = b.auth.RevokeAPIKey(ctx, ada, bobKey.ID)
		requireCode(t, err, apperror.NotFound)
		_, err = b.auth.Authenticate(ctx, bobSecret)
		require.NoError(t, err, "another user cannot revoke it")

		revoked, err := b.auth.RevokeAPIKey(ctx, ada, adaKey.ID)
		require.NoError(t, err)
		require.NotNil(t, revoked.RevokedAt)
		_, err = b.auth.Authenticate(ctx, adaSecret)
		requireCode(t, err, apperror.Unauthenticated)

		again, err := b.auth.RevokeAPIKey(ctx, ada, adaKey.ID)
		require.NoError(t, err, "revoking twice is not an error")
		require.True(t, revoked.RevokedAt.Equal(*again.RevokedAt), "and keeps the first time")

		_, err = b.auth.RevokeAPIKey(ctx, admin, bobKey.ID)
		require.NoError(t, err, "an admin may revoke any key")
		_, err = b.auth.Authenticate(ctx, bobSecret)
		requireCode(t, err, apperror.Unauthenticated)

		_, err = b.auth.RevokeAPIKey(ctx, ada, gid.New(gid.APIKey))
		requireCode(t, err, apperror.NotFound)
		_, err = b.auth.RevokeAPIKey(ctx, ada, ada.UserID)
		requireInvalid(t, err, "id")
	})
}

func TestFlushLastUsed(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		p := auth.Principal{UserID: b.addUser(t, "ada@example.com", "", auth.RoleUser, time.Now()).ID, Role: auth.RoleUser}
		used, secret, err := b.auth.CreateAPIKey(ctx, p, "used")
		require.NoError(t, err)
		idle, _, err := b.auth.CreateAPIKey(ctx, p, "idle")
		require.NoError(t, err)
		require.Nil(t, used.LastUsedAt)

		before := time.Now().Add(-time.Second)
		_, err = b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.NoError(t, b.auth.FlushLastUsed(ctx))

		keys, err := b.auth.APIKeys(ctx, p, nil, nil)
		require.NoError(t, err)
		byID := map[string]*auth.APIKey{}
		for _, k := range keys {
			byID[k.ID] = k
		}
		require.NotNil(t, byID[used.ID].LastUsedAt, "the use is recorded")
		require.WithinRange(t, *byID[used.ID].LastUsedAt, before, time.Now().Add(time.Second))
		require.Nil(t, byID[idle.ID].LastUsedAt, "an unused key has no last use")

		require.NoError(t, b.auth.FlushLastUsed(ctx), "nothing new to write")
	})
}

func TestSetRoleKeepsAnAdmin(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		secret, err := b.auth.Bootstrap(ctx, "")
		require.NoError(t, err)
		root, err := b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)

		_, err = b.auth.SetRole(ctx, root.UserID, auth.RoleUser)
		requireCode(t, err, apperror.Conflict)
		p, err := b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, auth.RoleAdmin, p.Role, "the last admin is still one")

		same, err := b.auth.SetRole(ctx, root.UserID, auth.RoleAdmin)
		require.NoError(t, err, "no change is no conflict")
		require.Equal(t, auth.RoleAdmin, same.Role)

		ada := b.addUser(t, "ada@example.com", "Ada", auth.RoleUser, time.Now())
		promoted, err := b.auth.SetRole(ctx, ada.ID, auth.RoleAdmin)
		require.NoError(t, err)
		require.Equal(t, auth.RoleAdmin, promoted.Role)

		demoted, err := b.auth.SetRole(ctx, root.UserID, auth.RoleUser)
		require.NoError(t, err, "with two admins, one may go")
		require.Equal(t, auth.RoleUser, demoted.Role)
		p, err = b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, auth.RoleUser, p.Role, "the key now acts as a user")

		_, err = b.auth.SetRole(ctx, ada.ID, auth.RoleUser)
		requireCode(t, err, apperror.Conflict)

		_, err = b.auth.SetRole(ctx, ada.ID, auth.Role("ROOT"))
		requireInvalid(t, err, "role")
		_, err = b.auth.SetRole(ctx, "usr_nope", auth.RoleAdmin)
		requireInvalid(t, err, "userId")
		_, err = b.auth.SetRole(ctx, gid.New(gid.User), auth.RoleAdmin)
		requireCode(t, err, apperror.NotFound)
	})
}

func TestConcurrentDemotionsLeaveAnAdmin(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		for round := range 10 {
			a := b.addUser(t, fmt.Sprintf("a%d@example.com", round), "", auth.RoleAdmin, time.Now())
			c := b.addUser(t, fmt.Sprintf("c%d@example.com", round), "", auth.RoleAdmin, time.Now())
			start := make(chan struct{})
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, id := range []string{a.ID, c.ID} {
				wg.Go(func() {
					<-start
					_, errs[i] = b.auth.SetRole(ctx, id, auth.RoleUser)
				})
			}
			close(start)
			wg.Wait()

			require.Equal(t, 1, b.count(t, "users", "role = ?", auth.RoleAdmin), "round %d: %v", round, errs)
			failed := 0
			for _, err := range errs {
				if err != nil {
					requireCode(t, err, apperror.Conflict)
					failed++
				}
			}
			require.Equal(t, 1, failed, "round %d: one demotion wins, the other is refused", round)

			// Demote the survivor too, so the next round's pair are the
			// only admins.
			_, err := b.db.NewUpdate().Table("users").Set("role = ?", auth.RoleUser).Where("id IN (?, ?)", a.ID, c.ID).Exec(ctx)
			require.NoError(t, err)
		}
	})
}

func TestUsersSearchAndPages(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		var all []*auth.User // newest first, as Users lists them
		add := func(email, name string, at time.Time) *auth.User {
			u := b.addUser(t, email, name, auth.RoleUser, at)
			all = append([]*auth.User{u}, all...)
			return u
		}
		add("ada@example.com", "Ada Lovelace", base)
		add("alan@example.com", "", base.Add(time.Microsecond))
		add("", "ALICE", base.Add(time.Second))
		// Three users made in the same microsecond: the id breaks the tie.
		tie := base.Add(time.Minute)
		add("t1@example.com", "", tie)
		add("t2@example.com", "", tie)
		add("t3@example.com", "", tie)
		add("percent@example.com", "100% sure", base.Add(time.Hour))
		add("under_score@example.com", "", base.Add(2*time.Hour))
		add("bob@example.org", "Bob", base.Add(24*time.Hour))
		// The order above is the creation order except for the tie,
		// which the id (time-ordered too) settles the same way.

		walk := func(search string, size int) (ids []string, totals []int) {
			var after *string
			for {
				req, err := page.Parse(&size, after, 20, 2)
				require.NoError(t, err)
				p, err := b.auth.Users(ctx, search, "", req)
				require.NoError(t, err)
				totals = append(totals, p.TotalCount)
				for _, u := range p.Items {
					ids = append(ids, u.ID)
				}
				if !p.HasNextPage {
					return ids, totals
				}
				require.Len(t, p.Items, size)
				c := auth.Cursor(p.Items[len(p.Items)-1])
				after = &c
			}
		}
		var want []string
		for _, u := range all {
			want = append(want, u.ID)
		}
		for _, size := range []int{1, 2, 3, 100} {
			ids, totals := walk("", size)
			require.Equal(t, want, ids, "pages of %d visit every user once, newest first", size)
			for _, total := range totals {
				require.Equal(t, len(all), total)
			}
		}

		emailsWith := func(search string, role auth.Role) []string {
			req, err := page.Parse(nil, nil, 20, 2)
			require.NoError(t, err)
			p, err := b.auth.Users(ctx, search, role, req)
			require.NoError(t, err)
			require.Equal(t, len(p.Items), p.TotalCount)
			var out []string
			for _, u := range p.Items {
				if u.Email != nil {
					out = append(out, *u.Email)
				} else {
					out = append(out, "name:"+*u.DisplayName)
				}
			}
			return out
		}
		emails := func(search string) []string { return emailsWith(search, "") }
		require.Equal(t, []string{"name:ALICE", "alan@example.com"}, emails("  al "), "email or name, any case")
		require.Equal(t, []string{"ada@example.com"}, emails("LOVELACE"))
		require.Equal(t, []string{"bob@example.org"}, emails(".org"))
		require.Equal(t, []string{"percent@example.com"}, emails("%"), "% is a character, not a wildcard")
		require.Equal(t, []string{"under_score@example.com"}, emails("_"), "_ is a character, not a wildcard")
		require.Empty(t, emails("nobody"))

		_, err := b.db.NewUpdate().Table("users").Set("role = ?", auth.RoleAdmin).Where("email = ?", "ada@example.com").Exec(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"ada@example.com"}, emailsWith("", auth.RoleAdmin), "only admins")
		require.Equal(t, []string{"name:ALICE", "alan@example.com"}, emailsWith("  al ", auth.RoleUser))
		require.Empty(t, emailsWith("lovelace", auth.RoleUser), "role and search together")
		require.Empty(t, emailsWith("bob", auth.RoleAdmin))

		ids, totals := walk("example.com", 2)
		require.Len(t, ids, 7)
		require.Equal(t, []int{7, 7, 7, 7}, totals, "the count is of all matches, on every page")

		bad := page.Cursor("not a time", "usr_x")
		req, err := page.Parse(nil, &bad, 20, 2)
		require.NoError(t, err)
		_, err = b.auth.Users(ctx, "", "", req)
		requireInvalid(t, err, "after")
	})
}

func TestUsersByID(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ada := b.addUser(t, "ada@example.com", "Ada", auth.RoleUser, time.Now())
		missing := gid.New(gid.User)
		got, err := b.auth.UsersByID(t.Context(), []string{ada.ID, missing})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, "Ada", *got[ada.ID].DisplayName)
	})
}

func TestRequireRole(t *testing.T) {
	t.Parallel()
	user := auth.Principal{UserID: "usr_a", Role: auth.RoleUser}
	admin := auth.Principal{UserID: "usr_b", Role: auth.RoleAdmin}
	tests := []struct {
		name string
		ctx  context.Context
		min  auth.Role
		want apperror.Code // "" for allowed
	}{
		{"anonymous", context.Background(), auth.RoleUser, apperror.Unauthenticated},
		{"user as user", auth.WithPrincipal(context.Background(), user), auth.RoleUser, ""},
		{"user as admin", auth.WithPrincipal(context.Background(), user), auth.RoleAdmin, apperror.Forbidden},
		{"admin as user", auth.WithPrincipal(context.Background(), admin), auth.RoleUser, ""},
		{"admin as admin", auth.WithPrincipal(context.Background(), admin), auth.RoleAdmin, ""},
		{"unknown role", auth.WithPrincipal(context.Background(), auth.Principal{UserID: "usr_c", Role: "ROOT"}), auth.RoleUser, apperror.Forbidden},
	}
	for _, tt := range tests {
		p, err := auth.RequireRole(tt.ctx, tt.min)
		if tt.want == "" {
			require.NoError(t, err, tt.name)
			got, _ := auth.FromContext(tt.ctx)
			require.Equal(t, got, p, tt.name)
		} else {
			requireCode(t, err, tt.want)
		}
	}

	require.True(t, user.CanSee("usr_a"))
	require.False(t, user.CanSee("usr_b"), "a user sees only their own")
	require.True(t, admin.CanSee("usr_a"), "an admin sees everyone's")
}

// TestKeysAreRememberedForASecond: a key's principal is read once a
// KeyCacheTTL; a revocation or a role change made here counts at once, and
// one made on another replica as soon as this one is told (the app forwards
// the bus's announcements to ForgetKey and ForgetUser).
func TestKeysAreRememberedForASecond(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, b bundle) {
		ctx := t.Context()
		now := time.Now().UTC()
		b.auth.SetClock(func() time.Time { return now })
		u := b.addUser(t, "ada@example.com", "Ada", auth.RoleUser, now)
		key, secret, err := b.auth.CreateAPIKey(ctx, auth.Principal{UserID: u.ID, Role: auth.RoleUser}, "script")
		require.NoError(t, err)
		first, err := b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)

		_, err = b.db.NewUpdate().Table("users").Set("plan_code = 'pro'").Where("id = ?", u.ID).Exec(ctx)
		require.NoError(t, err)
		again, err := b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, auth.FreePlan, again.PlanCode, "remembered for a second")
		require.NotSame(t, first.User, again.User, "each request gets its own copy of the user")
		now = now.Add(auth.KeyCacheTTL)
		later, err := b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, "pro", later.PlanCode, "read again after the TTL")
		require.Equal(t, "pro", later.User.PlanCode)

		// Another replica changes the role, then revokes the key.
		other := auth.NewService(b.db)
		_, err = other.SetRole(ctx, u.ID, auth.RoleAdmin)
		require.NoError(t, err)
		b.auth.ForgetUser(u.ID)
		p, err := b.auth.Authenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, auth.RoleAdmin, p.Role, "the role counts once this replica is told")

		_, err = other.RevokeAPIKey(ctx, p, key.ID)
		require.NoError(t, err)
		_, err = b.auth.Authenticate(ctx, secret)
		require.NoError(t, err, "this replica has not heard yet")
		b.auth.ForgetKey(key.ID)
		_, err = b.auth.Authenticate(ctx, secret)
		requireCode(t, err, apperror.Unauthenticated)

		// Made here, both count at once.
		b.addUser(t, "boss@example.com", "Boss", auth.RoleAdmin, now)
		second, secret2, err := b.auth.CreateAPIKey(ctx, p, "second")
		require.NoError(t, err)
		p, err = b.auth.Authenticate(ctx, secret2)
		require.NoError(t, err)
		require.Equal(t, auth.RoleAdmin, p.Role)
		_, err = b.auth.SetRole(ctx, u.ID, auth.RoleUser)
		require.NoError(t, err)
		p, err = b.auth.Authenticate(ctx, secret2)
		require.NoError(t, err)
		require.Equal(t, auth.RoleUser, p.Role)
		_, err = b.auth.RevokeAPIKey(ctx, p, second.ID)
		require.NoError(t, err)
		_, err = b.auth.Authenticate(ctx, secret2)
		requireCode(t, err, apperror.Unauthenticated)
	})
}
