package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/store/storetest"
)

func TestMigrateTwiceAndUniqueViolation(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, kind)
			// A second run (a restart, or a second replica) finds nothing to do.
			require.NoError(t, db.Migrate(ctx))

			_, err := db.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ('a', '1')")
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ('a', '2')")
			require.Error(t, err)
			require.True(t, store.IsUniqueViolation(err), "%v", err)

			var riverTables int
			require.NoError(t, db.NewRaw("SELECT count(*) FROM river_job").Scan(ctx, &riverTables))
		})
	}
}

// TestReadersReadWhileTheWriterWrites: on SQLite, reads through Read see
// every commit at once, do not wait for a transaction that is writing, and
// cannot write.
func TestReadersReadWhileTheWriterWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite)
	value := func() string {
		var v string
		err := db.Read.NewSelect().Table("settings").Column("value").Where("key = 'k'").Scan(ctx, &v)
		if errors.Is(err, sql.ErrNoRows) {
			return ""
		}
		require.NoError(t, err)
		return v
	}
	_, err := db.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ('k', 'committed')")
	require.NoError(t, err)
	require.Equal(t, "committed", value(), "a commit is seen by the next read")

	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "UPDATE settings SET value = 'pending' WHERE key = 'k'")
	require.NoError(t, err)
	// The one writing connection is held by tx: this read would wait for
	// it if it went there.
	done := make(chan string, 1)
	go func() { done <- value() }()
	select {
	case v := <-done:
		require.Equal(t, "committed", v, "a read sees the last commit, not the transaction's writes")
	case <-time.After(10 * time.Second):
		t.Fatal("a read waited for a writing transaction")
	}
	require.NoError(t, tx.Commit())
	require.Equal(t, "pending", value())

	_, err = db.Read.ExecContext(ctx, "UPDATE settings SET value = 'x'")
	require.ErrorContains(t, err, "readonly", "the readers cannot write")
}
