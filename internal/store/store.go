// Package store opens Koe's database with bun — SQLite (pure Go, modernc) by
// default, PostgreSQL when a URL is given — runs the migrations of Koe and of
// River on either, and offers the few helpers every domain package shares.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DB is Koe's database: bun for our tables, and for PostgreSQL a pgx pool for
// LISTEN/NOTIFY and migrations, and a small pool of River's own.
type DB struct {
	*bun.DB
	// Read is for reads outside a transaction that may see the last
	// committed state. On SQLite it is a pool of read-only connections
	// beside the one that writes (in WAL mode they read while it writes, on
	// every core); on PostgreSQL it is DB.
	Read *bun.DB
	// Pool is set on PostgreSQL only.
	Pool *pgxpool.Pool
	// Jobs and JobsPool are River's connections on PostgreSQL (nil on
	// SQLite, where everything shares one connection): River fetches,
	// completes and elects its leader through them, so a burst of requests
	// that takes every connection of Pool cannot stall the queue. Jobs are
	// still inserted inside bun's transactions, on Pool.
	Jobs     *sql.DB
	JobsPool *pgxpool.Pool

	// lock is held on SQLite while the database is open, so only one
	// process uses it (see lockDataDir).
	lock *os.File
}

// jobsPoolSize is River's share: its LISTEN connection, and the producers,
// completer and leader elector, which hold a connection for milliseconds.
const jobsPoolSize = 4

// statementCacheSize is how many prepared statements each of the API's
// connections keeps (pgx's default is 512).
const statementCacheSize = 64

// Postgres reports whether the database is PostgreSQL rather than SQLite.
func (db *DB) Postgres() bool { return db.Pool != nil }

// Open connects to PostgreSQL when databaseURL is set, else to the SQLite file
// koe.db in dataDir (created if missing, readable by this user only). On
// SQLite it refuses to open a database another process has open: there is
// one Koe per SQLite file, so at start every job still marked running belongs
// to a process that died.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	if databaseURL != "" {
		return openPostgres(ctx, databaseURL)
	}
	return openSQLite(dataDir)
}

func openSQLite(dataDir string) (_ *DB, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = lock.Close()
		}
	}()
	path := filepath.Join(dataDir, "koe.db")
	// It holds the signing secret of every link and every key's hash: made
	// 0600 here, its -wal and -shm files take its mode (SQLite does that).
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	dsn := "file:" + path +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	connector, err := newSQLiteConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	sqldb := sql.OpenDB(connector)
	// SQLite allows one writer at a time; River and bun share this one
	// connection so River can insert jobs inside our transactions and nothing
	// ever waits on SQLITE_BUSY.
	sqldb.SetMaxOpenConns(1)
	if err := sqldb.Ping(); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	readers := sql.OpenDB(&sqliteConnector{dsn: dsn + "&_pragma=query_only(1)", driver: connector.driver})
	readers.SetMaxOpenConns(sqliteReaders())
	readers.SetMaxIdleConns(sqliteReaders())
	db := &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), lock: lock}
	db.Read = bun.NewDB(readers, sqlitedialect.New())
	return db, nil
}

// sqliteReaders is how many read-only SQLite connections to keep: one a
// core, as SQLite's work is the process's own CPU.
func sqliteReaders() int { return max(2, runtime.GOMAXPROCS(0)) }

func openPostgres(ctx context.Context, databaseURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	// River's pool keeps pgx's default statement cache: its queries are few
	// and take arguments.
	jobsCfg := cfg.Copy()
	jobsCfg.MaxConns = jobsPoolSize
	// bun writes each query with its values in the text, so most
	// statements pgx prepares and caches are never used again, and pgx's
	// default of 512 a connection keeps megabytes of them (10,000 socket
	// upgrades, one key lookup each: ~1.8 KB a socket). The queries that do
	// repeat (lists, plans, voices) stay in a smaller cache; sending every
	// statement unprepared instead (QueryExecModeExec) made them 16-28 %
	// slower (BENCHMARKS.md §7).
	cfg.ConnConfig.StatementCacheCapacity = statementCacheSize
	cfg.ConnConfig.DescriptionCacheCapacity = statementCacheSize
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	jobsPool, err := pgxpool.NewWithConfig(ctx, jobsCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// bun goes through database/sql over the pgx pool, so River's
	// riverdatabasesql driver can insert jobs inside bun transactions.
	sqldb := stdlib.OpenDBFromPool(pool)
	db := &DB{
		DB: bun.NewDB(sqldb, pgdialect.New()), Pool: pool,
		Jobs: stdlib.OpenDBFromPool(jobsPool), JobsPool: jobsPool,
	}
	db.Read = db.DB
	return db, nil
}

// AddQueryHook adds h to the queries of DB and of Read.
func (db *DB) AddQueryHook(h bun.QueryHook) {
	db.DB.AddQueryHook(h)
	if db.Read != db.DB {
		db.Read.AddQueryHook(h)
	}
}

// Close closes every connection.
func (db *DB) Close() error {
	err := db.DB.Close()
	if db.Read != db.DB {
		err = errors.Join(err, db.Read.Close())
	}
	if db.Pool != nil {
		err = errors.Join(err, db.Jobs.Close())
		db.JobsPool.Close()
		db.Pool.Close()
	}
	if db.lock != nil {
		err = errors.Join(err, db.lock.Close())
	}
	return err
}

// IsUniqueViolation reports whether err is a unique or primary key violation.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		c := sqliteErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// EscapeLike escapes LIKE's wildcards in s with a backslash, so user input
// matches literally in a `LIKE ? ESCAPE '\'` clause.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Setting is a row of the settings table: one value Koe keeps for itself.
type Setting struct {
	bun.BaseModel `bun:"table:settings"`

	Key   string `bun:"key,pk"`
	Value string `bun:"value,notnull"`
}

// Setting returns the value of a setting, storing make()'s value first if the
// setting is new. Replicas starting at once agree on one value.
func (db *DB) Setting(ctx context.Context, key string, make func() string) (string, error) {
	if _, err := db.NewInsert().Model(&Setting{Key: key, Value: make()}).On("CONFLICT (key) DO NOTHING").Exec(ctx); err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	var value string
	if err := db.NewSelect().Table("settings").Column("value").Where("key = ?", key).Scan(ctx, &value); err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return value, nil
}
