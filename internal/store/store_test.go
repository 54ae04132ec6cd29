package store_test

import (
	"context"
	"testing"

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
