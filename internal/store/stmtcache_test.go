package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// openCaching opens a SQLite file through the caching connector, on one
// connection as Koe does.
func openCaching(t *testing.T) *sql.DB {
	t.Helper()
	c, err := newSQLiteConnector("file:" + t.TempDir() + "/cache.db?_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`)
	require.NoError(t, err)
	for i := range 5 {
		_, err = db.Exec(`INSERT INTO t (id, name) VALUES (?, ?)`, i, fmt.Sprintf("n%d", i))
		require.NoError(t, err)
	}
	return db
}

// cached returns the texts the connection keeps prepared, newest first.
func cached(t *testing.T, db *sql.DB) []string {
	t.Helper()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	var texts []string
	require.NoError(t, conn.Raw(func(dc any) error {
		c := dc.(*cachingConn)
		for e := c.order.Front(); e != nil; e = e.Next() {
			texts = append(texts, e.Value.(*cachedStmt).text)
		}
		return nil
	}))
	return texts
}

func names(t *testing.T, q interface {
	Query(string, ...any) (*sql.Rows, error)
}, query string, args ...any) []string {
	t.Helper()
	rows, err := q.Query(query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestStatementCacheKeepsSelects(t *testing.T) {
	t.Parallel()
	db := openCaching(t)
	const q = `SELECT name FROM t WHERE id < ? ORDER BY id`
	for range 3 {
		require.Equal(t, []string{"n0", "n1"}, names(t, db, q, 2))
	}
	require.Equal(t, []string{"n3", "n4"}, names(t, db, `SELECT name FROM t WHERE id >= ? ORDER BY id`, 3), "another argument, the same statement")
	require.Equal(t, []string{`SELECT name FROM t WHERE id >= ? ORDER BY id`, q}, cached(t, db), "each SELECT prepared once; INSERTs and DDL are not kept")

	// A column added after the statement was prepared is seen: SQLite
	// prepares it again itself.
	_, err := db.Exec(`ALTER TABLE t ADD COLUMN nick TEXT NOT NULL DEFAULT 'x'`)
	require.NoError(t, err)
	require.Equal(t, []string{"x"}, names(t, db, `SELECT nick FROM t WHERE id = 0`))
	rows, err := db.Query(`SELECT * FROM t WHERE id = 0`)
	require.NoError(t, err)
	cols, err := rows.Columns()
	require.NoError(t, err)
	require.Equal(t, []string{"id", "name", "nick"}, cols)
	require.NoError(t, rows.Close())
}

func TestStatementCacheEvictsOldest(t *testing.T) {
	t.Parallel()
	db := openCaching(t)
	for i := range statementCacheSize + 10 {
		require.Equal(t, []string{"n1"}, names(t, db, fmt.Sprintf(`SELECT name FROM t WHERE id = 1 AND %d = %d`, i, i)))
	}
	texts := cached(t, db)
	require.Len(t, texts, statementCacheSize)
	require.Equal(t, fmt.Sprintf(`SELECT name FROM t WHERE id = 1 AND %d = %d`, statementCacheSize+9, statementCacheSize+9), texts[0])
	require.Equal(t, []string{"n1"}, names(t, db, `SELECT name FROM t WHERE id = 1 AND 0 = 0`), "an evicted text is prepared again")
}

// TestStatementCacheSameTextTwiceAtOnce: a SELECT run while the rows of the
// same text are still open (inside a transaction, on the one connection)
// does not disturb them.
func TestStatementCacheSameTextTwiceAtOnce(t *testing.T) {
	t.Parallel()
	db := openCaching(t)
	tx, err := db.Begin()
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	const q = `SELECT name FROM t ORDER BY id`
	outer, err := tx.Query(q)
	require.NoError(t, err)
	var got []string
	for outer.Next() {
		var s string
		require.NoError(t, outer.Scan(&s))
		got = append(got, s)
		require.Len(t, names(t, tx, q), 5, "the inner query reads every row")
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	require.Equal(t, []string{"n0", "n1", "n2", "n3", "n4"}, got, "the outer query reads on undisturbed")
	require.Equal(t, []string{"n0", "n1", "n2", "n3", "n4"}, names(t, tx, q), "and the statement is free again")
}
