package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/config"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// No container engine runs on the build machines, so the container files
// are kept right by these tests: they parse the files and check that what
// they run and configure exists.

// commands are the subcommands run() accepts.
var commands = []string{"serve", "migrate", "healthcheck"}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	// One instruction a line, as Docker reads continued lines.
	d := strings.ReplaceAll(string(b), "\\\n", " ")
	require.GreaterOrEqual(t, strings.Count(d, "\nFROM "), 2, "multi-stage")
	require.Regexp(t, `(?m)^FROM golang:1\.26\S* AS build$`, d)
	for _, pkg := range []string{"espeak-ng", "flite", "festival", "festvox-us-slt-hts", "festvox-kallpc16k", "open-jtalk", "lame", "opus-tools"} {
		require.Regexp(t, `apt-get install[^\n]*\b`+regexp.QuoteMeta(pkg)+`\b`, d, "the image speaks and encodes with %s", pkg)
	}
	user := regexp.MustCompile(`(?m)^USER (\S+)$`).FindStringSubmatch(d)
	require.NotNil(t, user)
	require.NotContains(t, []string{"root", "0"}, user[1], "runs as a non-root user")
	require.Regexp(t, `(?m)^HEALTHCHECK .*CMD \["koe", "healthcheck"\]$`, d)
	require.Regexp(t, `(?m)^ENTRYPOINT \["koe"\]$`, d)
	cmd := regexp.MustCompile(`(?m)^CMD \["(\w+)"\]$`).FindStringSubmatch(d)
	require.NotNil(t, cmd)
	require.Contains(t, commands, cmd[1])
	require.Contains(t, d, "CGO_ENABLED=0 go build", "a static binary for the slim runtime image")
	// The engine helpers link espeak-ng's and Flite's libraries (their -dev
	// packages in the build stage; espeak-ng and flite bring the libraries
	// to the runtime) and are on PATH, where the server looks for them.
	require.Regexp(t, `(?m)^FROM golang[^\n]*\nRUN [^\n]*apt-get install[^\n]*\blibespeak-ng-dev flite1-dev\b`, d)
	require.Regexp(t, `CGO_ENABLED=1 go build [^\n]*-o /out/ \./cmd/koe-espeak \./cmd/koe-flite`, d)
	require.Regexp(t, `(?m)^COPY --from=build [^\n]*/out/koe-espeak /out/koe-flite /usr/local/bin/$`, d)

	// The web app is built in its own stage with a script it has, and served
	// from where the image says.
	require.Regexp(t, `(?m)^FROM node:20\S* AS web$`, d)
	run := regexp.MustCompile(`npm run (\w+)`).FindStringSubmatch(d)
	require.NotNil(t, run)
	var pkg struct{ Scripts map[string]string }
	b, err = os.ReadFile("web/package.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &pkg))
	require.Contains(t, pkg.Scripts, run[1], "web/package.json has the script the image runs")
	webDir := regexp.MustCompile(`KOE_WEB_DIR=(\S+)`).FindStringSubmatch(d)
	require.NotNil(t, webDir)
	require.Contains(t, d, "COPY --from=web /web/.output/public "+webDir[1])
}

// TestCompose checks compose.yaml: every Koe service runs a real
// subcommand with a configuration Koe accepts and whose variables it reads.
func TestCompose(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("compose.yaml")
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]any    `yaml:"depends_on"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(b, &compose))
	source, err := os.ReadFile("internal/config/config.go")
	require.NoError(t, err)

	roles := map[string]int{}
	for name, svc := range compose.Services {
		if svc.Image != "koe:local" {
			continue
		}
		require.NotEmpty(t, svc.Command, name)
		require.Contains(t, commands, svc.Command[0], "%s runs koe %s", name, svc.Command[0])
		for key := range svc.Environment {
			require.Contains(t, string(source), `"`+key+`"`, "%s sets %s, which Koe does not read", name, key)
		}
		if svc.Command[0] == "serve" {
			_, err := config.Load(func(k string) string { return svc.Environment[k] })
			require.NoError(t, err, "%s's configuration", name)
			roles[svc.Environment["KOE_ROLE"]]++
			require.Contains(t, svc.DependsOn, "migrate", "%s starts after the migrations", name)
		}
	}
	require.Equal(t, 2, roles["api"], "two API replicas")
	require.Equal(t, 1, roles["worker"], "one worker")
	for _, svc := range []string{"postgres", "mailpit", "stripe-mock", "firebase", "redis"} {
		require.Contains(t, compose.Services, svc)
	}
	require.True(t, slices.Contains(compose.Services["migrate"].Command, "migrate"))
}

// TestHealthcheckCommand: `koe healthcheck` — the container's HEALTHCHECK —
// succeeds against a running server and fails without one.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	addr := strings.TrimPrefix(srv.URL, "http://")
	require.NoError(t, healthcheck(addr))
	require.Error(t, healthcheck("127.0.0.1:1"))
}

// TestFirstStartInProduction: a first start without KOE_ADMIN_API_KEY
// printed a working admin key to stdout, which log pipelines keep; in
// production it is now written to KOE_DATA_DIR/admin-api-key, 0600, and
// stdout says where. The database (and its WAL), the data directory and
// the audio kept on disk are the server's user's alone, whatever the umask
// it was started with.
func TestFirstStartInProduction(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	url, stdout, stderr, _ := serve(t, map[string]string{"KOE_ENV": "production", "KOE_DATA_DIR": dataDir})

	path := filepath.Join(dataDir, "admin-api-key")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	key := strings.TrimSpace(string(b))
	require.True(t, strings.HasPrefix(key, "koe_"), "%q", key)
	require.NotContains(t, read(t, stdout), key, "the key is not printed")
	require.NotContains(t, read(t, stderr), key, "nor logged")
	require.Contains(t, read(t, stdout), path, "stdout says where it is")
	c := &apptest.Client{URL: url, Key: key}
	c.Bind(t)
	var me struct{ Me struct{ Role string } }
	c.Must(`{ me { role } }`, nil, &me)
	require.Equal(t, "ADMIN", me.Me.Role, "the key in the file works")

	resp, err := http.Get(url + "/voices/espeak-ng:en-us/preview")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "a preview is made and kept in the blob folder")
	previews, err := filepath.Glob(filepath.Join(dataDir, "blobs/previews/espeak-ng/en-us-*.mp3"))
	require.NoError(t, err)
	require.Len(t, previews, 1, "one preview, named after its voice and sample")
	preview, err := filepath.Rel(dataDir, previews[0])
	require.NoError(t, err)
	for name, want := range map[string]os.FileMode{
		"admin-api-key":            0o600,
		"koe.db":                   0o600,
		"koe.db-wal":               0o600,
		".":                        0o700,
		"blobs":                    0o700,
		"blobs/previews":           0o700,
		"blobs/previews/espeak-ng": 0o700,
		preview:                    0o600,
	} {
		info, err := os.Stat(filepath.Join(dataDir, name))
		require.NoError(t, err, name)
		require.Equal(t, want, info.Mode().Perm(), "%s is %v", name, info.Mode().Perm())
	}
}

// TestFirstStartWelcome: `make run` serves the studio; the first start
// tells the person, in this order, where the studio is, the admin key, how
// to sign in with it, and where Playground is; the log's "serving" line
// comes after. A second start says where things are, and no key.
func TestFirstStartWelcome(t *testing.T) {
	t.Parallel()
	web := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(web, "index.html"), []byte(`<!doctype html><div id="__nuxt"></div>`), 0o644))
	env := map[string]string{"KOE_DATA_DIR": filepath.Join(t.TempDir(), "data"), "KOE_WEB_DIR": web}

	url, stdout, _, stop := serve(t, env)
	out := read(t, stdout)
	key := regexp.MustCompile(`(?m)^    (koe_\S+)$`).FindStringSubmatch(out)
	require.NotNil(t, key, "the key is printed in development: %s", out)
	require.Regexp(t, `^Koe studio: `+regexp.QuoteMeta(url)+`/\n\nAn admin API key was made for this server\. It is shown this once; keep it:\n\n    koe_\S+\n\n`+
		`Sign in at `+regexp.QuoteMeta(url)+`/signin by pasting this key into the API key field\.\n`+
		`GraphQL Playground: `+regexp.QuoteMeta(url)+`/playground\n$`, out)
	for path, want := range map[string]string{"/": `id="__nuxt"`, "/playground": `id="graphiql"`} {
		resp, err := http.Get(url + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, string(b), want, path)
	}
	c := &apptest.Client{URL: url, Key: key[1]}
	c.Bind(t)
	var me struct{ Me struct{ Role string } }
	c.Must(`{ me { role } }`, nil, &me)
	require.Equal(t, "ADMIN", me.Me.Role, "the printed key signs in")
	stop()

	url, stdout, _, _ = serve(t, env)
	require.Equal(t, "Koe studio: "+url+"/\nGraphQL Playground: "+url+"/playground\n", read(t, stdout), "no key the second time")
}

// serve runs the command with env (on a free port, logging at info) until
// it says it is serving, and returns its URL, its output streams (files,
// as a terminal or a log pipeline would get them) and a function that
// stops it, which also runs when the test ends.
func serve(t *testing.T, env map[string]string) (url string, stdout, stderr *os.File, stop func()) {
	t.Helper()
	env = maps.Clone(env)
	env["KOE_ADDR"], env["KOE_LOG_LEVEL"] = "127.0.0.1:0", "info"
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = output(t, "stdout"), output(t, "stderr")
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, stdout, stderr) }()
	stop = sync.OnceFunc(func() {
		cancel()
		require.NoError(t, <-done)
	})
	t.Cleanup(stop)
	require.Eventually(t, func() bool {
		for line := range strings.SplitSeq(read(t, stderr), "\n") {
			var entry struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "koe is serving" {
				url = entry.URL
				return true
			}
		}
		return false
	}, time.Minute, 20*time.Millisecond, "the server starts")
	return url, stdout, stderr, stop
}

// output is a file for a stream of the server's output.
func output(t *testing.T, name string) *os.File {
	f, err := os.Create(filepath.Join(t.TempDir(), name))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func read(t *testing.T, f *os.File) string {
	b, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	return string(b)
}
