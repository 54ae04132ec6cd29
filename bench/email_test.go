package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/smtpsink"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// newsText is a broadcast of the usual length: a few short paragraphs.
const newsText = "Hello from Koe.\n\n" +
	"We added twelve new voices this month, among them two Japanese voices that read long texts " +
	"with far fewer pauses in odd places, and a British English voice that many of you asked for.\n\n" +
	"Generations of more than 10,000 characters now start speaking in about half the time, because " +
	"the first chunk is spoken while the rest of the text is still being split.\n\n" +
	"As always, reply to this email if something sounds wrong: we read every message.\n\n" +
	"The Koe team"

// BenchmarkEmailOutbox measures sustained email throughput of the whole
// outbox: an operator's createBroadcast to N people, fanned out by the
// release job in batches of 500 (outbox rows and River jobs in one
// transaction each), sent by the email_send workers (queue "email", 16
// workers, the process-wide KOE_EMAIL_RATE limiter) over the SMTP sender's
// connection pool into an in-process SMTP sink that discards what it gets.
// The server runs with its default settings; the sub-benchmarks are
//
//   - rate=default: KOE_EMAIL_RATE unset (300/s, so at most 1,080,000 an hour);
//   - rate=100000: the cap raised out of the way, to show what the pipeline
//     itself does.
//
// Throughput is taken at the sink, from its first message to its N-th:
// msgs/hour. The broadcast is released by a periodic job (every 5 s), so the
// time before the first message is not the pipeline's and is left out;
// ns/op is one whole broadcast, createBroadcast to status SENT, that wait
// included. Over the same window it reports cpu-s/10k-msgs, the CPU this
// process used (server, SQLite, and the sink and samplers here, which
// profile at under a tenth of it), on PostgreSQL pg-cpu-s/10k-msgs, what the
// server's PostgreSQL backends used besides, and the peaks of Go's
// heap-inuse-MB, sys-MB and the process's rss-MB sampled every 100 ms.
// fanout-s is how long the fan-out took (first to last outbox row written);
// conn-wait-ms/msg is how long the server's queries waited for a database
// connection, per message, and sqlite-busy the fraction of the window the
// one SQLite connection was in use (see BenchmarkQueries).
//
// Run it with -benchtime 1x: one broadcast per sub-benchmark, 10 to 40 s each.
func BenchmarkEmailOutbox(b *testing.B) {
	cases := []struct {
		name string
		rate string // KOE_EMAIL_RATE; "" leaves the default
		n    int    // recipients
	}{
		{name: "rate=default", n: 6000},
		{name: "rate=100000", rate: "100000", n: 10000},
	}
	for _, kind := range storetest.Kinds {
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/%s", kind, c.name), func(b *testing.B) {
				runOutbox(b, kind, c.rate, c.n)
			})
		}
	}
}

// runOutbox boots Koe with its SMTP sender pointed at a sink, adds n
// recipients, and sends b.N broadcasts to them one after the other.
func runOutbox(b *testing.B, kind storetest.Kind, rate string, n int) {
	w := &window{n: int64(n)}
	sink := smtpsink.Start(b, smtpsink.Config{OnMessage: w.message})
	env := map[string]string{"KOE_SMTP_URL": sink.URL()}
	for k, v := range quiet {
		env[k] = v
	}
	if rate != "" {
		env["KOE_EMAIL_RATE"] = rate
	}
	var pg *pgBackends
	if kind == storetest.Postgres {
		pg = newPGBackends(b, env)
	}
	srv := apptest.Boot(b, kind, env)
	addRecipients(b, srv, n)
	admin := srv.Client(apptest.AdminKey)

	var (
		elapsed, cpu, pgCPU time.Duration
		fanOut, connWait    time.Duration
		busy                float64
		peak                memPeak
		probe               = &dbProbe{srv}
	)
	b.ResetTimer()
	for i := range b.N {
		sp := w.arm(int64(i))
		var made struct{ CreateBroadcast struct{ ID string } }
		admin.Must(`mutation($in: BroadcastInput!) { createBroadcast(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"subject": fmt.Sprintf("Koe news %d", i+1), "textBody": newsText}}, &made)

		<-sp.first
		stop := make(chan struct{})
		sampled := peak.sample(stop)
		busyOf := probe.sqliteBusy(stop)
		wait0, pg0 := probe.wait(), pg.cpu(b, srv)
		select {
		case <-sp.last:
		case <-time.After(10 * time.Minute):
			b.Fatalf("%d of %d messages reached the sink in 10 minutes", sink.Messages()-int64(i)*int64(n), n)
		}
		wait1, pg1 := probe.wait(), pg.cpu(b, srv)
		close(stop)
		<-sampled
		busy += (<-busyOf).writer / float64(b.N)
		connWait += wait1 - wait0
		elapsed += sp.lastAt.Sub(sp.firstAt)
		cpu += sp.lastCPU - sp.firstCPU
		pgCPU += pg1 - pg0
		fanOut += waitSent(b, srv, admin, made.CreateBroadcast.ID, n)
		if got, want := sink.Messages(), int64(i+1)*int64(n); got != want {
			b.Fatalf("the sink got %d messages, want %d", got, want)
		}
	}
	b.StopTimer()

	msgs := float64(b.N) * float64(n-1) // first to N-th: n-1 intervals
	b.ReportMetric(msgs/elapsed.Hours(), "msgs/hour")
	b.ReportMetric(msgs/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(cpu.Seconds()/msgs*10000, "cpu-s/10k-msgs")
	if pg != nil {
		b.ReportMetric(pgCPU.Seconds()/msgs*10000, "pg-cpu-s/10k-msgs")
	}
	b.ReportMetric(fanOut.Seconds()/float64(b.N), "fanout-s")
	b.ReportMetric(ms(connWait)/msgs, "conn-wait-ms/msg")
	if pg == nil {
		b.ReportMetric(busy, "sqlite-busy")
	}
	b.ReportMetric(float64(peak.heapInuse)/(1<<20), "heap-inuse-MB")
	b.ReportMetric(float64(peak.sys)/(1<<20), "sys-MB")
	b.ReportMetric(float64(peak.rss)/(1<<20), "rss-MB")
}

// window stamps, from the sink's goroutines, the first and the last message
// of each broadcast.
type window struct {
	n   int64 // messages per broadcast
	cur atomic.Pointer[span]
}

// span is one broadcast's window: the time and this process's CPU time at
// its first and its last message, each readable once its channel is closed.
type span struct {
	base        int64 // messages the sink had before this broadcast
	first, last chan struct{}

	firstAt, lastAt   time.Time
	firstCPU, lastCPU time.Duration
}

// arm makes the window wait for the i-th broadcast (from 0) and returns its
// span.
func (w *window) arm(i int64) *span {
	sp := &span{base: i * w.n, first: make(chan struct{}), last: make(chan struct{})}
	w.cur.Store(sp)
	return sp
}

// message is the sink's OnMessage. The first and the n-th message of a
// broadcast come once each, so each stamp is written by one goroutine.
func (w *window) message(count int64) {
	sp := w.cur.Load()
	if sp == nil {
		return
	}
	switch count - sp.base {
	case 1:
		sp.firstAt, sp.firstCPU = time.Now(), selfCPU()
		close(sp.first)
	case w.n:
		sp.lastAt, sp.lastCPU = time.Now(), selfCPU()
		close(sp.last)
	}
}

func selfCPU() time.Duration {
	self, _ := cpuTime()
	return self
}

// addRecipients adds n people with an address who accept product news, in
// batches of 500 rows a statement.
func addRecipients(b *testing.B, srv *apptest.Server, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for start := 0; start < n; start += 500 {
		var users, prefs []string
		var uargs, pargs []any
		for i := start; i < min(start+500, n); i++ {
			id := fmt.Sprintf("usr_bench%07d", i)
			users = append(users, "(?, ?, 'USER', 'free', 'en', ?)")
			uargs = append(uargs, id, fmt.Sprintf("reader%d@news.koe.test", i), now)
			prefs = append(prefs, "(?, TRUE)")
			pargs = append(pargs, id)
		}
		if _, err := srv.DB().NewRaw("INSERT INTO users (id, email, role, plan_code, locale, created_at) VALUES "+
			strings.Join(users, ", "), uargs...).Exec(ctx); err != nil {
			b.Fatalf("add users: %v", err)
		}
		if _, err := srv.DB().NewRaw("INSERT INTO notification_preferences (user_id, product_news) VALUES "+
			strings.Join(prefs, ", "), pargs...).Exec(ctx); err != nil {
			b.Fatalf("add preferences: %v", err)
		}
	}
}

// waitSent waits until the broadcast is SENT with n messages sent, and
// returns how long its fan-out took (first to last outbox row written).
func waitSent(b *testing.B, srv *apptest.Server, admin *apptest.Client, id string, n int) time.Duration {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var out struct {
			Node struct {
				Status           string
				Recipients, Sent int
				Failed           int
			}
		}
		admin.Must(`query($id: ID!) { node(id: $id) { ... on Broadcast { status recipients sent failed } } }`,
			map[string]any{"id": id}, &out)
		bc := out.Node
		if bc.Status == "SENT" {
			if bc.Recipients != n || bc.Sent != n || bc.Failed != 0 {
				b.Fatalf("broadcast sent with %+v, want %d recipients all sent", bc, n)
			}
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("broadcast not SENT after 5 minutes: %+v", bc)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var span struct {
		First time.Time `bun:"first"`
		Last  time.Time `bun:"last"`
	}
	if err := srv.DB().NewRaw("SELECT MIN(created_at) AS first, MAX(created_at) AS last FROM email_outbox WHERE broadcast_id = ?", id).
		Scan(context.Background(), &span); err != nil {
		b.Fatalf("fan-out span: %v", err)
	}
	return span.Last.Sub(span.First)
}

// memPeak is the highest memory use seen by sample.
type memPeak struct{ heapInuse, sys, rss uint64 }

// sample reads the Go heap and the process's resident set every 100 ms
// until stop is closed, keeping the peaks; the returned channel closes when
// it is done.
func (p *memPeak) sample(stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			p.heapInuse, p.sys, p.rss = max(p.heapInuse, ms.HeapInuse), max(p.sys, ms.Sys), max(p.rss, residentBytes())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return done
}

// residentBytes is this process's resident set (VmRSS), 0 where /proc is
// not.
func residentBytes() uint64 { return residentOf("self") }

// residentOf is the resident set (VmRSS) of the process pid ("self" or a
// number), 0 where /proc is not.
func residentOf(pid string) uint64 {
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// pgBackends finds the PostgreSQL backend processes serving one booted
// server, by an application_name of its own, to read their CPU time: on
// PostgreSQL much of the work happens there, outside getrusage's view.
type pgBackends struct{ name string }

// newPGBackends points env's DATABASE_URL at a fresh schema, as Boot would,
// with an application_name the backends can be found by. (Boot still makes
// its own schema, which goes unused.)
func newPGBackends(b *testing.B, env map[string]string) *pgBackends {
	b.Helper()
	databaseURL, dataDir := storetest.URL(b, storetest.Postgres)
	u, err := url.Parse(databaseURL)
	if err != nil {
		b.Fatal(err)
	}
	p := &pgBackends{name: fmt.Sprintf("koe-bench-%d", time.Now().UnixNano())}
	q := u.Query()
	q.Set("application_name", p.name)
	u.RawQuery = q.Encode()
	env["DATABASE_URL"], env["KOE_DATA_DIR"] = u.String(), dataDir
	return p
}

// cpu is the CPU time the server's backends have used so far; 0 on SQLite
// (p nil) or where /proc cannot be read.
func (p *pgBackends) cpu(b *testing.B, srv *apptest.Server) time.Duration {
	if p == nil {
		return 0
	}
	var pids []int
	if err := srv.DB().NewRaw("SELECT pid FROM pg_stat_activity WHERE application_name = ?", p.name).
		Scan(context.Background(), &pids); err != nil {
		b.Fatalf("backends: %v", err)
	}
	var total time.Duration
	for _, pid := range pids {
		total += processCPU(pid)
	}
	return total
}

// processCPU is the CPU time (user + system) process pid has used so far, 0
// where /proc cannot be read.
func processCPU(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after "(comm)": state is the 3rd of the line, utime the 14th
	// and stime the 15th, in clock ticks (USER_HZ, 100 on Linux).
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100)
}
