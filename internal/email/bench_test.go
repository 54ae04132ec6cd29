package email

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/smtpsink"
)

// BenchmarkSMTPThroughput measures messages per second through one SMTP
// sender into an in-process sink, with a rendered generation.succeeded
// message (text + HTML, ~5 KB). "loopback" is the CPU cost on this machine;
// the rtt cases make the sink wait before every reply, as a relay that far
// away would, to show how the pool size bounds throughput
// (≈ pool / (4 × RTT)). Reproduce with
//
//	go test -run '^$' -bench SMTPThroughput -benchtime 5s ./internal/email/
func BenchmarkSMTPThroughput(b *testing.B) {
	subject, text, html, err := Render(KindGenerationSucceeded, "ja", map[string]any{
		"Name": "山田 太郎", "Characters": 12345, "Voice": "Aria", "URL": "https://koe.test/history",
		"Unsubscribe": "https://koe.test/unsubscribe?t=abc.def",
	})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		rtt  time.Duration
		pool int
	}{
		{name: "loopback/pool=4", pool: defaultSMTPPool},
		{name: "rtt=10ms/pool=4", rtt: 10 * time.Millisecond, pool: 4},
		{name: "rtt=10ms/pool=32", rtt: 10 * time.Millisecond, pool: 32},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			sk := smtpsink.Start(b, smtpsink.Config{Delay: bc.rtt})
			s, err := NewSMTP(fmt.Sprintf("%s&pool=%d", sk.URL(), bc.pool), testFrom)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var n atomic.Int64
			b.SetParallelism(bc.pool) // GOMAXPROCS × pool senders: enough to keep the pool busy
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					err := s.Send(context.Background(), Message{
						ID: fmt.Sprintf("bench-%d", i), To: fmt.Sprintf("user%d@koe.test", i), ToName: "山田 太郎",
						Subject: subject, Text: text, HTML: html, Unsubscribe: "https://koe.test/unsubscribe?t=abc.def",
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			perSec := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(perSec, "msgs/s")
			b.ReportMetric(perSec*3600, "msgs/hour")
			b.ReportMetric(float64(s.dials.Load()), "conns")
		})
	}
}
