// Package smtpsink is a minimal in-process SMTP server for tests and
// benchmarks. Mailpit accepts everything, so the replies it cannot give (5xx,
// a connection lost at the worst moment, a slow relay) come from this peer;
// and it is cheap enough to measure a sender against without the receiving
// side dominating. It is a protocol partner, not a stand-in for our code.
package smtpsink

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Config says how a sink misbehaves; the zero value accepts everything.
type Config struct {
	// RCPTReply is the reply to RCPT; "" means 250.
	RCPTReply string
	// DataReply is the reply to the end of data; "" means 250.
	DataReply string
	// DataDelay is a wait before replying to the end of data.
	DataDelay time.Duration
	// DropAtDataEnd closes the connection instead of replying to the end of data.
	DropAtDataEnd bool
	// DropAtMessage does the same, only for the sink's nth message (from 1).
	DropAtMessage int64
	// CloseAfter closes a connection after this many messages, as servers
	// that cap messages per connection do; 0 never.
	CloseAfter int
	// Delay is a wait before every reply, standing for a network round trip.
	Delay time.Duration
	// Keep keeps the messages received, for Received.
	Keep bool
	// TLS offers STARTTLS with this configuration.
	TLS *tls.Config
	// ImplicitTLS, with TLS, speaks TLS from the first byte instead.
	ImplicitTLS bool
	// OnMessage, when set, is called with the sink's message count after
	// each end of data, before the reply; calls run concurrently, one per
	// connection.
	OnMessage func(n int64)
}

// Sink is an in-process SMTP server that accepts MAIL, RCPT and DATA and,
// unless told to keep them, discards the messages it gets.
type Sink struct {
	cfg      Config
	ln       net.Listener
	messages atomic.Int64 // ends of data received
	conns    atomic.Int64

	mu       sync.Mutex
	open     map[net.Conn]struct{}
	received []string
	auths    []string // AUTH commands, with whether TLS was on
	wg       sync.WaitGroup
}

// Start listens on a free loopback port until the test or benchmark ends.
func Start(tb testing.TB, cfg Config) *Sink {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	s := &Sink{cfg: cfg, ln: ln, open: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.serve()
	tb.Cleanup(s.stop)
	return s
}

// Addr is the sink's host:port.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// URL is the sink's address as a KOE_SMTP_URL without TLS.
func (s *Sink) URL() string { return "smtp://" + s.Addr() + "?tls=none" }

// Messages is the number of messages received so far (ends of data,
// including those answered with an error or dropped).
func (s *Sink) Messages() int64 { return s.messages.Load() }

// Conns is the number of connections accepted so far.
func (s *Sink) Conns() int64 { return s.conns.Load() }

// Received returns the raw messages received so far (with Config.Keep).
func (s *Sink) Received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.received...)
}

// AuthCommands returns the AUTH commands received so far, each prefixed
// with "tls=true " or "tls=false ".
func (s *Sink) AuthCommands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

func (s *Sink) stop() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Sink) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.mu.Lock()
		s.open[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.open, c)
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

func (s *Sink) session(c net.Conn) {
	secure := false
	if s.cfg.TLS != nil && s.cfg.ImplicitTLS {
		c = tls.Server(c, s.cfg.TLS)
		secure = true
	}
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	reply := func(lines string) bool {
		if s.cfg.Delay > 0 {
			time.Sleep(s.cfg.Delay)
		}
		_, _ = w.WriteString(lines)
		return w.Flush() == nil
	}
	if !reply("220 sink ESMTP\r\n") {
		return
	}
	delivered := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.TrimSpace(line))
		if i := strings.IndexAny(verb, " :"); i >= 0 {
			verb = verb[:i]
		}
		var ok bool
		switch verb {
		case "EHLO":
			ext := "250-sink\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-AUTH PLAIN LOGIN\r\n"
			if s.cfg.TLS != nil && !secure {
				ext += "250-STARTTLS\r\n"
			}
			ok = reply(ext + "250 SIZE 10485760\r\n")
		case "STARTTLS":
			if !reply("220 2.0.0 Ready to start TLS\r\n") {
				return
			}
			c = tls.Server(c, s.cfg.TLS)
			r, w = bufio.NewReader(c), bufio.NewWriter(c)
			secure = true
			continue
		case "HELO", "MAIL", "RSET", "NOOP":
			ok = reply("250 2.0.0 OK\r\n")
		case "AUTH":
			s.mu.Lock()
			s.auths = append(s.auths, fmt.Sprintf("tls=%t %s", secure, strings.TrimSpace(line)))
			s.mu.Unlock()
			ok = reply("235 2.7.0 Authenticated\r\n")
		case "RCPT":
			ok = reply(orDefault(s.cfg.RCPTReply, "250 2.1.5 OK") + "\r\n")
		case "DATA":
			if !reply("354 End data with <CR><LF>.<CR><LF>\r\n") {
				return
			}
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				if s.cfg.Keep {
					msg.WriteString(strings.TrimPrefix(l, "."))
				}
			}
			n := s.messages.Add(1)
			if s.cfg.Keep {
				s.mu.Lock()
				s.received = append(s.received, msg.String())
				s.mu.Unlock()
			}
			if s.cfg.OnMessage != nil {
				s.cfg.OnMessage(n)
			}
			if s.cfg.DropAtDataEnd || n == s.cfg.DropAtMessage {
				return
			}
			time.Sleep(s.cfg.DataDelay)
			ok = reply(orDefault(s.cfg.DataReply, "250 2.0.0 Queued") + "\r\n")
			delivered++
			if s.cfg.CloseAfter > 0 && delivered >= s.cfg.CloseAfter {
				return
			}
		case "QUIT":
			reply("221 2.0.0 Bye\r\n")
			return
		default:
			ok = reply("502 5.5.2 Command not recognized\r\n")
		}
		if !ok {
			return
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
