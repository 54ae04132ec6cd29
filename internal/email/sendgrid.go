package email

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// SendGrid sends messages through SendGrid's v3 Mail Send API. It is safe
// for concurrent use; connections are reused by its HTTP client.
//
// SendGrid sets the Message-ID header itself, so Message.ID travels as the
// X-Koe-Message-Id header and as custom_args.koe_message_id, which SendGrid
// repeats in its event webhook (bounces, opens…) so events map back to the
// message.
type SendGrid struct {
	apiKey   string
	from     sendGridAddress
	fromErr  error
	endpoint string
	http     *http.Client
}

var _ Sender = (*SendGrid)(nil)

// NewSendGrid returns a Sender that posts to {baseURL}/v3/mail/send with
// apiKey, sending as from (e.g. "Koe <noreply@koe.app>", a verified sender
// in SendGrid). baseURL defaults to https://api.sendgrid.com. An unparsable
// from makes every Send fail permanently.
func NewSendGrid(apiKey string, from string, baseURL string) *SendGrid {
	if baseURL == "" {
		baseURL = "https://api.sendgrid.com"
	}
	s := &SendGrid{
		apiKey:   apiKey,
		endpoint: strings.TrimRight(baseURL, "/") + "/v3/mail/send",
		http:     &http.Client{Timeout: 30 * time.Second},
	}
	a, err := parseFrom(from)
	if err != nil {
		s.fromErr = err
	} else {
		s.from = sendGridAddress{Email: a.Address, Name: a.Name}
	}
	return s
}

// The request body of POST /v3/mail/send, as much of it as Koe uses.
type sendGridMail struct {
	Personalizations []sendGridPersonalization `json:"personalizations"`
	From             sendGridAddress           `json:"from"`
	Subject          string                    `json:"subject"`
	Content          []sendGridContent         `json:"content"`
	Headers          map[string]string         `json:"headers"`
	CustomArgs       map[string]string         `json:"custom_args"`
}

type sendGridPersonalization struct {
	To []sendGridAddress `json:"to"`
}

type sendGridAddress struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

type sendGridContent struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// sendGridErrors is the body of SendGrid's 4xx answers.
type sendGridErrors struct {
	Errors []struct {
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"errors"`
}

// body builds the JSON request for m.
func (s *SendGrid) body(m Message) ([]byte, error) {
	req := sendGridMail{
		Personalizations: []sendGridPersonalization{{To: []sendGridAddress{{Email: m.To, Name: oneLine(m.ToName)}}}},
		From:             s.from,
		Subject:          oneLine(m.Subject),
		// SendGrid wants text/plain before text/html.
		Content:    []sendGridContent{{Type: "text/plain", Value: m.Text}},
		Headers:    map[string]string{"X-Koe-Message-Id": m.ID},
		CustomArgs: map[string]string{"koe_message_id": m.ID},
	}
	if m.HTML != "" {
		req.Content = append(req.Content, sendGridContent{Type: "text/html", Value: m.HTML})
	}
	if m.Unsubscribe != "" {
		req.Headers["List-Unsubscribe"] = "<" + m.Unsubscribe + ">"
		req.Headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	}
	return json.Marshal(req)
}

// Send posts m. 2xx (SendGrid answers 202) means accepted; 429 and 5xx are
// transient; any other status is permanent, with SendGrid's error text.
// A request that went out but got no answer wraps ErrMaybeDelivered:
// SendGrid has no idempotency key, so retrying it may deliver twice.
func (s *SendGrid) Send(ctx context.Context, m Message) error {
	if s.fromErr != nil {
		return permanent(m.ID, s.fromErr)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("email: send %q: %w", m.ID, err) // nothing sent: not "maybe delivered"
	}
	if err := m.validate(); err != nil {
		return permanent(m.ID, err)
	}
	body, err := s.body(m)
	if err != nil {
		return permanent(m.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return permanent(m.ID, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("email: send %q: sendgrid: %w", m.ID, err)
		}
		return fmt.Errorf("email: send %q: sendgrid: %w: %w", m.ID, ErrMaybeDelivered, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("sendgrid: %s: %s", resp.Status, sendGridErrorText(raw))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return fmt.Errorf("email: send %q: %w", m.ID, err)
	}
	return permanent(m.ID, err)
}

// sendGridErrorText returns the messages of an error answer, or its raw
// start, cut to a length that fits a log line.
func sendGridErrorText(raw []byte) string {
	var e sendGridErrors
	var text string
	if json.Unmarshal(raw, &e) == nil && len(e.Errors) > 0 {
		parts := make([]string, 0, len(e.Errors))
		for _, x := range e.Errors {
			if x.Field != "" {
				parts = append(parts, x.Field+": "+x.Message)
			} else {
				parts = append(parts, x.Message)
			}
		}
		text = strings.Join(parts, "; ")
	} else {
		text = strings.TrimSpace(string(raw))
	}
	const limit = 300
	if r := []rune(text); len(r) > limit {
		text = string(r[:limit]) + "…"
	}
	return text
}

// Close releases idle HTTP connections.
func (s *SendGrid) Close() error {
	s.http.CloseIdleConnections()
	return nil
}
