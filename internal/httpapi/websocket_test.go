package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

const (
	protoTransportWS = "graphql-transport-ws"
	protoGraphQLWS   = "graphql-ws"

	// testWait bounds every wait in these tests; it is generous so a busy
	// -race run does not fail, and never decides a pass by itself.
	testWait = 10 * time.Second
)

// wsMessage is a message of either GraphQL websocket subprotocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// testBundle is a real gqlgen server with the adapter behind httptest.
type testBundle struct {
	gql *testserver.TestServer
	ws  *Websocket
	url string

	mu         sync.Mutex
	errs       []error
	closeCodes chan int
}

// setup starts a gqlgen test server whose only transport is ws; configure
// may adjust the gqlgen transport before it is added.
func setup(tb testing.TB, ws *Websocket, configure func(*transport.Websocket)) *testBundle {
	tb.Helper()
	b := &testBundle{gql: testserver.New(), ws: ws, closeCodes: make(chan int, 64)}
	tr := transport.Websocket{
		Implementation: ws,
		ErrorFunc: func(_ context.Context, err error) {
			b.mu.Lock()
			b.errs = append(b.errs, err)
			b.mu.Unlock()
		},
		CloseFunc: func(_ context.Context, code int) {
			select {
			case b.closeCodes <- code:
			default: // the benchmark closes thousands and reads none
			}
		},
	}
	if configure != nil {
		configure(&tr)
	}
	b.gql.AddTransport(tr)
	srv := httptest.NewServer(b.gql)
	tb.Cleanup(srv.Close)
	b.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return b
}

// reported returns what gqlgen has passed to ErrorFunc so far.
func (b *testBundle) reported() []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]error(nil), b.errs...)
}

func (b *testBundle) closeCode(t *testing.T) int {
	t.Helper()
	select {
	case code := <-b.closeCodes:
		return code
	case <-time.After(testWait):
		t.Fatal("gqlgen's CloseFunc was not called")
		return 0
	}
}

func (b *testBundle) requireAllClosed(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool { return b.ws.Open() == 0 }, testWait, 5*time.Millisecond)
}

func dial(t *testing.T, url string, header http.Header, protocols ...string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: protocols, HandshakeTimeout: testWait}
	c, resp, err := d.Dial(url, header)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func send(t *testing.T, c *websocket.Conn, m wsMessage) {
	t.Helper()
	require.NoError(t, c.SetWriteDeadline(time.Now().Add(testWait)))
	require.NoError(t, c.WriteJSON(m))
}

// read returns the next message whose type is not in skip (keep-alives
// arrive whenever their ticker says so).
func read(t *testing.T, c *websocket.Conn, skip ...string) wsMessage {
	t.Helper()
	for {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(testWait)))
		var m wsMessage
		require.NoError(t, c.ReadJSON(&m))
		if !slices.Contains(skip, m.Type) {
			return m
		}
	}
}

// readUntilError reads and discards messages until the socket fails and
// returns that failure; a read timeout fails the test, since every caller
// expects the server to end the socket.
func readUntilError(t *testing.T, c *websocket.Conn) error {
	t.Helper()
	for {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(testWait)))
		if _, _, err := c.ReadMessage(); err != nil {
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "server did not end the socket: %v", err)
			return err
		}
	}
}

func requireCloseFrame(t *testing.T, err error, code int, text string) {
	t.Helper()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, code, ce.Code)
	require.Equal(t, text, ce.Text)
}

// connect dials with protocol and completes connection_init.
func connect(t *testing.T, b *testBundle, protocol string) *websocket.Conn {
	t.Helper()
	c := dial(t, b.url, nil, protocol)
	require.Equal(t, protocol, c.Subprotocol())
	send(t, c, wsMessage{Type: "connection_init"})
	require.Equal(t, "connection_ack", read(t, c, "ka").Type)
	return c
}

func TestWebsocketGraphQLTransportWS(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, nil)
	c := connect(t, b, protoTransportWS)

	send(t, c, wsMessage{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { name }"}`)})
	b.gql.SendNextSubscriptionMessage()
	m := read(t, c)
	require.Equal(t, "next", m.Type)
	require.Equal(t, "1", m.ID)
	require.JSONEq(t, `{"data":{"name":"test"}}`, string(m.Payload))

	b.gql.SendCompleteSubscriptionMessage()
	require.Equal(t, wsMessage{ID: "1", Type: "complete"}, read(t, c))

	// graphql-transport-ws pings are answered by gqlgen itself.
	send(t, c, wsMessage{Type: "ping"})
	require.Equal(t, "pong", read(t, c).Type)
}

func TestWebsocketGraphQLWS(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, func(tr *transport.Websocket) {
		tr.KeepAlivePingInterval = 20 * time.Millisecond
	})
	c := dial(t, b.url, nil, protoGraphQLWS)
	require.Equal(t, protoGraphQLWS, c.Subprotocol())
	send(t, c, wsMessage{Type: "connection_init"})
	require.Equal(t, "connection_ack", read(t, c).Type)
	require.Equal(t, "ka", read(t, c).Type)

	send(t, c, wsMessage{ID: "1", Type: "start", Payload: json.RawMessage(`{"query":"subscription { name }"}`)})
	b.gql.SendNextSubscriptionMessage()
	m := read(t, c, "ka")
	require.Equal(t, "data", m.Type)
	require.Equal(t, "1", m.ID)
	require.JSONEq(t, `{"data":{"name":"test"}}`, string(m.Payload))

	b.gql.SendCompleteSubscriptionMessage()
	require.Equal(t, wsMessage{ID: "1", Type: "complete"}, read(t, c, "ka"))

	// KeepAlivePingInterval keeps sending ka after the handshake.
	require.Equal(t, "ka", read(t, c).Type)
}

func TestWebsocketSubprotocolNegotiation(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, nil)

	tests := []struct {
		offer []string
		want  string
	}{
		{offer: []string{protoTransportWS, protoGraphQLWS}, want: protoTransportWS},
		{offer: []string{protoGraphQLWS, protoTransportWS}, want: protoGraphQLWS},
		{offer: []string{"mqtt", protoTransportWS}, want: protoTransportWS},
		// Nothing agreed: gqlgen falls back to graphql-ws.
		{offer: []string{"mqtt"}, want: ""},
		{offer: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.offer, ",")+"->"+tt.want, func(t *testing.T) {
			t.Parallel()
			c := dial(t, b.url, nil, tt.offer...)
			require.Equal(t, tt.want, c.Subprotocol())
			send(t, c, wsMessage{Type: "connection_init"})
			require.Equal(t, "connection_ack", read(t, c, "ka").Type)
		})
	}
}

func TestWebsocketAcceptHonoursOptions(t *testing.T) {
	t.Parallel()
	ws := &Websocket{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := ws.Accept(w, r, transport.WebsocketAcceptOptions{
			ResponseHeader: http.Header{"X-Koe-Node": {"a1"}},
			Subprotocols:   []string{"koe-test"},
		})
		if err != nil {
			return
		}
		_ = conn.WriteClose(websocket.CloseNormalClosure, "bye")
		_ = conn.Close()
	}))
	t.Cleanup(srv.Close)

	d := websocket.Dialer{Subprotocols: []string{protoTransportWS, "koe-test"}, HandshakeTimeout: testWait}
	c, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.Equal(t, "a1", resp.Header.Get("X-Koe-Node"))
	require.Equal(t, "koe-test", c.Subprotocol())
	requireCloseFrame(t, readUntilError(t, c), websocket.CloseNormalClosure, "bye")
}

func TestWebsocketPeerCloseIsNormal(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		close   func(*websocket.Conn) error
		wantErr bool
	}{
		{name: "1000 normal", close: func(c *websocket.Conn) error {
			return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(testWait))
		}},
		{name: "1001 going away", close: func(c *websocket.Conn) error {
			return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(testWait))
		}},
		{name: "1005 no status", close: func(c *websocket.Conn) error {
			return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNoStatusReceived, ""), time.Now().Add(testWait))
		}},
		// Dropping TCP without a close frame is reported to ErrorFunc.
		{name: "dropped", close: func(c *websocket.Conn) error { return c.Close() }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, &Websocket{}, nil)
			c := connect(t, b, protoTransportWS)
			require.Equal(t, 1, b.ws.Open())

			require.NoError(t, tt.close(c))
			require.Equal(t, transport.WebsocketCloseNormalClosure, b.closeCode(t))
			b.requireAllClosed(t)
			if tt.wantErr {
				require.NotEmpty(t, b.reported())
			} else {
				require.Empty(t, b.reported())
			}
		})
	}
}

func TestWebsocketReadLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, func(tr *transport.Websocket) {
		limit := int64(512)
		tr.PayloadReadLimit = &limit
	})
	c := connect(t, b, protoTransportWS)

	query := `subscription { name }` + strings.Repeat(" ", 2048)
	payload, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	send(t, c, wsMessage{ID: "1", Type: "subscribe", Payload: payload})

	requireCloseFrame(t, readUntilError(t, c), websocket.CloseMessageTooBig, "")
	b.requireAllClosed(t)
	require.NotEmpty(t, b.reported())
	require.ErrorIs(t, b.reported()[0], websocket.ErrReadLimit)
}

func TestWebsocketUnresponsivePeerIsDisconnected(t *testing.T) {
	t.Parallel()

	// Intervals are long enough for connection_init to get through first.
	const interval = 200 * time.Millisecond
	tests := []struct {
		name            string
		ws              *Websocket
		pingPong        time.Duration // gqlgen's PingPongInterval
		answerGQLPings  bool
		wantFramePinged bool
	}{
		{
			name:            "websocket ping frames",
			ws:              &Websocket{PingInterval: interval},
			wantFramePinged: true,
		},
		{
			// gqlgen's own pings reach the read deadline through the
			// adapter's SetReadDeadline.
			name:     "graphql-transport-ws pings",
			ws:       &Websocket{PingInterval: -1},
			pingPong: interval,
		},
		{
			// gqlgen clearing its deadline after a pong must not clear the
			// websocket pong deadline.
			name:            "answers graphql pings only",
			ws:              &Websocket{PingInterval: interval},
			pingPong:        interval / 4,
			answerGQLPings:  true,
			wantFramePinged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.ws, func(tr *transport.Websocket) { tr.PingPongInterval = tt.pingPong })
			c := connect(t, b, protoTransportWS)
			framePinged := false // the handler runs inside reads, on this goroutine
			c.SetPingHandler(func(string) error {
				framePinged = true
				return nil // no pong
			})

			// One deadline for the whole loop: answered pings keep it busy.
			require.NoError(t, c.SetReadDeadline(time.Now().Add(testWait)))
			var err error
			for err == nil {
				var m wsMessage
				if err = c.ReadJSON(&m); err == nil && m.Type == "ping" && tt.answerGQLPings {
					send(t, c, wsMessage{Type: "pong"})
				}
			}
			// gqlgen ends every socket whose read failed with 1000.
			requireCloseFrame(t, err, websocket.CloseNormalClosure, "terminated")
			b.requireAllClosed(t)
			require.NotEmpty(t, b.reported())
			require.ErrorIs(t, b.reported()[0], ErrPeerUnresponsive)
			require.Equal(t, tt.wantFramePinged, framePinged)
		})
	}
}

func TestWebsocketPongsKeepSocketOpen(t *testing.T) {
	t.Parallel()
	// Long enough that a busy -race run answers every ping in time.
	const interval = 300 * time.Millisecond
	b := setup(t, &Websocket{PingInterval: interval}, nil)
	c := connect(t, b, protoTransportWS)

	pings := 0 // the handler runs inside ReadMessage, on this goroutine
	c.SetPingHandler(func(data string) error {
		pings++
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(testWait))
	})

	// Reading lets the client answer pings; after several deadlines' worth
	// of time the socket must still be open, with pings having arrived.
	require.NoError(t, c.SetReadDeadline(time.Now().Add(7*interval)))
	_, _, err := c.ReadMessage()
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout(), "socket ended: %v", err)
	require.Equal(t, 1, b.ws.Open())
	require.GreaterOrEqual(t, pings, 3)
}

func TestWebsocketCloseAll(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, func(tr *transport.Websocket) {
		tr.KeepAlivePingInterval = time.Hour
	})
	clients := []*websocket.Conn{connect(t, b, protoTransportWS), connect(t, b, protoGraphQLWS)}
	send(t, clients[0], wsMessage{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { name }"}`)})
	require.Equal(t, 2, b.ws.Open())

	b.ws.CloseAll(websocket.CloseGoingAway, "server shutting down")

	for _, c := range clients {
		requireCloseFrame(t, readUntilError(t, c), websocket.CloseGoingAway, "server shutting down")
	}
	b.requireAllClosed(t)
	// gqlgen reports its own code to CloseFunc, not the one we sent.
	require.Equal(t, transport.WebsocketCloseNormalClosure, b.closeCode(t))
	require.Equal(t, transport.WebsocketCloseNormalClosure, b.closeCode(t))
}

func TestWebsocketCloseAllWithoutPeerAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{WriteTimeout: 50 * time.Millisecond}, nil)
	connect(t, b, protoTransportWS) // never reads, so never answers the close

	b.ws.CloseAll(websocket.CloseGoingAway, "")
	b.requireAllClosed(t)
}

func TestWebsocketInitFuncError(t *testing.T) {
	t.Parallel()
	// A reason longer than a close frame holds is cut on a rune boundary.
	long := strings.Repeat("é", 100)

	tests := []struct {
		protocol string
		// graphql-ws sends the error as connection_error first; gqlgen sends
		// nothing but the close frame on graphql-transport-ws.
		wantErrorMsg bool
	}{
		{protocol: protoTransportWS},
		{protocol: protoGraphQLWS, wantErrorMsg: true},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			t.Parallel()
			b := setup(t, &Websocket{}, func(tr *transport.Websocket) {
				tr.InitFunc = func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
					ctx = transport.WithWebsocketCloseCode(ctx, 4403)
					ctx = transport.AppendCloseReason(ctx, long)
					return ctx, nil, errors.New("bad token")
				}
			})
			c := dial(t, b.url, nil, tt.protocol)
			send(t, c, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"authorization":"x"}`)})
			if tt.wantErrorMsg {
				m := read(t, c)
				require.Equal(t, "connection_error", m.Type)
				require.JSONEq(t, `{"message":"bad token"}`, string(m.Payload))
			}
			requireCloseFrame(t, readUntilError(t, c), 4403, strings.Repeat("é", 61))
			require.Equal(t, 4403, b.closeCode(t))
			b.requireAllClosed(t)
		})
	}
}

func TestWebsocketAbandonedSocketIsClosed(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{WriteTimeout: 50 * time.Millisecond}, nil)
	c := dial(t, b.url, nil, protoTransportWS)

	// gqlgen returns without closing when the init payload is not an object.
	send(t, c, wsMessage{Type: "connection_init", Payload: json.RawMessage(`"not an object"`)})

	requireCloseFrame(t, readUntilError(t, c), websocket.CloseInternalServerErr, "session ended")
	b.requireAllClosed(t)
}

func TestWebsocketOrigin(t *testing.T) {
	t.Parallel()
	allowApp := func(r *http.Request) bool { return r.Header.Get("Origin") == "https://app.koe.example" }
	denyAll := func(*http.Request) bool { return false }

	tests := []struct {
		name        string
		checkOrigin func(*http.Request) bool
		origin      string // "same" means the server's own origin
		wantStatus  int
	}{
		{name: "default without origin", wantStatus: http.StatusSwitchingProtocols},
		{name: "default same origin", origin: "same", wantStatus: http.StatusSwitchingProtocols},
		{name: "default cross origin", origin: "https://evil.example", wantStatus: http.StatusForbidden},
		{name: "allowed origin", checkOrigin: allowApp, origin: "https://app.koe.example", wantStatus: http.StatusSwitchingProtocols},
		{name: "other origin", checkOrigin: allowApp, origin: "https://evil.example", wantStatus: http.StatusForbidden},
		{name: "denied without origin", checkOrigin: denyAll, wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, &Websocket{CheckOrigin: tt.checkOrigin}, nil)
			header := http.Header{}
			switch tt.origin {
			case "":
			case "same":
				header.Set("Origin", "http"+strings.TrimPrefix(b.url, "ws"))
			default:
				header.Set("Origin", tt.origin)
			}

			d := websocket.Dialer{Subprotocols: []string{protoTransportWS}, HandshakeTimeout: testWait}
			c, resp, err := d.Dial(b.url, header)
			require.NotNil(t, resp)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, tt.wantStatus, resp.StatusCode)
			if tt.wantStatus != http.StatusSwitchingProtocols {
				require.ErrorIs(t, err, websocket.ErrBadHandshake)
				require.Equal(t, 0, b.ws.Open())
				return
			}
			require.NoError(t, err)
			require.NoError(t, c.Close())
		})
	}
}

func TestWebsocketConcurrentWrites(t *testing.T) {
	t.Parallel()
	const writers, perWriter = 8, 100
	ws := &Websocket{PingInterval: time.Millisecond}
	writeErrs := make(chan error, writers*perWriter+1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := ws.Accept(w, r, transport.WebsocketAcceptOptions{})
		if err != nil {
			writeErrs <- err
			return
		}
		defer conn.Close()
		// Nothing reads on this side, so the pong deadline never bites
		// while pings go out every millisecond between the messages (and
		// the client does not answer them: unread pongs would make the
		// final close a TCP reset that drops what is still unsent).
		var wg sync.WaitGroup
		// Bigger than the write buffer, so a message takes several
		// network writes that a ping could otherwise split.
		pad := strings.Repeat("x", 3000)
		for k := range writers {
			wg.Go(func() {
				for i := range perWriter {
					writeErrs <- conn.WriteJSON(map[string]any{"w": k, "i": i, "pad": pad})
				}
			})
		}
		wg.Wait()
		writeErrs <- conn.WriteClose(websocket.CloseNormalClosure, "done")
	}))
	t.Cleanup(srv.Close)

	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	pinged := false
	c.SetPingHandler(func(string) error { pinged = true; return nil })
	seen := map[string]bool{}
	for range writers * perWriter {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(testWait)))
		var m struct {
			W, I int
			Pad  string
		}
		require.NoError(t, c.ReadJSON(&m))
		require.Len(t, m.Pad, 3000)
		seen[fmt.Sprint(m.W, "/", m.I)] = true
	}
	require.Len(t, seen, writers*perWriter)
	require.True(t, pinged)
	requireCloseFrame(t, readUntilError(t, c), websocket.CloseNormalClosure, "done")

	for range writers*perWriter + 1 {
		require.NoError(t, <-writeErrs)
	}
	require.Eventually(t, func() bool { return ws.Open() == 0 }, testWait, 5*time.Millisecond)
}

// TestWebsocketNoGoroutineLeak is not parallel: it counts every goroutine in
// the process, so other tests must not be running.
func TestWebsocketNoGoroutineLeak(t *testing.T) {
	b := setup(t, &Websocket{PingInterval: 100 * time.Millisecond}, func(tr *transport.Websocket) {
		tr.KeepAlivePingInterval = 10 * time.Millisecond
	})
	before := settledGoroutines()

	for i := range 10 {
		protocol, start := protoTransportWS, "subscribe"
		if i%2 == 1 {
			protocol, start = protoGraphQLWS, "start"
		}
		c := connect(t, b, protocol)
		send(t, c, wsMessage{ID: "1", Type: start, Payload: json.RawMessage(`{"query":"subscription { name }"}`)})
		switch i % 3 {
		case 0:
			require.NoError(t, c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(testWait)))
			_ = readUntilError(t, c)
		case 1:
			require.NoError(t, c.Close())
		case 2:
			b.ws.CloseAll(websocket.CloseGoingAway, "")
			_ = readUntilError(t, c)
		}
	}
	b.requireAllClosed(t)

	// Polled here rather than with require.Eventually, which checks its
	// condition on a goroutine of its own.
	for deadline := time.Now().Add(testWait); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
	}
}

const (
	envClientURL       = "KOE_WS_BENCH_CLIENT_URL"
	envClientConns     = "KOE_WS_BENCH_CLIENT_CONNS"
	envClientSubscribe = "KOE_WS_BENCH_CLIENT_SUBSCRIBE"
)

// BenchmarkIdleSocketMemory reports the Go heap and stack the server spends
// per idle graphql-transport-ws socket, without and with one live
// subscription. The clients run in a child process so only the server is
// measured:
//
//	go test -run '^$' -bench IdleSocketMemory -benchtime 1x ./internal/httpapi/
//
// KOE_WS_BENCH_CONNS sets the number of sockets (default 10000).
func BenchmarkIdleSocketMemory(b *testing.B) {
	n := 10000
	if v := os.Getenv("KOE_WS_BENCH_CONNS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(b, err)
	}
	for _, subscribe := range []bool{false, true} {
		name := "idle"
		if subscribe {
			name = "subscribed"
		}
		b.Run(name, func(b *testing.B) {
			bundle := setup(b, &Websocket{PingInterval: time.Hour}, nil)
			for range b.N {
				benchmarkIdleSockets(b, bundle, n, subscribe)
			}
		})
	}
}

func benchmarkIdleSockets(b *testing.B, bundle *testBundle, n int, subscribe bool) {
	var before, after runtime.MemStats
	goroutinesBefore := settledGoroutines()
	runtime.GC()
	runtime.ReadMemStats(&before)

	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleSocketClient$")
	cmd.Env = append(os.Environ(),
		envClientURL+"="+bundle.url,
		envClientConns+"="+strconv.Itoa(n),
		envClientSubscribe+"="+strconv.FormatBool(subscribe),
	)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "ready" {
	}
	require.Equal(b, n, bundle.ws.Open())
	// The last subscriptions may still be starting.
	goroutines := settledGoroutines() - goroutinesBefore

	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse+after.StackInuse-before.HeapInuse-before.StackInuse)/float64(n), "bytes/socket")
	b.ReportMetric(float64(after.StackInuse-before.StackInuse)/float64(n), "stack-bytes/socket")
	b.ReportMetric(float64(goroutines)/float64(n), "goroutines/socket")

	require.NoError(b, stdin.Close())
	require.NoError(b, cmd.Wait())
	require.Eventually(b, func() bool { return bundle.ws.Open() == 0 }, time.Minute, 10*time.Millisecond)
}

// settledGoroutines waits for the goroutine count to stop changing (sockets
// still starting or ending) and returns it.
func settledGoroutines() int {
	prev := runtime.NumGoroutine()
	for {
		time.Sleep(200 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == prev {
			return n
		}
		prev = n
	}
}

// TestIdleSocketClient is the client half of BenchmarkIdleSocketMemory,
// run in a child process; on its own it skips.
func TestIdleSocketClient(t *testing.T) {
	t.Parallel()
	url := os.Getenv(envClientURL)
	if url == "" {
		t.Skip("client process of BenchmarkIdleSocketMemory")
	}
	n, err := strconv.Atoi(os.Getenv(envClientConns))
	require.NoError(t, err)
	subscribe := os.Getenv(envClientSubscribe) == "true"

	d := websocket.Dialer{Subprotocols: []string{protoTransportWS}, ReadBufferSize: 256, WriteBufferSize: 256}
	conns := make([]*websocket.Conn, 0, n)
	for range n {
		c, resp, err := d.Dial(url, nil)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.NoError(t, c.WriteJSON(wsMessage{Type: "connection_init"}))
		var ack wsMessage
		require.NoError(t, c.ReadJSON(&ack))
		require.Equal(t, "connection_ack", ack.Type)
		if subscribe {
			require.NoError(t, c.WriteJSON(wsMessage{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { name }"}`)}))
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the benchmark closes stdin
	for _, c := range conns {
		_ = c.Close()
	}
}
