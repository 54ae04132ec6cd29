package store

import (
	"context"
	"embed"
	"fmt"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/uptrace/bun/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// startLockKey is the PostgreSQL advisory lock under which replicas do their
// start-up writes one at a time.
const startLockKey = 0x6b6f65 // "koe"

// Exclusive runs fn while no other Koe process runs an Exclusive fn on this
// database: on PostgreSQL under an advisory lock (the others wait), on SQLite
// as is (one process owns the file).
func (db *DB) Exclusive(ctx context.Context, fn func(context.Context) error) error {
	if !db.Postgres() {
		return fn(ctx)
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("exclusive: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", startLockKey); err != nil {
		return fmt.Errorf("exclusive: lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", startLockKey) }()
	return fn(ctx)
}

// Migrate brings Koe's tables and River's up to date. Replicas starting at
// once take turns; the later ones find nothing to do.
func (db *DB) Migrate(ctx context.Context) error {
	return db.Exclusive(ctx, func(ctx context.Context) error {
		if err := db.migrateKoe(ctx); err != nil {
			return err
		}
		return db.migrateRiver(ctx)
	})
}

func (db *DB) migrateKoe(ctx context.Context) error {
	migrations := migrate.NewMigrations()
	if err := migrations.Discover(migrationFiles); err != nil {
		return fmt.Errorf("migrate: discover: %w", err)
	}
	timeType := "TEXT"
	if db.Postgres() {
		timeType = "TIMESTAMPTZ"
	}
	m := migrate.NewMigrator(db.DB, migrations,
		migrate.WithTableName("koe_migrations"),
		migrate.WithLocksTableName("koe_migration_locks"),
		migrate.WithMarkAppliedOnSuccess(true),
		migrate.WithTemplateData(map[string]any{"Time": timeType, "Postgres": db.Postgres()}),
	)
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrate: init: %w", err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func (db *DB) migrateRiver(ctx context.Context) error {
	if db.Postgres() {
		return runRiverMigrations(ctx, riverpgxv5.New(db.Pool))
	}
	return runRiverMigrations(ctx, riversqlite.New(db.DB.DB))
}

func runRiverMigrations[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err == nil {
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	}
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	return nil
}
