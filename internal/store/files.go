package store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// ErrDataDirInUse is returned by Open when another process has the SQLite
// database of the data directory open.
var ErrDataDirInUse = errors.New("another Koe is using this data directory")

// lockDataDir takes the data directory's lock file, koe.lock, for as long as
// the returned file stays open (the system drops the lock when the process
// ends, however it ends).
func lockDataDir(dataDir string) (*os.File, error) {
	path := filepath.Join(dataDir, "koe.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("KOE_DATA_DIR: %w", err)
	}
	if err := lockFile(f); err != nil {
		_ = f.Close()
		if errors.Is(err, ErrDataDirInUse) {
			return nil, fmt.Errorf("KOE_DATA_DIR %s: %w (SQLite serves one process; run replicas on PostgreSQL)", dataDir, err)
		}
		return nil, fmt.Errorf("KOE_DATA_DIR %s: lock %s: %w", dataDir, path, err)
	}
	return f, nil
}

// createPrivate creates an empty file at path readable by this user only,
// unless it exists.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// BucketURL is the blob bucket URL to open for rawURL: a file:// bucket makes
// its folders 0700 and writes each file next to where it will live rather
// than in the shared temporary folder (where people's audio would sit,
// readable, while it is written, and from where a rename to another mount
// fails), unless the URL says otherwise; other buckets are left as they are.
func BucketURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "file" {
		return rawURL
	}
	q := u.Query()
	if !q.Has("dir_file_mode") {
		q.Set("dir_file_mode", "0700")
	}
	if !q.Has("no_tmp_dir") {
		q.Set("no_tmp_dir", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}
