package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
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

// TestSQLiteIsPrivateAndOneProcess: under the usual umask (022) the data
// directory, the database and its WAL were readable by every local user;
// they are now the server user's alone. A second open of the same data
// directory is refused while the first is open, and works once it closes.
func TestSQLiteIsPrivateAndOneProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(ctx, "", dir)
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx))
	for name, want := range map[string]os.FileMode{".": 0o700, "koe.db": 0o600, "koe.db-wal": 0o600, "koe.lock": 0o600} {
		info, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		require.Equal(t, want, info.Mode().Perm(), name)
	}

	_, err = store.Open(ctx, "", dir)
	require.ErrorIs(t, err, store.ErrDataDirInUse)
	require.ErrorContains(t, err, "KOE_DATA_DIR")
	require.NoError(t, db.Close())
	again, err := store.Open(ctx, "", dir)
	require.NoError(t, err, "the lock goes with the process that held it")
	require.NoError(t, again.Close())
}

func TestBucketURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"file:///var/lib/koe/blobs?create_dir=true":         "file:///var/lib/koe/blobs?create_dir=true&dir_file_mode=0700&no_tmp_dir=true",
		"file:///data/blobs?dir_file_mode=0750":             "file:///data/blobs?dir_file_mode=0750&no_tmp_dir=true",
		"file:///data/blobs?no_tmp_dir=&dir_file_mode=0700": "file:///data/blobs?dir_file_mode=0700&no_tmp_dir=",
		"s3://bucket?region=eu-west-1":                      "s3://bucket?region=eu-west-1",
	} {
		require.Equal(t, want, store.BucketURL(raw), raw)
	}
}
