package auth

import (
	"time"

	"github.com/uptrace/bun"
)

// User is a person (or the built-in administrator).
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID          string  `bun:"id,pk"`
	FirebaseUID *string `bun:"firebase_uid"`
	Email       *string `bun:"email"`
	// EmailVerified is whether the address was verified by the identity
	// provider when last seen; Koe sends email only to verified addresses.
	EmailVerified bool    `bun:"email_verified,notnull"`
	DisplayName   *string `bun:"display_name"`
	Role          Role    `bun:"role,notnull"`
	PlanCode      string  `bun:"plan_code,notnull"`
	// Locale is the language Koe writes to the user in ("en", "ja").
	Locale    string    `bun:"locale,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	// DisabledAt is when the user was disabled; nil while they may sign in.
	// Every credential of a disabled user is refused.
	DisabledAt *time.Time `bun:"disabled_at"`
	// DisabledBy says who disabled them: DisabledByOperator or
	// DisabledByFirebase.
	DisabledBy *string `bun:"disabled_by"`
}

// Who disabled a user.
const (
	// DisabledByOperator: setUserDisabled; only an operator lifts it.
	DisabledByOperator = "operator"
	// DisabledByFirebase: Firebase answered that the account is disabled or
	// its sessions were revoked. Firebase accepting a token of theirs after
	// that lifts it.
	DisabledByFirebase = "firebase"
)

// APIKey is a secret that lets scripts act as its owner. Only a hash of the
// secret is kept.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID         string     `bun:"id,pk"`
	UserID     string     `bun:"user_id,notnull"`
	Name       string     `bun:"name,notnull"`
	Prefix     string     `bun:"prefix,notnull"`
	SecretHash string     `bun:"secret_hash,notnull"`
	Source     string     `bun:"source,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

// Where an API key came from.
const (
	sourceUser      = "user"      // createApiKey
	sourceEnv       = "env"       // KOE_ADMIN_API_KEY
	sourceGenerated = "generated" // made at first start when KOE_ADMIN_API_KEY is unset
)
