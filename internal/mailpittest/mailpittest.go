// Package mailpittest reads what Mailpit (the SMTP sink the test command
// starts) received, through its REST API, so tests can assert what people
// would find in their inboxes.
package mailpittest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Mailpit is a running Mailpit.
type Mailpit struct {
	// SMTP is the URL to send through (KOE_TEST_SMTP_URL).
	SMTP string
	// API is the base of its REST API (KOE_TEST_MAILPIT_API).
	API string
}

// Open returns the Mailpit of the test command; the test is skipped without
// one, except under CI=true where it fails.
func Open(t testing.TB) Mailpit {
	t.Helper()
	m := Mailpit{SMTP: os.Getenv("KOE_TEST_SMTP_URL"), API: os.Getenv("KOE_TEST_MAILPIT_API")}
	if m.SMTP == "" || m.API == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Mailpit is required under CI: run the tests with `make test`")
		}
		t.Skip("KOE_TEST_SMTP_URL / KOE_TEST_MAILPIT_API are not set; `make test` starts Mailpit")
	}
	return m
}

// Address is a mailbox.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message in a search result.
type Summary struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
}

// Search is a search result.
type Search struct {
	MessagesCount int       `json:"messages_count"`
	Messages      []Summary `json:"messages"`
}

// Message is a whole message.
type Message struct {
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
	Text      string    `json:"Text"`
	HTML      string    `json:"HTML"`
}

func (m Mailpit) get(t testing.TB, path string, into any) {
	t.Helper()
	resp, err := http.Get(m.API + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, into), string(body))
}

// Search returns the messages matching query (Mailpit's search syntax,
// e.g. "to:ann@example.com"), up to 10,000.
func (m Mailpit) Search(t testing.TB, query string) Search {
	t.Helper()
	var res Search
	m.get(t, "/api/v1/search?limit=10000&query="+url.QueryEscape(query), &res)
	return res
}

// Count returns how many messages match query. It asks Mailpit for one
// summary only, so polling it stays cheap while thousands of messages match.
func (m Mailpit) Count(t testing.TB, query string) int {
	t.Helper()
	var res Search
	m.get(t, "/api/v1/search?limit=1&query="+url.QueryEscape(query), &res)
	return res.MessagesCount
}

// WaitFor polls until query matches at least n messages, then returns them.
// It polls every 50 ms for a few messages and less often for bulk, so the
// polling does not take the CPU the senders need.
func (m Mailpit) WaitFor(t testing.TB, query string, n int, timeout time.Duration) Search {
	t.Helper()
	every := 50 * time.Millisecond
	if n > 100 {
		every = 500 * time.Millisecond
	}
	require.Eventually(t, func() bool { return m.Count(t, query) >= n }, timeout, every,
		"waiting for %d messages matching %s", n, query)
	return m.Search(t, query)
}

// Message returns a message by its Mailpit id.
func (m Mailpit) Message(t testing.TB, id string) Message {
	t.Helper()
	var msg Message
	m.get(t, "/api/v1/message/"+url.PathEscape(id), &msg)
	return msg
}

// Headers returns a message's headers.
func (m Mailpit) Headers(t testing.TB, id string) http.Header {
	t.Helper()
	var h map[string][]string
	m.get(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	out := http.Header{}
	for k, v := range h {
		out[http.CanonicalHeaderKey(k)] = v
	}
	return out
}

// Env is the configuration that makes Koe send through this Mailpit.
func (m Mailpit) Env() map[string]string {
	return map[string]string{"KOE_SMTP_URL": m.SMTP}
}
