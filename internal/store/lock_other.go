//go:build !unix

package store

import "os"

// lockFile does nothing where flock is missing: one process per SQLite file
// is then the operator's to keep.
func lockFile(*os.File) error { return nil }
