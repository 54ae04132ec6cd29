// Package apptest boots the whole Koe server for tests, on SQLite or
// PostgreSQL on 127.0.0.1:0, and talks to it as clients do: GraphQL over
// HTTP, and subscriptions over websockets in both subprotocols.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/app"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/config"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/logging"
	"github.com/koe-voice/koe/internal/store/storetest"
	"github.com/koe-voice/koe/internal/tts/ttstest"
)

// AdminKey is the KOE_ADMIN_API_KEY of servers booted here.
const AdminKey = "koe_test_admin_key_0123456789abcdefghijkl"

// Server is a running Koe and what a test needs to reach it.
type Server struct {
	*app.App
	// Env is the environment it was configured from; Restart reuses it.
	Env  map[string]string
	opts []app.Option
	t    testing.TB
}

// Boot starts Koe on a fresh database of kind. env adds to or overrides the
// test defaults. The server is shut down when the test ends.
func Boot(t testing.TB, kind storetest.Kind, env map[string]string, opts ...app.Option) *Server {
	t.Helper()
	databaseURL, dataDir := storetest.URL(t, kind)
	e := map[string]string{
		"KOE_ADDR":          "127.0.0.1:0",
		"KOE_DATA_DIR":      dataDir,
		"DATABASE_URL":      databaseURL,
		"KOE_ADMIN_API_KEY": AdminKey,
		"KOE_LOG_LEVEL":     "warn",
	}
	maps.Copy(e, Helpers(t))
	for k, v := range env {
		e[k] = v
	}
	s := &Server{Env: e, opts: opts, t: t}
	s.start()
	return s
}

// Helpers are the settings that give espeak-ng and Flite their warm
// helpers, as on a server set up by make run or the Dockerfile: built for
// the test binary; under CI, failing the test when they cannot be.
func Helpers(t testing.TB) map[string]string {
	t.Helper()
	env := map[string]string{}
	for name, setting := range map[string]string{"koe-espeak": "KOE_ESPEAK_HELPER", "koe-flite": "KOE_FLITE_HELPER"} {
		if helper, err := ttstest.Build(name); err == nil {
			env[setting] = helper
		} else if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return env
}

func (s *Server) start() {
	s.t.Helper()
	cfg, err := config.Load(func(k string) string { return s.Env[k] })
	if err != nil {
		s.t.Fatalf("config: %v", err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, logging.New(testWriter{s.t}, cfg.LogLevel), s.opts...)
	if err != nil {
		s.t.Fatalf("boot: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		s.t.Fatalf("start: %v", err)
	}
	s.App = a
	s.t.Cleanup(func() { s.Stop(10 * time.Second) })
}

// Stop shuts the server down, giving running jobs grace to finish; after it,
// jobs still running are canceled and queued again.
func (s *Server) Stop(grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	_ = s.App.Shutdown(ctx)
}

// Restart stops the server (grace as in Stop) and starts another on the same
// database and data directory, on a new port.
func (s *Server) Restart(grace time.Duration) {
	s.t.Helper()
	s.Stop(grace)
	s.start()
}

// testWriter sends logs to the test's log, so they show only on failure.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// Client calls the GraphQL API with an API key.
type Client struct {
	URL string
	Key string
	t   testing.TB
}

// Client returns a client of s authenticated with key ("" for none).
func (s *Server) Client(key string) *Client {
	return &Client{URL: s.URL, Key: key, t: s.t}
}

// Bind makes a Client built by hand (for a server apptest did not boot,
// such as a separate process) report to t.
func (c *Client) Bind(t testing.TB) { c.t = t }

// Response is a GraphQL answer.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	Header http.Header
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Field is the error's extensions.field.
func (e Error) Field() string { s, _ := e.Extensions["field"].(string); return s }

// Do sends a query with variables and returns the answer, whatever it is.
func (c *Client) Do(query string, vars map[string]any, header ...string) Response {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("POST /query: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := Response{Status: resp.StatusCode, Header: resp.Header}
	if err := json.Unmarshal(b, &r); err != nil {
		c.t.Fatalf("POST /query: %d %s: %v", resp.StatusCode, b, err)
	}
	return r
}

// Must sends a query, fails the test on any error, and decodes data into out.
func (c *Client) Must(query string, vars map[string]any, out any) {
	c.t.Helper()
	r := c.Do(query, vars)
	if len(r.Errors) > 0 {
		c.t.Fatalf("query failed: %+v", r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			c.t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
}

// DB opens the server's database for assertions that look under the API.
func (s *Server) DB() *bun.DB { return s.App.DB().DB }

// NewUser adds a person with role and a verified address to the server's
// database, as sign-up will, and returns their id and an API key of theirs.
func (s *Server) NewUser(role auth.Role, email string) (userID, key string) {
	s.t.Helper()
	ctx := context.Background()
	u := &auth.User{ID: gid.New(gid.User), Email: &email, EmailVerified: true, Role: role, PlanCode: auth.FreePlan, Locale: "en", CreatedAt: time.Now().UTC()}
	if _, err := s.App.DB().NewInsert().Model(u).Exec(ctx); err != nil {
		s.t.Fatalf("add user: %v", err)
	}
	_, secret, err := auth.NewService(s.App.DB()).CreateAPIKey(ctx, auth.Principal{UserID: u.ID, Role: role}, "test key")
	if err != nil {
		s.t.Fatalf("add api key: %v", err)
	}
	return u.ID, secret
}

// Another starts a second Koe on the same database and data directory (a
// replica), with env overriding this one's; it is shut down when the test
// ends.
func (s *Server) Another(env map[string]string) *Server {
	s.t.Helper()
	e := map[string]string{}
	for k, v := range s.Env {
		e[k] = v
	}
	for k, v := range env {
		e[k] = v
	}
	o := &Server{Env: e, opts: s.opts, t: s.t}
	o.start()
	return o
}
