// Package ttstest builds what tests of speech need: the koe-espeak helper
// (cmd/koe-espeak), once per test binary.
package ttstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var koeEspeak = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "koe-espeak-test-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "koe-espeak")
	out, err := exec.Command("go", "build", "-o", path, "github.com/koe-voice/koe/cmd/koe-espeak").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/koe-espeak: %w\n%s", err, out)
	}
	return path, nil
})

// BuildKoeEspeak builds cmd/koe-espeak, the first time it is called, and
// returns the program's path. It needs cgo and libespeak-ng-dev (`make
// deps` installs them).
func BuildKoeEspeak() (string, error) { return koeEspeak() }

// KoeEspeak is BuildKoeEspeak for a test that cannot do without it: when
// it cannot be built, the test fails under CI and is skipped elsewhere.
func KoeEspeak(t testing.TB) string {
	t.Helper()
	path, err := koeEspeak()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("koe-espeak is required under CI (`make deps` installs libespeak-ng-dev and gcc): %v", err)
		}
		t.Skipf("koe-espeak cannot be built here (`make deps` installs libespeak-ng-dev and gcc): %v", err)
	}
	return path
}
