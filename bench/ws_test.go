package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/generation"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/store"
)

// generationUpdated is what a progress bar asks for: the step, not the
// generation (selecting `generation` costs a database read per event and
// subscriber).
const generationUpdated = `subscription($id: ID!) { generationUpdated(id: $id) { status progress chunksDone chunksTotal } }`

// fakeChunks is how many chunks each generation of the event runs pretends
// to have. It gets steps events, as from a worker: RUNNING once split, one
// per chunk spoken, SUCCEEDED.
const (
	fakeChunks = 3
	steps      = fakeChunks + 2
)

// publishers is how many goroutines (and PostgreSQL connections) send the
// events, so one slow NOTIFY does not hold up the schedule.
const publishers = 8

// sourceAddrs is how many loopback addresses the sockets are dialed from:
// one address has ~28,000 ephemeral ports (32768–60999) towards the server.
const sourceAddrs = 10

// BenchmarkWebsockets measures what live subscriptions cost one Koe process
// on this machine. Koe runs as a process of its own (built from this tree,
// on PostgreSQL, default settings), so its memory is its alone; the clients
// (gorilla/websocket, graphql-transport-ws at /query, the admin API key on
// the upgrade request so no limit applies) run here.
//
// Each sub-benchmark inserts one QUEUED generation per socket, opens the
// sockets (connection_init → connection_ack), then starts
// generationUpdated(id:) on each, socket i on generation i, and waits for
// every initial event. Memory is read three times — before, with the sockets
// open, with the subscriptions live — right after a GC forced through
// pprof: go-KB/conn is the growth of Go's heap and stacks in use per socket
// (socket-go-KB/conn of which came with the bare socket, sub-go-KB/conn with
// its subscription; stack-KB/conn is the stacks' part), rss-KB/conn the
// growth of the resident set, and goroutines/conn the server's goroutines
// per socket. settled-go-KB/conn and settled-stack-KB/conn are read after
// four more forced collections, when stacks have shrunk to what parked
// goroutines use, as in a server that has been up for a while.
//
// With events=R/s, this process then publishes steps events per generation
// (RUNNING, one per chunk, SUCCEEDED) through generation.Publish on the
// PostgreSQL bus, exactly as a worker on another replica would: open loop,
// R a second, round after round over all generations (so each one gets an
// event every sockets/R seconds). p50_ms/p99_ms/max_ms is the time from the
// Publish call to the client reading the event (NOTIFY, the server's
// listener, the subscription's mailbox, gqlgen, the socket);
// bus_p50_ms/bus_p99_ms is the same to a listener in this process (NOTIFY
// and the bus alone, as a second replica would hear it). lost-terminal
// counts subscribers that never got SUCCEEDED, unfinished those that never
// got complete after it; coalesced counts earlier steps a subscriber never
// saw because a later one overtook them (allowed: the mailbox keeps the
// latest). events/s is the rate achieved and server-cpu-us/event the Koe
// process's CPU time per event over the publishing.
//
// The idle run opens 50,000 sockets, or as many as the open-file limit
// allows each process, and only holds them. ns/op is the whole run; run it
// with -benchtime 1x.
func BenchmarkWebsockets(b *testing.B) {
	// Each socket is a file here and one in the server; each process keeps
	// filesReserved for everything else (database connections, listeners).
	const filesReserved = 1000
	budget := int(openFiles(b, 50000+filesReserved)) - filesReserved
	if budget < 50000 {
		b.Logf("the open-file limit allows %d sockets a process, not 50,000: the idle run opens %d", budget, budget)
	}
	bin := buildKoe(b)
	for _, c := range []struct{ sockets, rate int }{{10000, 2000}, {10000, 5000}, {min(50000, budget), 0}} {
		name := fmt.Sprintf("sockets=%d/idle", c.sockets)
		if c.rate > 0 {
			name = fmt.Sprintf("sockets=%d/events=%d/s", c.sockets, c.rate)
		}
		b.Run(name, func(b *testing.B) { runSockets(b, bin, c.sockets, c.rate) })
	}
}

// runSockets is one run of BenchmarkWebsockets: n sockets, events at rate a
// second (0: none).
func runSockets(b *testing.B, bin string, n, rate int) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := startKoe(b, bin, nil)
	var me struct{ Me struct{ ID string } }
	srv.client(b).Must(`{ me { id } }`, nil, &me)
	db, err := store.Open(ctx, srv.DatabaseURL+fmt.Sprintf("&pool_max_conns=%d", publishers), srv.DataDir)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	defer cancel() // before db.Close: ends the bus listener on its pool
	f := &fanOut{owner: me.Me.ID, t0: time.Now()}
	f.insert(b, db, n)

	m0 := srv.memory(b)
	started := time.Now()
	conns := f.dial(b, srv.URL, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	connected := time.Since(started)
	m1 := srv.memory(b)
	f.subscribe(b, conns)
	m2 := srv.memory(b)
	for i, m := range []processMemory{m0, m1, m2} {
		b.Logf("%s: heap %d KB, stacks %d KB, RSS %d KB, %d goroutines",
			[]string{"before", "sockets open", "subscribed"}[i], m.heap>>10, m.stack>>10, m.rss>>10, m.goroutines)
	}

	b.ReportMetric(float64(n)/connected.Seconds(), "sockets/s")
	b.ReportMetric(kb(perConn(m0.goBytes(), m2.goBytes(), n)), "go-KB/conn")
	b.ReportMetric(kb(perConn(m0.goBytes(), m1.goBytes(), n)), "socket-go-KB/conn")
	b.ReportMetric(kb(perConn(m1.goBytes(), m2.goBytes(), n)), "sub-go-KB/conn")
	b.ReportMetric(kb(perConn(m0.stack, m2.stack, n)), "stack-KB/conn")
	b.ReportMetric(kb(perConn(m0.rss, m2.rss, n)), "rss-KB/conn")
	b.ReportMetric(perConn(m0.goroutines, m2.goroutines, n), "goroutines/conn")
	// A server that runs for a while collects garbage again and again, and
	// each cycle halves the stacks that use under a quarter of their size:
	// after a few cycles a parked goroutine keeps about what it needs.
	m3 := m2
	for range 4 {
		m3 = srv.memory(b)
	}
	b.Logf("after 4 more collections: heap %d KB, stacks %d KB, RSS %d KB", m3.heap>>10, m3.stack>>10, m3.rss>>10)
	if dir := os.Getenv("KOE_BENCH_PROFILE_DIR"); dir != "" {
		// What the live sockets hold, for `go tool pprof -sample_index=inuse_space`.
		name := filepath.Join(dir, strings.NewReplacer("/", "-", "=", "").Replace(b.Name())+".heap.pb.gz")
		if err := os.WriteFile(name, []byte(get(b, srv.debugURL+"/debug/pprof/heap")), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("heap profile: %s", name)
	}
	b.ReportMetric(kb(perConn(m0.goBytes(), m3.goBytes(), n)), "settled-go-KB/conn")
	b.ReportMetric(kb(perConn(m0.stack, m3.stack, n)), "settled-stack-KB/conn")
	if rate == 0 {
		return
	}

	bus, err := events.NewPostgres(ctx, db.Pool, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	f.listen(ctx, b, db, bus)
	cpu0 := srv.cpu()
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		if dir := os.Getenv("KOE_BENCH_PROFILE_DIR"); dir != "" {
			// Where the server spends the events' CPU, for `go tool pprof`.
			name := filepath.Join(dir, strings.NewReplacer("/", "-", "=", "").Replace(b.Name())+".cpu.pb.gz")
			seconds := max(1, n*steps/rate-2)
			if err := os.WriteFile(name, []byte(get(b, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", srv.debugURL, seconds))), 0o644); err != nil {
				b.Error(err)
			}
		}
	}()
	elapsed := f.publish(ctx, b, bus, rate)
	cpu := srv.cpu() - cpu0
	<-profiled
	if !waitCount(&f.completed, int64(n), time.Minute) {
		b.Errorf("%d of %d subscriptions completed within a minute of the last event", f.completed.Load(), n)
	}
	if !waitCount(&f.heardTerminal, int64(n), time.Minute) {
		b.Errorf("this process's listener heard %d of %d SUCCEEDED events", f.heardTerminal.Load(), n)
	}
	lat, coalesced := f.latencies(f.delivered)
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50_ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99_ms")
	b.ReportMetric(ms(percentile(lat, 1)), "max_ms")
	heard, _ := f.latencies(f.heard)
	b.ReportMetric(ms(percentile(heard, 0.50)), "bus_p50_ms")
	b.ReportMetric(ms(percentile(heard, 0.99)), "bus_p99_ms")
	b.ReportMetric(float64(int64(n)-f.terminal.Load()), "lost-terminal")
	b.ReportMetric(float64(int64(n)-f.completed.Load()), "unfinished")
	b.ReportMetric(float64(coalesced), "coalesced")
	b.ReportMetric(float64(n*steps)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n*steps), "server-cpu-us/event")
}

// fanOut is one run's generations and what its sockets saw of them: socket
// i follows generation ids[i].
type fanOut struct {
	owner string
	ids   []string
	index map[string]int // of ids
	t0    time.Time
	// published, delivered and heard hold, for step k of generation i at
	// [i*steps+k], when it was handed to the bus, when socket i read it, and
	// when this process's own bus listener heard it, in ns since t0 (0: not
	// yet). delivered[i*steps+k] is written only by socket i's reader, heard
	// only by listen's goroutine.
	published []atomic.Int64
	delivered []int64
	heard     []int64

	initial, terminal, completed, heardTerminal atomic.Int64
}

// insert adds n QUEUED generations of the owner, 1,000 rows a statement.
func (f *fanOut) insert(b *testing.B, db *store.DB, n int) {
	b.Helper()
	now := time.Now().UTC()
	for start := 0; start < n; start += 1000 {
		batch := make([]generation.Generation, 0, 1000)
		for range min(1000, n-start) {
			g := generation.Generation{ID: gid.New(gid.Generation), OwnerID: f.owner, VoiceID: "espeak-ng:en-us",
				Text: "Hello.", Characters: 6, Format: "WAV", Speed: 1, Status: generation.StatusQueued, CreatedAt: now}
			batch = append(batch, g)
			f.ids = append(f.ids, g.ID)
		}
		if _, err := db.NewInsert().Model(&batch).Exec(context.Background()); err != nil {
			b.Fatalf("insert generations: %v", err)
		}
	}
	f.published = make([]atomic.Int64, n*steps)
	f.delivered = make([]int64, n*steps)
	f.heard = make([]int64, n*steps)
	f.index = make(map[string]int, n)
	for i, id := range f.ids {
		f.index[id] = i
	}
}

// listen follows the owner's generations on bus from this process, as a
// second replica would (LISTEN, the bus's dispatch, a generation.Service's
// mailbox), until ctx ends, and stamps heard: the part of the delivery time
// that is PostgreSQL's and the bus's, not the server's.
func (f *fanOut) listen(ctx context.Context, b *testing.B, db *store.DB, bus *events.Postgres) {
	b.Helper()
	ready := make(chan struct{})
	go bus.Run(ctx, ready)
	<-ready
	svc := generation.NewService(generation.Config{DB: db, Bus: bus, Log: slog.New(slog.DiscardHandler)})
	updates := svc.WatchOwner(ctx, auth.Principal{UserID: f.owner, Role: auth.RoleAdmin})
	go func() {
		for e := range updates {
			at := int64(time.Since(f.t0))
			if step, ok := stepOf(e.Status, e.ChunksDone); ok {
				f.heard[f.index[e.GenerationID]*steps+step] = at
			}
			if e.Status == generation.StatusSucceeded {
				f.heardTerminal.Add(1)
			}
		}
	}()
}

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dial opens n sockets to the server at url, 64 at a time, from sourceAddrs
// loopback addresses in turn, each acknowledged (connection_ack) and read by
// a goroutine of its own from then on.
func (f *fanOut) dial(b *testing.B, url string, n int) []*websocket.Conn {
	b.Helper()
	u := "ws" + strings.TrimPrefix(url, "http") + "/query"
	header := http.Header{"Authorization": {"Bearer " + apptest.AdminKey}}
	var pool sync.Pool
	dialers := make([]*websocket.Dialer, sourceAddrs)
	for a := range dialers {
		local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+a))}
		dialers[a] = &websocket.Dialer{
			NetDialContext:   (&net.Dialer{LocalAddr: local}).DialContext,
			Subprotocols:     []string{apptest.TransportWS},
			HandshakeTimeout: time.Minute,
			ReadBufferSize:   1024, WriteBufferSize: 1024, WriteBufferPool: &pool,
		}
	}
	conns := make([]*websocket.Conn, n)
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(64)
	for i := range n {
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			conn, err := open(dialers[i%sourceAddrs], u, header)
			if err != nil {
				return fmt.Errorf("socket %d: %w", i, err)
			}
			conns[i] = conn
			go f.read(i, conn)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
		b.Fatal(err)
	}
	return conns
}

// open dials one socket and waits for its connection_ack.
func open(d *websocket.Dialer, url string, header http.Header) (*websocket.Conn, error) {
	conn, _, err := d.Dial(url, header)
	if err != nil {
		return nil, err
	}
	if err := conn.WriteJSON(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)}); err != nil {
		_ = conn.Close()
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	var ack wsMessage
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		_ = conn.Close()
		return nil, fmt.Errorf("waiting for connection_ack: got %q, %v", ack.Type, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, nil
}

// subscribe starts generationUpdated on every socket, socket i on
// generation i, and waits until each has had its initial event.
func (f *fanOut) subscribe(b *testing.B, conns []*websocket.Conn) {
	b.Helper()
	var g errgroup.Group
	g.SetLimit(16)
	for i, conn := range conns {
		g.Go(func() error {
			payload, _ := json.Marshal(map[string]any{"query": generationUpdated, "variables": map[string]any{"id": f.ids[i]}})
			if err := conn.WriteJSON(wsMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
				return fmt.Errorf("subscribe on socket %d: %w", i, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	if !waitCount(&f.initial, int64(len(conns)), 5*time.Minute) {
		b.Fatalf("%d of %d subscriptions sent their initial event within 5 minutes", f.initial.Load(), len(conns))
	}
}

// read reads socket i until it closes, stamping each event of its
// generation with the time it arrived.
func (f *fanOut) read(i int, conn *websocket.Conn) {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		at := int64(time.Since(f.t0))
		var m wsMessage
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Type {
		case "next":
			var p struct {
				Data struct {
					GenerationUpdated struct {
						Status     generation.Status
						ChunksDone int
					}
				}
			}
			if json.Unmarshal(m.Payload, &p) != nil {
				continue
			}
			e := p.Data.GenerationUpdated
			if e.Status == generation.StatusQueued {
				f.initial.Add(1)
			}
			if step, ok := stepOf(e.Status, e.ChunksDone); ok {
				f.delivered[i*steps+step] = at
			}
			if e.Status == generation.StatusSucceeded {
				f.terminal.Add(1)
			}
		case "complete":
			f.completed.Add(1)
		}
	}
}

// stepEvent is step k of generation id as a worker would publish it: the
// text split (k = 0), chunk k spoken (progress counts encoding as one more
// step, as generation.Worker does), or SUCCEEDED.
func stepEvent(id, owner string, k int) generation.Event {
	e := generation.Event{GenerationID: id, OwnerID: owner, Status: generation.StatusRunning,
		Progress: float64(k) / float64(fakeChunks+1), ChunksDone: k, ChunksTotal: fakeChunks}
	if k == steps-1 {
		e.Status, e.Progress, e.ChunksDone = generation.StatusSucceeded, 1, fakeChunks
	}
	return e
}

// stepOf is the step (see stepEvent) of an event with status and
// chunksDone; false for the initial QUEUED state.
func stepOf(status generation.Status, chunksDone int) (int, bool) {
	switch status {
	case generation.StatusRunning:
		return chunksDone, true
	case generation.StatusSucceeded:
		return steps - 1, true
	}
	return 0, false
}

// publish sends every step of every generation on bus, rate a second on an
// open-loop schedule (round k to all generations before round k+1), and
// returns how long it took.
func (f *fanOut) publish(ctx context.Context, b *testing.B, bus events.Bus, rate int) time.Duration {
	n := len(f.ids)
	due := make(chan int, 1024)
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for j := range due {
				k, i := j/n, j%n
				f.published[i*steps+k].Store(int64(time.Since(f.t0)))
				if err := generation.Publish(ctx, bus, stepEvent(f.ids[i], f.owner, k)); err != nil {
					b.Errorf("publish: %v", err)
				}
			}
		})
	}
	start := time.Now()
	for j := range n * steps {
		if d := time.Until(start.Add(time.Duration(j) * time.Second / time.Duration(rate))); d > 0 {
			time.Sleep(d)
		}
		due <- j
	}
	close(due)
	wg.Wait()
	return time.Since(start)
}

// latencies returns publish → arrival of every event in arrivals (delivered
// or heard), and how many non-terminal steps never arrived.
func (f *fanOut) latencies(arrivals []int64) (lat []time.Duration, coalesced int) {
	for slot, at := range arrivals {
		if at == 0 {
			if slot%steps != steps-1 {
				coalesced++
			}
			continue
		}
		lat = append(lat, time.Duration(at-f.published[slot].Load()))
	}
	return lat, coalesced
}

// waitCount waits until c reaches n or timeout passes, and says whether it
// reached n.
func waitCount(c *atomic.Int64, n int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for c.Load() < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
