package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SMTP defaults; see NewSMTP.
const (
	defaultSMTPPool    = 4
	defaultSMTPTimeout = 30 * time.Second
	// smtpIdleTimeout is how long an unused connection is kept. Servers
	// drop idle clients after 60 s to 5 min; closing ours sooner avoids
	// most of the failed first commands that a dropped connection causes.
	smtpIdleTimeout = 30 * time.Second
)

// SMTP sends messages over a small pool of SMTP connections that it keeps
// open between messages. It is safe for concurrent use; at most pool sends
// run at once and the others wait their turn (or for their context).
type SMTP struct {
	client      *gomail.Client // configuration and protocol; holds no connection itself
	dialer      net.Dialer
	tlsConf     *tls.Config // for STARTTLS and implicit TLS
	implicitTLS bool        // tls=tls: TLS from the first byte
	from        *mail.Address
	domain      string // right of "@" in Message-IDs

	slots chan struct{} // one token per send in flight

	mu     sync.Mutex
	idle   []*smtpConn // most recently used last
	closed bool

	dials atomic.Int64 // connections opened, for tests and metrics
}

// smtpConn is one open SMTP session.
type smtpConn struct {
	c        *smtp.Client
	raw      net.Conn // closed to abort a send when its context ends
	lastUsed time.Time
}

// rawConnKey carries, in the dial context, the *dialSlot where dialContext
// leaves the connection it opened: go-mail does not return it, and it is
// needed to abort a send and to clean up after a failed handshake.
type rawConnKey struct{}

// dialSlot receives the connection of one dial. The handshake after it
// (greeting, EHLO, STARTTLS, AUTH) runs on go-mail's timeout, not on the
// caller's context, so abort closes the connection when that context ends.
type dialSlot struct {
	mu      sync.Mutex
	conn    net.Conn
	aborted bool
}

func (d *dialSlot) set(conn net.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.conn = conn
	if d.aborted {
		_ = conn.Close()
	}
}

func (d *dialSlot) abort() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.aborted = true
	if d.conn != nil {
		_ = d.conn.Close()
	}
}

var _ Sender = (*SMTP)(nil)

// NewSMTP returns a Sender for the server at rawURL, sending as from
// (e.g. "Koe <noreply@koe.app>"). The URL is
//
//	smtp://user:pass@host:port?tls=none|starttls|tls&pool=4&timeout=30s
//
// tls defaults to starttls (required, never skipped) for smtp:// and to tls
// (implicit TLS) for smtps://; tls=none sends everything, the password too,
// in clear and is meant for local test servers such as Mailpit. The port
// defaults to 587, or 465 with tls=tls. The user and password, when present,
// are sent with AUTH PLAIN. pool (1–100, default 4) is how many connections
// are kept open: each carries one message at a time, one round trip per
// command (MAIL, RCPT, DATA, end of data), so throughput ≈ pool / (4 × RTT).
// timeout (default 30s) bounds connecting and each message.
func NewSMTP(rawURL string, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("email: SMTP URL: %w", err)
	}
	mode := "starttls"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		mode = "tls"
	default:
		return nil, fmt.Errorf("email: SMTP URL scheme %q, want smtp or smtps", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("email: SMTP URL has no host")
	}
	pool, timeout := defaultSMTPPool, defaultSMTPTimeout
	for key, vals := range u.Query() {
		val := vals[len(vals)-1]
		switch key {
		case "tls":
			if val != "none" && val != "starttls" && val != "tls" {
				return nil, fmt.Errorf("email: SMTP URL tls=%q, want none, starttls or tls", val)
			}
			mode = val
		case "pool":
			pool, err = strconv.Atoi(val)
			if err != nil || pool < 1 || pool > 100 {
				return nil, fmt.Errorf("email: SMTP URL pool=%q, want 1 to 100", val)
			}
		case "timeout":
			timeout, err = time.ParseDuration(val)
			if err != nil || timeout <= 0 {
				return nil, fmt.Errorf("email: SMTP URL timeout=%q, want a duration such as 30s", val)
			}
		default:
			// Unknown parameters are refused so that a typo cannot silently
			// turn, say, TLS off.
			return nil, fmt.Errorf("email: SMTP URL parameter %q unknown", key)
		}
	}
	port := 587
	if mode == "tls" {
		port = 465
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("email: SMTP URL port %q", p)
		}
	}
	fromAddr, err := parseFrom(from)
	if err != nil {
		return nil, err
	}

	s := &SMTP{
		dialer: net.Dialer{KeepAlive: 30 * time.Second},
		from:   fromAddr,
		domain: fromAddr.Address[strings.LastIndexByte(fromAddr.Address, '@')+1:],
		slots:  make(chan struct{}, pool),
		// Certificates are checked against the host in the URL.
		tlsConf: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12},
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTimeout(timeout),
		gomail.WithDialContextFunc(s.dialContext),
		// A NOOP before and an RSET after every message would add two round
		// trips to each; a connection the server dropped shows up at MAIL
		// instead, where Send redials (see Send).
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	switch mode {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(s.tlsConf))
	case "tls":
		// go-mail does implicit TLS only with its own dialer; ours counts
		// connections and hands them to Send, so it does the TLS itself.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		s.implicitTLS = true
	}
	if u.User != nil {
		pass, _ := u.User.Password()
		auth := gomail.SMTPAuthPlain
		if mode == "none" {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	s.client, err = gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("email: SMTP client: %w", err)
	}
	return s, nil
}

// dialContext opens the TCP (or TLS) connection for go-mail and leaves it
// where Send can find it.
func (s *SMTP) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var conn net.Conn
	var err error
	if s.implicitTLS {
		d := tls.Dialer{NetDialer: &s.dialer, Config: s.tlsConf}
		conn, err = d.DialContext(ctx, network, addr)
	} else {
		conn, err = s.dialer.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	s.dials.Add(1)
	if slot, ok := ctx.Value(rawConnKey{}).(*dialSlot); ok {
		slot.set(conn)
	}
	return conn, nil
}

// Send delivers m over a pooled connection.
//
// Reuse never sends a message twice: if a connection that had been used
// before fails before the message content was sent (at MAIL, RCPT or the DATA
// command: the server dropped an idle connection, or said 421), Send dials a
// new one and tries once more, which is safe because the server has nothing
// of the message yet. A failure while the content is being written is
// transient (the end-of-data mark was never sent, so the server discards what
// it got). A connection lost after the end of data was sent but before the
// server answered is returned as a transient error wrapping
// ErrMaybeDelivered and is not retried here.
//
// SMTP 5xx replies to MAIL, RCPT or DATA, and an invalid m, are permanent.
// Failures to connect, greet, start TLS or log in are transient whatever the
// reply code: they concern the configuration or the server, not this message.
// After any error the connection is closed rather than reused.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return permanent(m.ID, err)
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("email: send %q: %w", m.ID, ctx.Err())
	}
	defer func() { <-s.slots }()

	for attempt := 1; ; attempt++ {
		// The retry dials afresh: when the server dropped one idle
		// connection it has likely dropped the others too.
		conn, reused, err := s.get(ctx, attempt > 1)
		if err != nil {
			return fmt.Errorf("email: send %q: connect: %w", m.ID, err)
		}
		aborted, err := s.sendOn(ctx, conn, msg)
		if err == nil && !aborted {
			s.put(conn)
			return nil
		}
		conn.close()
		if msg.IsDelivered() {
			return nil // accepted; only what came after (the context ending) failed
		}
		if ctx.Err() != nil {
			return s.classify(m.ID, fmt.Errorf("%w (%w)", ctx.Err(), err))
		}
		if reused && attempt == 1 && droppedBeforeContent(err) {
			continue
		}
		return s.classify(m.ID, err)
	}
}

// sendOn sends msg over conn; aborted is true when conn was closed under it
// because ctx ended.
func (s *SMTP) sendOn(ctx context.Context, conn *smtpConn, msg *gomail.Msg) (aborted bool, err error) {
	stop := context.AfterFunc(ctx, func() { _ = conn.raw.Close() })
	err = s.client.SendWithSMTPClient(conn.c, msg)
	conn.lastUsed = time.Now()
	return !stop(), err
}

// droppedBeforeContent reports whether err means the connection was gone
// (no reply, or 421 "closing channel") before any of the message content was
// sent: the only case in which Send may try again on its own.
func droppedBeforeContent(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Reason {
	case gomail.ErrConnCheck, gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData:
		return se.ErrorCode() == 0 || se.ErrorCode() == 421
	}
	return false
}

// classify wraps a failed attempt: 5xx replies are permanent, an answer
// lost after the end of data is ErrMaybeDelivered, the rest transient.
func (s *SMTP) classify(id string, err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch {
		case se.ErrorCode() >= 500:
			return permanent(id, err)
		case se.Reason == gomail.ErrSMTPDataClose && se.ErrorCode() == 0:
			return fmt.Errorf("email: send %q: %w: %w", id, ErrMaybeDelivered, err)
		}
	}
	return fmt.Errorf("email: send %q: %w", id, err)
}

// get returns an idle connection (reused=true) or, if there is none or
// fresh is set, dials a new one.
func (s *SMTP) get(ctx context.Context, fresh bool) (conn *smtpConn, reused bool, err error) {
	var stale []*smtpConn
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false, ErrClosed
	}
	for !fresh && len(s.idle) > 0 {
		c := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if time.Since(c.lastUsed) < smtpIdleTimeout {
			conn = c
			break
		}
		stale = append(stale, c)
	}
	s.mu.Unlock()
	for _, c := range stale {
		c.quit()
	}
	if conn != nil {
		return conn, true, nil
	}

	slot := &dialSlot{}
	stop := context.AfterFunc(ctx, slot.abort)
	c, err := s.client.DialToSMTPClientWithContext(context.WithValue(ctx, rawConnKey{}, slot))
	aborted := !stop()
	slot.mu.Lock()
	raw := slot.conn
	slot.mu.Unlock()
	if err != nil || aborted {
		if raw != nil {
			_ = raw.Close() // go-mail leaves it open when the handshake fails
		}
		if aborted {
			err = errors.Join(ctx.Err(), err)
		}
		return nil, false, err
	}
	return &smtpConn{c: c, raw: raw, lastUsed: time.Now()}, false, nil
}

// put returns a healthy connection to the pool.
func (s *SMTP) put(c *smtpConn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.quit()
		return
	}
	s.idle = append(s.idle, c)
	s.mu.Unlock()
}

// Close says QUIT on idle connections; connections busy with a send are
// closed when it ends. Send fails with ErrClosed afterwards.
func (s *SMTP) Close() error {
	s.mu.Lock()
	s.closed = true
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, c := range idle {
		c.quit()
	}
	return nil
}

// quit ends the session politely but without waiting long for a server
// that may be gone.
func (c *smtpConn) quit() {
	_ = c.c.UpdateDeadline(2 * time.Second)
	_ = c.c.Quit()
	_ = c.raw.Close()
}

// close drops a connection whose state is unknown.
func (c *smtpConn) close() { _ = c.raw.Close() }

// build turns m into a go-mail message.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	// Headers in base64 encoded-words: a third the length of quoted-printable
	// for Japanese, and what Japanese mail clients themselves send. Bodies
	// stay quoted-printable, which keeps English text readable on the wire.
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithEncoding(gomail.EncodingB64))
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(&mail.Address{Name: oneLine(m.ToName), Address: m.To})
	// go-mail encodes non-ASCII subjects as RFC 2047 UTF-8 encoded-words
	// and folds long ones, so Japanese subjects arrive intact.
	msg.Subject(oneLine(m.Subject))
	msg.SetDate()
	msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	// Automatic mail (RFC 3834): keeps out-of-office replies away.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text, gomail.WithPartEncoding(gomail.EncodingQP))
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML, gomail.WithPartEncoding(gomail.EncodingQP))
	}
	if m.Unsubscribe != "" {
		msg.SetListUnsubscribe(m.Unsubscribe)
		msg.SetListUnsubscribePost()
	}
	return msg, nil
}
