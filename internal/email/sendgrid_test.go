package email

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// sendGridServer implements POST /v3/mail/send as SendGrid documents it:
// there is no SendGrid to reach from here. It answers with status and body
// and keeps the requests.
type sendGridServer struct {
	*httptest.Server
	status int
	answer string

	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
}

func startSendGrid(t *testing.T, status int, answer string) *sendGridServer {
	t.Helper()
	s := &sendGridServer{status: status, answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, r)
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v3/mail/send" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, s.answer)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestSendGridRequest(t *testing.T) {
	t.Parallel()
	srv := startSendGrid(t, http.StatusAccepted, "")
	sg := NewSendGrid("SG.key", testFrom, srv.URL+"/")
	t.Cleanup(func() { _ = sg.Close() })

	err := sg.Send(context.Background(), Message{
		ID:          "gen-42-done",
		To:          "taro@example.com",
		ToName:      "山田 太郎",
		Subject:     "音声の生成が完了しました",
		Text:        "テキスト",
		HTML:        "<p>HTML</p>",
		Unsubscribe: "https://koe.test/unsubscribe?t=abc.def",
	})
	require.NoError(t, err)
	require.Len(t, srv.requests, 1)
	r := srv.requests[0]
	require.Equal(t, "Bearer SG.key", r.Header.Get("Authorization"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.JSONEq(t, `{
		"personalizations": [{"to": [{"email": "taro@example.com", "name": "山田 太郎"}]}],
		"from": {"email": "noreply@koe.test", "name": "Koe"},
		"subject": "音声の生成が完了しました",
		"content": [
			{"type": "text/plain", "value": "テキスト"},
			{"type": "text/html", "value": "<p>HTML</p>"}
		],
		"headers": {
			"X-Koe-Message-Id": "gen-42-done",
			"List-Unsubscribe": "<https://koe.test/unsubscribe?t=abc.def>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"
		},
		"custom_args": {"koe_message_id": "gen-42-done"}
	}`, srv.bodies[0])
	require.Less(t, strings.Index(srv.bodies[0], "text/plain"), strings.Index(srv.bodies[0], "text/html"))

	// Without HTML, name or unsubscribe link, those are simply absent.
	require.NoError(t, sg.Send(context.Background(), Message{ID: "m2", To: "ada@example.com", Subject: "Hi", Text: "Hello"}))
	require.JSONEq(t, `{
		"personalizations": [{"to": [{"email": "ada@example.com"}]}],
		"from": {"email": "noreply@koe.test", "name": "Koe"},
		"subject": "Hi",
		"content": [{"type": "text/plain", "value": "Hello"}],
		"headers": {"X-Koe-Message-Id": "m2"},
		"custom_args": {"koe_message_id": "m2"}
	}`, srv.bodies[1])
}

func TestSendGridStatuses(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 1000)
	cases := []struct {
		status    int
		answer    string
		permanent bool
		text      string
	}{
		{status: 400, answer: `{"errors":[{"message":"Does not contain a valid address.","field":"personalizations.0.to.0.email","help":null}]}`, permanent: true, text: "personalizations.0.to.0.email: Does not contain a valid address."},
		{status: 401, answer: `{"errors":[{"message":"The provided authorization grant is invalid, expired, or revoked","field":null}]}`, permanent: true, text: "authorization grant is invalid"},
		{status: 403, answer: `{"errors":[{"message":"The from address does not match a verified Sender Identity."}]}`, permanent: true, text: "verified Sender Identity"},
		{status: 413, answer: long, permanent: true, text: "xxx…"},
		{status: 429, answer: `{"errors":[{"message":"too many requests"}]}`, text: "too many requests"},
		{status: 500, answer: "oops", text: "oops"},
		{status: 503, answer: "", text: "503"},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			srv := startSendGrid(t, tc.status, tc.answer)
			sg := NewSendGrid("SG.key", testFrom, srv.URL)
			err := sg.Send(context.Background(), testMessage("m1", "ada@example.com"))
			require.Error(t, err)
			require.Equal(t, tc.permanent, errors.Is(err, ErrPermanent), err.Error())
			require.NotErrorIs(t, err, ErrMaybeDelivered)
			require.Contains(t, err.Error(), tc.text)
			require.Less(t, len(err.Error()), 500, "SendGrid's text is cut short")
		})
	}
}

func TestSendGridUnreachable(t *testing.T) {
	t.Parallel()
	sg := NewSendGrid("SG.key", testFrom, "http://"+closedPort(t))
	err := sg.Send(context.Background(), testMessage("m1", "ada@example.com"))
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrPermanent)
	require.NotErrorIs(t, err, ErrMaybeDelivered, "nothing was sent when the connection was refused")
}

// TestSendGridLostAnswer: the request went out, the answer never came →
// transient, and maybe delivered.
func TestSendGridLostAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	sg := NewSendGrid("SG.key", testFrom, srv.URL)
	err := sg.Send(context.Background(), testMessage("m1", "ada@example.com"))
	require.ErrorIs(t, err, ErrMaybeDelivered)
	require.NotErrorIs(t, err, ErrPermanent)
}

func TestSendGridInvalid(t *testing.T) {
	t.Parallel()
	srv := startSendGrid(t, http.StatusAccepted, "")
	err := NewSendGrid("SG.key", testFrom, srv.URL).Send(context.Background(), Message{ID: "m1", To: "ada@example.com"})
	require.ErrorIs(t, err, ErrPermanent)
	err = NewSendGrid("SG.key", "not an address", srv.URL).Send(context.Background(), testMessage("m1", "ada@example.com"))
	require.ErrorIs(t, err, ErrPermanent)
	require.Empty(t, srv.requests)
}
