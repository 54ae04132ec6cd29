package smtpsink_test

import (
	"net/smtp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/smtpsink"
)

// TestSink: the standard library's client delivers through the sink, which
// counts, keeps and reports the message, and answers RCPT as configured.
func TestSink(t *testing.T) {
	t.Parallel()
	var seen atomic.Int64
	sk := smtpsink.Start(t, smtpsink.Config{Keep: true, OnMessage: func(n int64) { seen.Store(n) }})
	body := "Subject: Hi\r\n\r\nHello.\r\n.leading dot\r\n"
	require.NoError(t, smtp.SendMail(sk.Addr(), nil, "a@koe.test", []string{"b@koe.test"}, []byte(body)))
	require.Equal(t, int64(1), sk.Messages())
	require.Equal(t, int64(1), sk.Conns())
	require.Equal(t, int64(1), seen.Load())
	got := sk.Received()
	require.Len(t, got, 1)
	require.True(t, strings.HasSuffix(got[0], "Hello.\r\n.leading dot\r\n"), got[0])
	require.True(t, strings.HasPrefix(sk.URL(), "smtp://127.0.0.1:"))

	refusing := smtpsink.Start(t, smtpsink.Config{RCPTReply: "550 5.1.1 No such user"})
	err := smtp.SendMail(refusing.Addr(), nil, "a@koe.test", []string{"b@koe.test"}, []byte(body))
	require.ErrorContains(t, err, "550")
	require.Equal(t, int64(0), refusing.Messages())
}
