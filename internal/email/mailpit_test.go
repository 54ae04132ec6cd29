package email

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/mailpittest"
)

// mailpit is the test command's Mailpit and the host:port of its SMTP
// server (for forwarders that stand between it and the sender).
type mailpit struct {
	mailpittest.Mailpit
	smtp string
}

func mailpitEnv(t *testing.T) mailpit {
	t.Helper()
	m := mailpittest.Open(t)
	u, err := url.Parse(m.SMTP)
	require.NoError(t, err)
	return mailpit{Mailpit: m, smtp: u.Host}
}

// runID makes this run's addresses unique: Mailpit keeps messages across runs.
func runID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func TestMailpitDelivery(t *testing.T) {
	t.Parallel()
	mp := mailpitEnv(t)
	run := runID(t)
	s := newTestSMTP(t, mp.SMTP)

	m := Message{
		ID:          "it-" + run,
		To:          "taro-" + run + "@koe.test",
		ToName:      "山田 太郎",
		Subject:     "音声の生成が完了しました（テスト）— とても長い件名でも正しく折り返されて届くことを確認します",
		Text:        "山田 太郎 様\n\n音声の生成が完了しました。\nhttps://koe.test/history\n",
		HTML:        "<p>山田 太郎 様</p><p>音声の生成が<strong>完了</strong>しました。</p>",
		Unsubscribe: "https://koe.test/unsubscribe?t=abc.def",
	}
	require.NoError(t, s.Send(context.Background(), m))

	found := mp.WaitFor(t, "to:"+m.To, 1, 15*time.Second)
	require.Equal(t, 1, found.MessagesCount)
	got := mp.Message(t, found.Messages[0].ID)
	require.Equal(t, m.Subject, got.Subject)
	require.Equal(t, m.ID+"@koe.test", got.MessageID)
	require.Equal(t, []mailpittest.Address{{Name: m.ToName, Address: m.To}}, got.To)
	require.Equal(t, mailpittest.Address{Name: "Koe", Address: "noreply@koe.test"}, got.From)
	require.Equal(t, strings.TrimSpace(m.Text), strings.TrimSpace(strings.ReplaceAll(got.Text, "\r\n", "\n")))
	require.Equal(t, m.HTML, strings.TrimSpace(got.HTML))

	h := mp.Headers(t, found.Messages[0].ID)
	require.Equal(t, []string{"<" + m.ID + "@koe.test>"}, h["Message-Id"])
	require.Equal(t, []string{"<" + m.Unsubscribe + ">"}, h["List-Unsubscribe"])
	require.Equal(t, []string{"List-Unsubscribe=One-Click"}, h["List-Unsubscribe-Post"])
	require.Len(t, h["Date"], 1)
	_, err := time.Parse(time.RFC1123Z, h["Date"][0])
	require.NoError(t, err)
}

// TestMailpitRendered sends every kind in both languages as Render writes
// it, so the templates are checked by a real mail parser too.
func TestMailpitRendered(t *testing.T) {
	t.Parallel()
	mp := mailpitEnv(t)
	run := runID(t)
	s := newTestSMTP(t, mp.SMTP)
	u := NewUnsubscriber([]byte("test secret"), "https://koe.test")
	n := 0
	for _, loc := range []string{"en", "ja"} {
		for kind, data := range sampleData() {
			data["Unsubscribe"] = u.URL("user-1", PrefProductNews)
			subject, text, html, err := Render(kind, loc, data)
			require.NoError(t, err)
			m := Message{
				ID: fmt.Sprintf("render-%s-%s-%s", run, loc, kind), To: fmt.Sprintf("render-%s-%d@koe.test", run, n),
				ToName: "Ada", Subject: subject, Text: text, HTML: html, Unsubscribe: data["Unsubscribe"].(string),
			}
			n++
			require.NoError(t, s.Send(context.Background(), m))
			got := mp.Message(t, mp.WaitFor(t, "to:"+m.To, 1, 15*time.Second).Messages[0].ID)
			require.Equal(t, subject, got.Subject, kind)
			require.Equal(t, strings.TrimSpace(text), strings.TrimSpace(strings.ReplaceAll(got.Text, "\r\n", "\n")), kind)
			require.Contains(t, got.HTML, data["Unsubscribe"].(string), kind)
		}
	}
}

// TestMailpitBulk: 200 concurrent sends through one sender arrive exactly
// once each, over the pool's few connections.
func TestMailpitBulk(t *testing.T) {
	t.Parallel()
	mp := mailpitEnv(t)
	run := runID(t)
	s := newTestSMTP(t, mp.SMTP)

	const total = 200
	want := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for i := range total {
		to := fmt.Sprintf("bulk-%s-%03d@koe.test", run, i)
		want[to] = true
		wg.Go(func() {
			errs <- s.Send(context.Background(), Message{
				ID: fmt.Sprintf("bulk-%s-%03d", run, i), To: to, Subject: "Bulk", Text: "Bulk message",
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	dials := s.dials.Load()
	require.GreaterOrEqual(t, dials, int64(1))
	require.LessOrEqual(t, dials, int64(defaultSMTPPool), "connections are reused, not one per message")

	query := "to:bulk-" + run + "-"
	mp.WaitFor(t, query, total, 15*time.Second)
	time.Sleep(200 * time.Millisecond) // a duplicate would show up by now
	found := mp.Search(t, query)
	require.Equal(t, total, found.MessagesCount)
	got := map[string]bool{}
	for _, msg := range found.Messages {
		require.Len(t, msg.To, 1)
		got[msg.To[0].Address] = true
	}
	require.Equal(t, want, got)
}

// forwarder relays TCP connections from addr to target: a way to take the
// path to Mailpit down and bring it back on the same address.
type forwarder struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startForwarder(t *testing.T, addr, target string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	f := &forwarder{ln: ln}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, up)
			f.mu.Unlock()
			f.wg.Add(2)
			go func() { defer f.wg.Done(); _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { defer f.wg.Done(); _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
	t.Cleanup(f.stop)
	return f
}

// stop closes the listener and every relayed connection.
func (f *forwarder) stop() {
	_ = f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// TestMailpitReconnect: server down → transient error; server up → the
// same sender delivers; server restarted under an open connection → the
// sender notices and reconnects, without sending anything twice.
func TestMailpitReconnect(t *testing.T) {
	t.Parallel()
	mp := mailpitEnv(t)
	run := runID(t)
	addr := closedPort(t)
	s := newTestSMTP(t, "smtp://"+addr+"?tls=none")
	msg := func(i int) Message {
		return Message{ID: fmt.Sprintf("reconnect-%s-%d", run, i), To: fmt.Sprintf("reconnect-%s-%d@koe.test", run, i), Subject: "Reconnect", Text: "Hi"}
	}

	err := s.Send(context.Background(), msg(1))
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrPermanent)

	fw := startForwarder(t, addr, mp.smtp)
	require.NoError(t, s.Send(context.Background(), msg(1)))
	require.Equal(t, int64(1), s.dials.Load())

	fw.stop() // the idle pooled connection is now dead, and the port closed
	err = s.Send(context.Background(), msg(2))
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrPermanent)

	fw = startForwarder(t, addr, mp.smtp)
	require.NoError(t, s.Send(context.Background(), msg(2)))
	require.NoError(t, s.Send(context.Background(), msg(3)))

	fw.stop()
	startForwarder(t, addr, mp.smtp) // a restart between two sends
	require.NoError(t, s.Send(context.Background(), msg(4)))
	require.Equal(t, int64(3), s.dials.Load())

	for i := 1; i <= 4; i++ {
		mp.WaitFor(t, "to:"+msg(i).To, 1, 15*time.Second)
	}
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, 4, mp.Search(t, "to:reconnect-"+run+"-").MessagesCount, "each message exactly once")
}
