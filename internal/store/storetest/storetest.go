// Package storetest gives tests a fresh, migrated database: a SQLite file in a
// temporary directory, or a PostgreSQL schema of its own that is dropped when
// the test ends. PostgreSQL comes from KOE_TEST_DATABASE_URL (default: the
// local server with trust auth); when it cannot be reached the test is skipped,
// except under CI=true where it fails.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/koe-voice/koe/internal/store"
)

// Kind is a database engine.
type Kind string

// The kinds of database Koe runs on.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// Kinds are all database kinds, for tests that run on each.
var Kinds = []Kind{SQLite, Postgres}

// AdminURL is the PostgreSQL server tests create their schemas on.
func AdminURL() string {
	if u := os.Getenv("KOE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// URL returns what Koe's configuration needs for a fresh database of kind:
// DATABASE_URL (empty for SQLite) and a data directory.
func URL(t testing.TB, kind Kind) (databaseURL, dataDir string) {
	t.Helper()
	dataDir = t.TempDir()
	if kind == SQLite {
		return "", dataDir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Skipf("PostgreSQL not reachable at %s: %v", AdminURL(), err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "koetest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("KOE_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), dataDir
}

// Open returns a fresh, migrated database of kind, closed when the test ends.
func Open(t testing.TB, kind Kind) *store.DB {
	t.Helper()
	databaseURL, dataDir := URL(t, kind)
	ctx := context.Background()
	db, err := store.Open(ctx, databaseURL, dataDir)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", kind, err)
	}
	return db
}
