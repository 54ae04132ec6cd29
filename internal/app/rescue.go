package app

import (
	"context"
	"fmt"
)

// rescueOrphans makes the jobs a crashed process left running available
// again, before River starts. On SQLite only one process has the database
// open (store.Open holds the data directory's lock), so at start every
// running job belongs to a process that is gone: without this it would wait
// for River's rescuer, KOE_JOB_TIMEOUT × 1.1 later (16.5 minutes by
// default), holding its person's concurrency slot and reservation. As River's
// rescuer does, a job whose attempts are spent is discarded instead, so a
// job that crashes the process cannot crash it at every start. (On
// PostgreSQL other live processes may hold running jobs: River's rescuer
// alone decides there.)
func (a *App) rescueOrphans(ctx context.Context) error {
	var rescued []struct {
		ID      int64  `bun:"id"`
		Kind    string `bun:"kind"`
		Attempt int    `bun:"attempt"`
		State   string `bun:"state"`
	}
	err := a.db.NewUpdate().Table("river_job").
		Set("state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END").
		// River writes SQLite times in this form itself.
		Set("finalized_at = CASE WHEN attempt >= max_attempts THEN datetime('now', 'subsec') END").
		Where("state = 'running'").
		Returning("id, kind, attempt, state").
		Scan(ctx, &rescued)
	if err != nil {
		return fmt.Errorf("rescue jobs left running: %w", err)
	}
	for _, j := range rescued {
		a.log.Warn("a job was left running by a process that stopped", "job", j.ID, "kind", j.Kind, "attempt", j.Attempt, "now", j.State)
	}
	return nil
}
