package email

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/smtpsink"
)

const testFrom = "Koe <noreply@koe.test>"

// testMessage is a valid message to to, with a unique ID.
func testMessage(id, to string) Message {
	return Message{
		ID:      id,
		To:      to,
		ToName:  "Ada Lovelace",
		Subject: "Hello",
		Text:    "Hello, Ada.",
	}
}

// newTestSMTP returns a sender for url that is closed with the test.
func newTestSMTP(t *testing.T, url string) *SMTP {
	t.Helper()
	s, err := NewSMTP(url, testFrom)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestNewSMTPURL(t *testing.T) {
	t.Parallel()
	good := []string{
		"smtp://mail.example.com",
		"smtp://user:p%40ss@mail.example.com:2525?tls=starttls&pool=16&timeout=10s",
		"smtps://user:pass@mail.example.com",
		"smtp://127.0.0.1:1025?tls=none",
	}
	for _, u := range good {
		s, err := NewSMTP(u, testFrom)
		require.NoError(t, err, u)
		require.NoError(t, s.Close())
	}
	bad := []string{
		"http://mail.example.com",
		"smtp://",
		"smtp://mail.example.com?tls=maybe",
		"smtp://mail.example.com?pool=0",
		"smtp://mail.example.com?pool=lots",
		"smtp://mail.example.com?timeout=soon",
		"smtp://mail.example.com?tsl=none", // a typo must not silently keep defaults
		"smtp://mail.example.com:99999",
	}
	for _, u := range bad {
		_, err := NewSMTP(u, testFrom)
		require.Error(t, err, u)
	}
	_, err := NewSMTP("smtp://mail.example.com", "not an address")
	require.Error(t, err)

	// The documented defaults.
	s, err := NewSMTP("smtp://mail.example.com", testFrom)
	require.NoError(t, err)
	require.Equal(t, "mail.example.com:587", s.client.ServerAddr())
	require.Equal(t, "TLSMandatory", s.client.TLSPolicy())
	require.False(t, s.implicitTLS)
	require.Equal(t, defaultSMTPPool, cap(s.slots))
	require.Equal(t, "koe.test", s.domain)
	s, err = NewSMTP("smtps://mail.example.com", testFrom)
	require.NoError(t, err)
	require.Equal(t, "mail.example.com:465", s.client.ServerAddr())
	require.True(t, s.implicitTLS)
}

func TestSMTPReplies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		cfg       smtpsink.Config
		permanent bool
		maybe     bool
	}{
		{name: "550 at RCPT is permanent", cfg: smtpsink.Config{RCPTReply: "550 5.1.1 No such user"}, permanent: true},
		{name: "554 at end of data is permanent", cfg: smtpsink.Config{DataReply: "554 5.7.1 Message refused"}, permanent: true},
		{name: "451 at RCPT is transient", cfg: smtpsink.Config{RCPTReply: "451 4.3.0 Try again later"}},
		{name: "452 at end of data is transient", cfg: smtpsink.Config{DataReply: "452 4.3.1 Insufficient storage"}},
		{name: "lost answer at end of data may be delivered", cfg: smtpsink.Config{DropAtDataEnd: true}, maybe: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sk := smtpsink.Start(t, tc.cfg)
			s := newTestSMTP(t, sk.URL())
			err := s.Send(context.Background(), testMessage("reply-1", "ada@example.com"))
			require.Error(t, err)
			require.Equal(t, tc.permanent, errors.Is(err, ErrPermanent), err.Error())
			require.Equal(t, tc.maybe, errors.Is(err, ErrMaybeDelivered), err.Error())
			// No retry of its own, whatever the failure.
			require.LessOrEqual(t, sk.Messages(), int64(1))
			require.Equal(t, int64(1), sk.Conns())
		})
	}
}

func TestSMTPInvalidMessageIsPermanent(t *testing.T) {
	t.Parallel()
	sk := smtpsink.Start(t, smtpsink.Config{})
	s := newTestSMTP(t, sk.URL())
	bad := map[string]Message{
		"no ID":            {To: "ada@example.com", Text: "x"},
		"ID with a space":  {ID: "a b", To: "ada@example.com", Text: "x"},
		"no recipient":     {ID: "m1", Text: "x"},
		"recipient name":   {ID: "m1", To: "Ada <ada@example.com>", Text: "x"},
		"no text":          {ID: "m1", To: "ada@example.com", HTML: "<p>x</p>"},
		"header injection": {ID: "m1", To: "ada@example.com", Text: "x", Unsubscribe: "https://koe.test/u\r\nBcc: eve@example.com"},
		"relative link":    {ID: "m1", To: "ada@example.com", Text: "x", Unsubscribe: "/unsubscribe"},
	}
	for name, m := range bad {
		err := s.Send(context.Background(), m)
		require.ErrorIs(t, err, ErrPermanent, name)
	}
	require.Equal(t, int64(0), sk.Conns(), "invalid messages never reach the server")
}

// TestSMTPReconnectsWhenServerClosed: a server that closes each connection
// after 3 messages → every message is delivered exactly once, over one
// new connection per 3 messages.
func TestSMTPReconnectsWhenServerClosed(t *testing.T) {
	t.Parallel()
	sk := smtpsink.Start(t, smtpsink.Config{CloseAfter: 3, Keep: true})
	s := newTestSMTP(t, sk.URL())
	for i := range 10 {
		require.NoError(t, s.Send(context.Background(), testMessage(fmt.Sprintf("rc-%d", i), "ada@example.com")))
	}
	require.Equal(t, int64(10), sk.Messages())
	require.Equal(t, int64(4), s.dials.Load())
	seen := map[string]int{}
	for _, raw := range sk.Received() {
		for _, line := range strings.Split(raw, "\r\n") {
			if strings.HasPrefix(line, "Message-ID: ") {
				seen[line]++
			}
		}
	}
	require.Len(t, seen, 10)
	for id, n := range seen {
		require.Equal(t, 1, n, id)
	}
}

// TestSMTPNeverResendsAfterData: a reused connection lost after the whole
// message went out is reported, not retried.
func TestSMTPNeverResendsAfterData(t *testing.T) {
	t.Parallel()
	sk := smtpsink.Start(t, smtpsink.Config{DropAtMessage: 2})
	s := newTestSMTP(t, sk.URL())
	require.NoError(t, s.Send(context.Background(), testMessage("after-1", "ada@example.com")))
	err := s.Send(context.Background(), testMessage("after-2", "ada@example.com"))
	require.ErrorIs(t, err, ErrMaybeDelivered)
	require.NotErrorIs(t, err, ErrPermanent)
	require.Equal(t, int64(2), sk.Messages())
	require.Equal(t, int64(1), s.dials.Load())
	require.NoError(t, s.Send(context.Background(), testMessage("after-3", "ada@example.com")))
	require.Equal(t, int64(2), s.dials.Load())
}

func TestSMTPServerDownIsTransient(t *testing.T) {
	t.Parallel()
	s := newTestSMTP(t, "smtp://"+closedPort(t)+"?tls=none")
	err := s.Send(context.Background(), testMessage("down-1", "ada@example.com"))
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrPermanent)
	require.NotErrorIs(t, err, ErrMaybeDelivered)
}

// TestSMTPPoolLimitsConnections: many concurrent sends share the pool's
// connections instead of opening one each.
func TestSMTPPoolLimitsConnections(t *testing.T) {
	t.Parallel()
	sk := smtpsink.Start(t, smtpsink.Config{})
	s := newTestSMTP(t, sk.URL()+"&pool=3")
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() {
			errs <- s.Send(context.Background(), testMessage(fmt.Sprintf("pool-%d", i), "ada@example.com"))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(100), sk.Messages())
	require.LessOrEqual(t, s.dials.Load(), int64(3))
	require.Equal(t, s.dials.Load(), sk.Conns())
}

func TestSMTPContext(t *testing.T) {
	t.Parallel()

	t.Run("ends while connecting", func(t *testing.T) {
		t.Parallel()
		sk := smtpsink.Start(t, smtpsink.Config{Delay: 500 * time.Millisecond})
		s := newTestSMTP(t, sk.URL())
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := s.Send(ctx, testMessage("ctx-1", "ada@example.com"))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NotErrorIs(t, err, ErrPermanent)
		require.Equal(t, int64(0), sk.Messages())
	})

	t.Run("ends while waiting for the answer to the end of data", func(t *testing.T) {
		t.Parallel()
		sk := smtpsink.Start(t, smtpsink.Config{DataDelay: 2 * time.Second})
		s := newTestSMTP(t, sk.URL())
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := s.Send(ctx, testMessage("ctx-2", "ada@example.com"))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, err, ErrMaybeDelivered)
		require.Equal(t, int64(1), sk.Messages(), "the server got the whole message")
	})

	t.Run("ends while waiting for a connection", func(t *testing.T) {
		t.Parallel()
		sk := smtpsink.Start(t, smtpsink.Config{DataDelay: 300 * time.Millisecond})
		s := newTestSMTP(t, sk.URL()+"&pool=1")
		done := make(chan error, 1)
		go func() { done <- s.Send(context.Background(), testMessage("ctx-3", "ada@example.com")) }()
		require.Eventually(t, func() bool { return len(s.slots) == 1 }, 5*time.Second, time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, s.Send(ctx, testMessage("ctx-4", "ada@example.com")), context.DeadlineExceeded)
		require.NoError(t, <-done)
	})
}

func TestSMTPClose(t *testing.T) {
	t.Parallel()
	sk := smtpsink.Start(t, smtpsink.Config{})
	s := newTestSMTP(t, sk.URL())
	require.NoError(t, s.Send(context.Background(), testMessage("close-1", "ada@example.com")))
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.Send(context.Background(), testMessage("close-2", "ada@example.com")), ErrClosed)
	require.NoError(t, s.Close())
}

// TestSMTPMessageFormat checks the headers and parts on the wire; the
// Mailpit test checks that a real server reads them back the same way.
func TestSMTPMessageFormat(t *testing.T) {
	t.Parallel()
	sk := smtpsink.Start(t, smtpsink.Config{Keep: true})
	s := newTestSMTP(t, sk.URL())
	m := Message{
		ID:          "fmt-1",
		To:          "taro@example.com",
		ToName:      "山田 太郎",
		Subject:     "音声の生成が完了しました\r\nBcc: eve@example.com",
		Text:        "テキスト",
		HTML:        "<p>HTML</p>",
		Unsubscribe: "https://koe.test/unsubscribe?t=abc",
	}
	require.NoError(t, s.Send(context.Background(), m))
	raw := sk.Received()
	require.Len(t, raw, 1)
	head, _, _ := strings.Cut(raw[0], "\r\n\r\n")
	require.Contains(t, head, "Message-ID: <fmt-1@koe.test>\r\n")
	require.Contains(t, head, "List-Unsubscribe: <https://koe.test/unsubscribe?t=abc>\r\n")
	require.Contains(t, head, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
	require.Contains(t, head, "Auto-Submitted: auto-generated\r\n")
	require.Contains(t, head, "From: \"Koe\" <noreply@koe.test>\r\n")
	require.Contains(t, head, "multipart/alternative")
	require.NotContains(t, head, "\r\nBcc:", "a line break in the subject must not start a header")
	require.Regexp(t, `\r\nDate: [A-Z][a-z]{2}, `, head)
	require.Regexp(t, `\r\nSubject:\s+=\?UTF-8\?b\?`, head)
	require.Contains(t, raw[0], "Content-Transfer-Encoding: quoted-printable")
}

// testTLS returns a server configuration with a fresh self-signed
// certificate for 127.0.0.1, and a pool that trusts it.
func testTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sink"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// TestSMTPTLS: STARTTLS and implicit TLS both encrypt before AUTH, and
// check the server's certificate.
func TestSMTPTLS(t *testing.T) {
	t.Parallel()
	serverConf, roots := testTLS(t)
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			sk := smtpsink.Start(t, smtpsink.Config{TLS: serverConf, ImplicitTLS: mode == "tls"})
			url := "smtp://koe:s3cret@" + sk.Addr() + "?tls=" + mode

			untrusting := newTestSMTP(t, url)
			err := untrusting.Send(context.Background(), testMessage("tls-0", "ada@example.com"))
			require.ErrorContains(t, err, "certificate")
			require.NotErrorIs(t, err, ErrPermanent)

			s := newTestSMTP(t, url)
			s.tlsConf.RootCAs = roots
			for i := range 3 {
				require.NoError(t, s.Send(context.Background(), testMessage(fmt.Sprintf("tls-%d", i+1), "ada@example.com")))
			}
			require.Equal(t, int64(3), sk.Messages())
			require.Equal(t, int64(1), s.dials.Load())
			plain := base64.StdEncoding.EncodeToString([]byte("\x00koe\x00s3cret"))
			require.Equal(t, []string{"tls=true AUTH PLAIN " + plain}, sk.AuthCommands())
		})
	}
}

// TestSMTPStartTLSRequired: with tls=starttls a server that does not offer
// STARTTLS gets nothing, not even the password.
func TestSMTPStartTLSRequired(t *testing.T) {
	t.Parallel()
	sk := smtpsink.Start(t, smtpsink.Config{})
	s := newTestSMTP(t, "smtp://koe:s3cret@"+sk.Addr()+"?tls=starttls")
	err := s.Send(context.Background(), testMessage("tls-1", "ada@example.com"))
	require.ErrorContains(t, err, "STARTTLS")
	require.NotErrorIs(t, err, ErrPermanent)
	require.Empty(t, sk.AuthCommands())
	require.Equal(t, int64(0), sk.Messages())
}
