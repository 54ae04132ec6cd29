// Package riverwake makes River start a job queued on SQLite at once,
// instead of at its listener's next poll.
//
// River's SQLite driver has no LISTEN/NOTIFY: a transaction that inserts a
// job writes a row to river_notification, and the listener reads that table
// every 50 ms (riversqlite v0.51, not configurable). So a generation queued
// on SQLite waits 0–50 ms, 35 ms at the median (BENCHMARKS §2), before a
// worker hears of it: a third of Koe's time for 200 characters. Driver wraps
// riversqlite's driver so that Wake, called once a transaction that queued
// a job has committed, makes the listener read the table at once; River
// then fetches the job as it would on any notification. Only a job queued
// in this process is woken for, which on SQLite, one process to a data
// folder, is every job.
//
// It is a speed-up (BENCHMARKS §17: pickup 26–33 ms to 7–9 ms, the first
// progress of a 2,000-character generation 77–88 ms to 45–52 ms) behind
// the setting KOE_JOB_WAKE, on by default; off, River polls as it ships.
package riverwake

import (
	"context"
	"database/sql"
	"errors"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// Driver is riversqlite's driver whose listener Wake wakes.
type Driver struct {
	*riversqlite.Driver
	wake chan struct{}
}

var _ riverdriver.Driver[*sql.Tx] = (*Driver)(nil)

// New wraps riversqlite.New(db).
func New(db *sql.DB) *Driver {
	return &Driver{Driver: riversqlite.New(db), wake: make(chan struct{}, 1)}
}

// Wake makes the listener read river_notification now. Call it after the
// transaction that inserted jobs has committed: before, the listener would
// find nothing yet. It never blocks.
func (d *Driver) Wake() {
	select {
	case d.wake <- struct{}{}:
	default: // a wake is pending already
	}
}

// GetListener returns riversqlite's listener, woken by Wake.
func (d *Driver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return &listener{Listener: d.Driver.GetListener(params), wake: d.wake}
}

type listener struct {
	riverdriver.Listener
	wake <-chan struct{}
}

// WaitForNotification waits as riversqlite's listener does, whose every
// call starts with a read of the table; a wake ends the wait under way and
// starts another.
func (l *listener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	for {
		wctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-l.wake:
				cancel()
			case <-wctx.Done():
			}
		}()
		n, err := l.Listener.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil || !errors.Is(err, context.Canceled) {
			return n, err
		}
	}
}
