// Package email delivers Koe's email: one Message to one person through a
// Sender (SMTP with pooled connections, SendGrid's v3 API, or the log), the
// templates that write those messages in English and Japanese, and signed
// unsubscribe links. Queueing, retries and broadcasts live with the callers:
// a Sender makes one attempt and says, through ErrPermanent, whether another
// attempt can ever succeed.
package email

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// Message is one email to one person.
type Message struct {
	// ID is the idempotent send key: the same ID is the same message. SMTP
	// puts it in the Message-ID header as "<ID@domain of From>"; SendGrid,
	// which sets Message-ID itself, carries it as X-Koe-Message-Id and in
	// custom_args. It must be a dot-atom (letters, digits, "-", "_", ".", …).
	ID     string
	To     string // address, e.g. ada@example.com (no display name)
	ToName string // display name, may be empty
	// Subject is the subject line; line breaks are turned into spaces.
	Subject string
	Text    string // required
	HTML    string // optional
	// Unsubscribe, when set, is the one-click URL (RFC 8058): the message carries
	// List-Unsubscribe: <URL> and List-Unsubscribe-Post: List-Unsubscribe=One-Click.
	// Mailbox providers honour one-click only for https URLs.
	Unsubscribe string
}

// Sender delivers messages.
//
// Send makes one attempt (an SMTP sender may redial once, before anything of
// the message reached the server). A nil error means the server accepted the
// message. An error wrapping ErrPermanent must not be retried. Any other
// error is transient: retry later with the same Message; if it also wraps
// ErrMaybeDelivered the server may have accepted the message already, so a
// retry can deliver it twice (with the same ID). Implementations are safe for
// concurrent use.
type Sender interface {
	// Send delivers m, or says why not (see Sender).
	Send(ctx context.Context, m Message) error
	// Close releases the connections the Sender keeps; call it after the
	// last Send.
	Close() error
}

// ErrPermanent marks failures after which the message can never be delivered
// as is: an SMTP 5xx reply, a SendGrid 4xx other than 429, an invalid Message.
var ErrPermanent = errors.New("permanent failure")

// ErrMaybeDelivered marks transient failures that happened after the whole
// message was handed over but before the server confirmed it (a connection
// lost while waiting for the reply to the end of DATA, an HTTP request to
// SendGrid whose answer never came). Nothing can tell whether it was
// delivered; retrying means at-least-once delivery.
var ErrMaybeDelivered = errors.New("delivery outcome unknown")

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("email: sender closed")

// permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func permanent(id string, err error) error {
	return fmt.Errorf("email: send %q: %w: %w", id, ErrPermanent, err)
}

// validate checks what every Sender needs; its errors are permanent since
// the same Message would fail the same way on every attempt.
func (m Message) validate() error {
	if !isDotAtom(m.ID) {
		return fmt.Errorf("message ID %q is not a dot-atom", m.ID)
	}
	if m.To == "" {
		return errors.New("no recipient")
	}
	a, err := mail.ParseAddress(m.To)
	if err != nil || a.Address != m.To {
		return fmt.Errorf("recipient %q is not a bare address", m.To)
	}
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("no text part")
	}
	if m.Unsubscribe != "" {
		if err := checkUnsubscribeURL(m.Unsubscribe); err != nil {
			return err
		}
	}
	return nil
}

// checkUnsubscribeURL keeps the header value a single absolute http(s) URI,
// since it is written into List-Unsubscribe as is.
func checkUnsubscribeURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.ContainsAny(raw, "<>\" \t\r\n,") {
		return fmt.Errorf("unsubscribe URL %q is not an absolute http(s) URL", raw)
	}
	return nil
}

// isDotAtom reports whether s may stand left of "@" in a Message-ID
// (RFC 5322 dot-atom-text), so that the header needs no quoting.
func isDotAtom(s string) bool {
	if s == "" || len(s) > 200 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r):
		default:
			return false
		}
	}
	return true
}

// oneLine turns line breaks and other control characters into spaces: a
// header value that contains them could end the header early.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

// parseFrom reads the configured sender address, e.g. "Koe <noreply@koe.app>".
func parseFrom(from string) (*mail.Address, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("email: from address %q: %w", from, err)
	}
	return a, nil
}
