// Package ttstest builds what tests of speech need: the engine helpers
// (cmd/koe-espeak, cmd/koe-flite), each once per test binary.
package ttstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Helpers are the engine helpers, by program name, and what each needs to
// build besides cgo (`make deps` installs it).
var Helpers = map[string]string{
	"koe-espeak": "libespeak-ng-dev",
	"koe-flite":  "flite1-dev",
}

var builds sync.Map // program name → func() (string, error)

// Build builds the helper cmd/<name>, the first time it is asked for, and
// returns the program's path.
func Build(name string) (string, error) {
	if _, ok := Helpers[name]; !ok {
		return "", fmt.Errorf("no helper %q", name)
	}
	build, _ := builds.LoadOrStore(name, sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", name+"-test-")
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, name)
		out, err := exec.Command("go", "build", "-o", path, "github.com/koe-voice/koe/cmd/"+name).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go build ./cmd/%s: %w\n%s", name, err, out)
		}
		return path, nil
	}))
	return build.(func() (string, error))()
}

// Require is Build for a test that cannot do without the helper: when it
// cannot be built, the test fails under CI and is skipped elsewhere.
func Require(t testing.TB, name string) string {
	t.Helper()
	path, err := Build(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI (`make deps` installs %s and gcc): %v", name, Helpers[name], err)
		}
		t.Skipf("%s cannot be built here (`make deps` installs %s and gcc): %v", name, Helpers[name], err)
	}
	return path
}
