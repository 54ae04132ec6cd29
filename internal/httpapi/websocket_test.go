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
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/wake"
)

// testWait bounds every wait in these tests; it is generous so a busy -race
// run does not fail, and never decides a pass by itself.
const testWait = 10 * time.Second

// wsMessage is a message of either GraphQL websocket subprotocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// testSchema is a schema without generated code. Subscription.name is read
// by a goroutine waiting on its channel, Subscription.woken keeps the wake
// contract (package wake); both stream what the test sends to the stream
// the subscription registered.
var testSchema = gqlparser.MustLoadSchema(&ast.Source{Input: `
	type Query { name: String!  slow: String! }
	type Mutation { boom: String! }
	type Subscription { name: String!  woken: String! }
`})

// stream is one live subscription of the test schema.
type stream struct {
	field string
	ch    chan string
	wake  func() // nil for Subscription.name
	ctx   context.Context
}

// send hands v to the subscription; the caller waits for it to arrive
// before sending again (the channel holds one).
func (s *stream) send(v string) {
	s.ch <- v
	if s.wake != nil {
		s.wake()
	}
}

func (s *stream) close() {
	close(s.ch)
	if s.wake != nil {
		s.wake()
	}
}

type execSchema struct {
	streams chan *stream
	// slow holds Query.slow until it is closed; slowStarted hears of each
	// one that began waiting.
	slow        chan struct{}
	slowStarted chan struct{}
}

func (e *execSchema) Schema() *ast.Schema { return testSchema }
func (e *execSchema) Complexity(context.Context, string, string, int, map[string]any) (int, bool) {
	return 1, true
}

func (e *execSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx).Operation
	switch op.Operation {
	case ast.Query:
		if op.SelectionSet[0].(*ast.Field).Name == "slow" {
			e.slowStarted <- struct{}{}
			<-e.slow
			return graphql.OneShot(&graphql.Response{Data: []byte(`{"slow":"done"}`)})
		}
		return graphql.OneShot(&graphql.Response{Data: []byte(`{"name":"test"}`)})
	case ast.Mutation:
		panic("boom")
	}
	field := op.SelectionSet[0].(*ast.Field).Name
	s := &stream{field: field, ch: make(chan string, 1), ctx: ctx}
	if field == "woken" {
		s.wake = wake.Take(ctx)
	}
	select {
	case e.streams <- s:
	default: // the benchmark opens thousands and reads none
	}
	return func(ctx context.Context) *graphql.Response {
		select {
		case v, ok := <-s.ch:
			if !ok {
				return nil
			}
			return &graphql.Response{Data: fmt.Appendf(nil, `{%q:%q}`, field, v)}
		case <-ctx.Done():
			return nil
		}
	}
}

// testBundle is a GraphQL server with GraphQLWS as its only transport.
type testBundle struct {
	tr     *GraphQLWS
	ws     *Websocket
	schema *execSchema
	url    string

	mu   sync.Mutex
	errs []error
}

// setup starts a server on ws; configure may adjust the transport.
func setup(tb testing.TB, ws *Websocket, configure func(*GraphQLWS)) *testBundle {
	tb.Helper()
	b := &testBundle{ws: ws, schema: &execSchema{streams: make(chan *stream, 16), slow: make(chan struct{}), slowStarted: make(chan struct{}, 16)}}
	b.tr = &GraphQLWS{
		Sockets: ws,
		ErrorFunc: func(_ context.Context, err error) {
			b.mu.Lock()
			b.errs = append(b.errs, err)
			b.mu.Unlock()
		},
	}
	if configure != nil {
		configure(b.tr)
	}
	gql := handler.New(b.schema)
	gql.SetRecoverFunc(func(context.Context, any) error { return errors.New("internal error") })
	gql.AddTransport(b.tr)
	srv := httptest.NewServer(gql)
	tb.Cleanup(srv.Close)
	b.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return b
}

// reported returns what ErrorFunc heard so far.
func (b *testBundle) reported() []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]error(nil), b.errs...)
}

// stream returns the next subscription the schema started.
func (b *testBundle) stream(t *testing.T) *stream {
	t.Helper()
	select {
	case s := <-b.schema.streams:
		return s
	case <-time.After(testWait):
		t.Fatal("no subscription started")
		return nil
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

func sendRaw(t *testing.T, c *websocket.Conn, raw string) {
	t.Helper()
	require.NoError(t, c.SetWriteDeadline(time.Now().Add(testWait)))
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(raw)))
}

// read returns the next message whose type is not in skip (keep-alives
// arrive whenever their timer says so).
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

func startMessage(protocol, id, query string) wsMessage {
	kind := "subscribe"
	if protocol == legacyWS {
		kind = "start"
	}
	payload, _ := json.Marshal(map[string]string{"query": query})
	return wsMessage{ID: id, Type: kind, Payload: payload}
}

// requireCanceled waits for the stream's context to end: its subscription
// is over on the server.
func requireCanceled(t *testing.T, s *stream) {
	t.Helper()
	select {
	case <-s.ctx.Done():
	case <-time.After(testWait):
		t.Fatal("the subscription's context did not end")
	}
}

// TestWebsocketSubscriptions: both protocols stream every event of both
// kinds of subscription in order, complete them when their stream ends,
// stop them when the client asks, and answer queries on the same socket.
func TestWebsocketSubscriptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ protocol, data, stop string }{
		{transportWS, "next", "complete"},
		{legacyWS, "data", "stop"},
	} {
		for _, field := range []string{"name", "woken"} {
			t.Run(tc.protocol+"/"+field, func(t *testing.T) {
				t.Parallel()
				b := setup(t, &Websocket{}, nil)
				c := connect(t, b, tc.protocol)

				send(t, c, startMessage(tc.protocol, "1", "subscription { "+field+" }"))
				s := b.stream(t)
				for i := range 5 {
					s.send(strconv.Itoa(i))
					m := read(t, c, "ka")
					require.Equal(t, wsMessage{ID: "1", Type: tc.data, Payload: json.RawMessage(fmt.Sprintf(`{"data":{%q:"%d"}}`, field, i))}, m)
				}
				s.close()
				require.Equal(t, wsMessage{ID: "1", Type: "complete"}, read(t, c, "ka"))

				// The same id again, then stopped by the client: nothing more
				// arrives for it, and its resolver's context ends.
				send(t, c, startMessage(tc.protocol, "1", "subscription { "+field+" }"))
				s = b.stream(t)
				send(t, c, wsMessage{ID: "1", Type: tc.stop})
				requireCanceled(t, s)

				send(t, c, startMessage(tc.protocol, "2", "{ name }"))
				require.Equal(t, wsMessage{ID: "2", Type: tc.data, Payload: json.RawMessage(`{"data":{"name":"test"}}`)}, read(t, c, "ka"))
				require.Equal(t, wsMessage{ID: "2", Type: "complete"}, read(t, c, "ka"))
				require.Empty(t, b.reported())
			})
		}
	}
}

// errorMessages decodes the payload of an error message.
func errorMessages(t *testing.T, m wsMessage) string {
	t.Helper()
	require.Equal(t, "error", m.Type, "%s", m.Payload)
	var errs []struct{ Message string }
	require.NoError(t, json.Unmarshal(m.Payload, &errs))
	require.Len(t, errs, 1)
	return errs[0].Message
}

// TestWebsocketStartAuthorizesEachOperation: Start runs before every
// operation and gives it its context; its error ends only that operation,
// and a *Refusal closes the socket too, after the operation heard why.
func TestWebsocketStartAuthorizesEachOperation(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{transportWS, legacyWS} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			verdicts := make(chan error, 1)
			b := setup(t, &Websocket{}, func(tr *GraphQLWS) {
				tr.Start = func(ctx context.Context) (context.Context, error) {
					calls.Add(1)
					return ctx, <-verdicts
				}
			})
			c := connect(t, b, protocol)
			verdicts <- nil
			send(t, c, startMessage(protocol, "1", "{ name }"))
			require.Equal(t, "1", read(t, c, "ka").ID)
			require.Equal(t, "complete", read(t, c, "ka").Type)

			verdicts <- errors.New("over the rate")
			send(t, c, startMessage(protocol, "2", "{ name }"))
			require.Equal(t, "over the rate", errorMessages(t, read(t, c, "ka")))

			verdicts <- &Refusal{Code: 4403, Reason: "Forbidden: your role changed; reconnect", Err: errors.New("demoted")}
			send(t, c, startMessage(protocol, "3", "{ name }"))
			m := read(t, c, "ka")
			require.Equal(t, "3", m.ID)
			require.Equal(t, "demoted", errorMessages(t, m))
			requireCloseFrame(t, readUntilError(t, c), 4403, "Forbidden: your role changed; reconnect")
			require.EqualValues(t, 3, calls.Load(), "once per operation")
			b.requireAllClosed(t)
		})
	}
}

// TestWebsocketInFlightBounds: a socket holds at most InFlight's operations
// at once, and of them at most its number of queries and mutations; one
// more ends at once with an error and the socket goes on, and an ended one
// makes room.
func TestWebsocketInFlightBounds(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, func(tr *GraphQLWS) {
		tr.InFlight = func(context.Context) (int, int) { return 3, 2 }
	})
	c := connect(t, b, transportWS)
	for _, id := range []string{"q1", "q2"} {
		send(t, c, startMessage(transportWS, id, "{ slow }"))
		select {
		case <-b.schema.slowStarted:
		case <-time.After(testWait):
			t.Fatal("the slow query did not start")
		}
	}
	send(t, c, startMessage(transportWS, "q3", "{ slow }"))
	m := read(t, c)
	require.Equal(t, "q3", m.ID)
	require.Contains(t, errorMessages(t, m), "at most 2 queries and mutations may be in flight on one socket")

	send(t, c, startMessage(transportWS, "s1", "subscription { name }"))
	b.stream(t)
	send(t, c, startMessage(transportWS, "s2", "subscription { name }"))
	m = read(t, c)
	require.Equal(t, "s2", m.ID)
	require.Contains(t, errorMessages(t, m), "at most 3 operations may be in flight on one socket")

	close(b.schema.slow)
	done := map[string]int{}
	for len(done) < 2 || done["q1"] < 2 || done["q2"] < 2 {
		done[read(t, c).ID]++ // a result and its complete each
	}
	send(t, c, startMessage(transportWS, "s2", "subscription { name }"))
	s := b.stream(t)
	s.send("after")
	require.Equal(t, wsMessage{ID: "s2", Type: "next", Payload: json.RawMessage(`{"data":{"name":"after"}}`)}, read(t, c))
}

// TestWebsocketEventsArriveWhileOthersAreSent: a woken subscription's events
// and its completion stay in order when the resolver wakes the transport
// again while an event is still being sent.
func TestWebsocketEventsArriveWhileOthersAreSent(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, nil)
	c := connect(t, b, transportWS)
	send(t, c, startMessage(transportWS, "1", "subscription { woken }"))
	s := b.stream(t)

	const n = 200
	go func() {
		for i := range n {
			s.send(strconv.Itoa(i)) // blocks while the slot is full
		}
		s.close()
	}()
	for i := range n {
		m := read(t, c)
		require.Equal(t, "next", m.Type)
		require.JSONEq(t, fmt.Sprintf(`{"data":{"woken":"%d"}}`, i), string(m.Payload))
	}
	require.Equal(t, wsMessage{ID: "1", Type: "complete"}, read(t, c))
}

// TestWebsocketPingPong: graphql-transport-ws pings and websocket ping
// frames are answered with their payload; pongs of either kind need no
// answer.
func TestWebsocketPingPong(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, nil)
	c := connect(t, b, transportWS)
	send(t, c, wsMessage{Type: "pong"})
	send(t, c, wsMessage{Type: "ping", Payload: json.RawMessage(`{"n":1}`)})
	require.Equal(t, wsMessage{Type: "pong", Payload: json.RawMessage(`{"n":1}`)}, read(t, c))

	pongs := make(chan string, 2) // the handler runs inside reads, on this goroutine
	c.SetPongHandler(func(data string) error { pongs <- data; return nil })
	deadline := time.Now().Add(testWait)
	require.NoError(t, c.WriteControl(websocket.PongMessage, []byte("unasked"), deadline))
	require.NoError(t, c.WriteControl(websocket.PingMessage, []byte("frame 1"), deadline))
	require.NoError(t, c.WriteControl(websocket.PingMessage, nil, deadline))
	send(t, c, wsMessage{Type: "ping"})
	require.Equal(t, "pong", read(t, c).Type)
	require.Equal(t, "frame 1", <-pongs)
	require.Equal(t, "", <-pongs)
}

// TestWebsocketKeepAlive: graphql-ws sockets get "ka" after the ack and then
// every KeepAlive; graphql-transport-ws sockets never do.
func TestWebsocketKeepAlive(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, func(tr *GraphQLWS) { tr.KeepAlive = 20 * time.Millisecond })
	c := dial(t, b.url, nil, legacyWS)
	send(t, c, wsMessage{Type: "connection_init"})
	require.Equal(t, "connection_ack", read(t, c).Type)
	for range 3 {
		require.Equal(t, "ka", read(t, c).Type)
	}

	c = connect(t, b, transportWS)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	_, _, err := c.ReadMessage()
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout(), "got a message: %v", err)
}

// TestWebsocketOperationErrors: a request that does not parse, does not
// validate or panics ends with an error message, and the socket goes on.
func TestWebsocketOperationErrors(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{transportWS, legacyWS} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			b := setup(t, &Websocket{}, nil)
			c := connect(t, b, protocol)
			start := startMessage(protocol, "", "")

			for id, payload := range map[string]string{
				"not-graphql": `"just a string"`,
				"parse":       `{"query":"subscription {"}`,
				"validate":    `{"query":"subscription { nope }"}`,
				"panic":       `{"query":"mutation { boom }"}`,
			} {
				send(t, c, wsMessage{ID: id, Type: start.Type, Payload: json.RawMessage(payload)})
				m := read(t, c, "ka")
				require.Equal(t, "error", m.Type, id)
				require.Equal(t, id, m.ID)
				var errs []struct{ Message string }
				require.NoError(t, json.Unmarshal(m.Payload, &errs), id)
				require.Len(t, errs, 1, id)
				require.NotEmpty(t, errs[0].Message, id)
			}
			send(t, c, startMessage(protocol, "ok", "{ name }"))
			require.Equal(t, "ok", read(t, c, "ka").ID)
		})
	}
}

// TestWebsocketProtocolViolations: a client that breaks the protocol gets
// the close code graphql-transport-ws gives for it (graphql-ws clients a
// connection_error and 1002 for a bad message), and nothing else runs.
func TestWebsocketProtocolViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		protocol string
		init     bool // send connection_init first
		send     []string
		code     int
		reason   string
	}{
		{"not JSON", transportWS, true, []string{`{"type":`}, 4400, "Invalid message received"},
		{"not JSON legacy", legacyWS, true, []string{`nope`}, websocket.CloseProtocolError, "Invalid message received"},
		{"unknown type", transportWS, true, []string{`{"type":"start"}`}, 4400, "Unexpected message type start"},
		{"unknown type legacy", legacyWS, true, []string{`{"type":"ping"}`}, websocket.CloseProtocolError, "Unexpected message type ping"},
		{"subscribe before init", transportWS, false, []string{`{"id":"1","type":"subscribe","payload":{"query":"{ name }"}}`}, 4401, "Unauthorized"},
		{"no id", transportWS, true, []string{`{"type":"subscribe","payload":{"query":"{ name }"}}`}, 4400, "The subscribe message needs an id"},
		{"duplicate id", transportWS, true, []string{
			`{"id":"1","type":"subscribe","payload":{"query":"subscription { name }"}}`,
			`{"id":"1","type":"subscribe","payload":{"query":"subscription { name }"}}`,
		}, 4409, "Subscriber for 1 already exists"},
		{"second init", transportWS, true, []string{`{"type":"connection_init"}`}, 4429, "Too many initialisation requests"},
		{"init payload not an object", transportWS, false, []string{`{"type":"connection_init","payload":"x"}`}, 4400, "The connection_init payload must be an object"},
		// A ping's payload is echoed in the pong: invalid UTF-8 would go
		// back out as invalid text.
		{"invalid UTF-8", transportWS, true, []string{"{\"type\":\"ping\",\"payload\":{\"x\":\"\xff\xfe\"}}"}, websocket.CloseInvalidFramePayloadData, "Invalid UTF-8 in a text message"},
		{"invalid UTF-8 legacy", legacyWS, true, []string{"{\"type\":\"start\",\"id\":\"\xc3\"}"}, websocket.CloseInvalidFramePayloadData, "Invalid UTF-8 in a text message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, &Websocket{}, nil)
			c := dial(t, b.url, nil, tt.protocol)
			if tt.init {
				send(t, c, wsMessage{Type: "connection_init"})
				require.Equal(t, "connection_ack", read(t, c, "ka").Type)
			}
			for _, raw := range tt.send {
				sendRaw(t, c, raw)
			}
			if tt.protocol == legacyWS {
				m := read(t, c, "ka")
				require.Equal(t, "connection_error", m.Type)
				require.JSONEq(t, fmt.Sprintf(`{"message":%q}`, tt.reason), string(m.Payload))
			}
			requireCloseFrame(t, readUntilError(t, c), tt.code, tt.reason)
			b.requireAllClosed(t)
		})
	}
}

func TestWebsocketInitTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, func(tr *GraphQLWS) { tr.InitTimeout = 50 * time.Millisecond })
	c := dial(t, b.url, nil, transportWS)
	requireCloseFrame(t, readUntilError(t, c), 4408, "Connection initialisation timeout")
	b.requireAllClosed(t)
}

func TestWebsocketSubprotocolNegotiation(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{}, nil)

	tests := []struct {
		offer []string
		want  string
	}{
		{offer: []string{transportWS, legacyWS}, want: transportWS},
		{offer: []string{legacyWS, transportWS}, want: legacyWS},
		{offer: []string{"mqtt", transportWS}, want: transportWS},
		// Nothing agreed: the socket speaks graphql-ws.
		{offer: []string{"mqtt"}, want: ""},
		{offer: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.offer, ",")+"->"+tt.want, func(t *testing.T) {
			t.Parallel()
			c := dial(t, b.url, nil, tt.offer...)
			require.Equal(t, tt.want, c.Subprotocol())
			send(t, c, wsMessage{Type: "connection_init"})
			require.Equal(t, "connection_ack", read(t, c).Type)
			if tt.want != transportWS {
				require.Equal(t, "ka", read(t, c).Type)
			}
		})
	}
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
			c := connect(t, b, transportWS)
			send(t, c, startMessage(transportWS, "1", "subscription { woken }"))
			s := b.stream(t)
			require.Equal(t, 1, b.ws.Open())

			require.NoError(t, tt.close(c))
			requireCanceled(t, s)
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
	b := setup(t, &Websocket{}, func(tr *GraphQLWS) { tr.ReadLimit = 512 })
	c := connect(t, b, transportWS)

	send(t, c, startMessage(transportWS, "1", `subscription { name }`+strings.Repeat(" ", 2048)))

	requireCloseFrame(t, readUntilError(t, c), websocket.CloseMessageTooBig, "")
	b.requireAllClosed(t)
	require.NotEmpty(t, b.reported())
	require.ErrorIs(t, b.reported()[0], websocket.ErrReadLimit)
}

func TestWebsocketUnresponsivePeerIsDisconnected(t *testing.T) {
	t.Parallel()
	// Long enough for connection_init to get through first.
	const interval = 200 * time.Millisecond
	b := setup(t, &Websocket{PingInterval: interval}, nil)
	c := connect(t, b, transportWS)
	pinged := false // the handler runs inside reads, on this goroutine
	c.SetPingHandler(func(string) error {
		pinged = true
		return nil // no pong
	})

	_ = readUntilError(t, c)
	b.requireAllClosed(t)
	require.True(t, pinged)
	require.NotEmpty(t, b.reported())
	require.ErrorIs(t, b.reported()[0], ErrPeerUnresponsive)
}

func TestWebsocketPongsKeepSocketOpen(t *testing.T) {
	t.Parallel()
	// Long enough that a busy -race run answers every ping in time.
	const interval = 300 * time.Millisecond
	b := setup(t, &Websocket{PingInterval: interval}, nil)
	c := connect(t, b, transportWS)

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
	b := setup(t, &Websocket{}, func(tr *GraphQLWS) { tr.KeepAlive = time.Hour })
	clients := []*websocket.Conn{connect(t, b, transportWS), connect(t, b, legacyWS)}
	send(t, clients[0], startMessage(transportWS, "1", "subscription { woken }"))
	s := b.stream(t)
	require.Equal(t, 2, b.ws.Open())

	b.ws.CloseAll(websocket.CloseGoingAway, "server shutting down")

	for _, c := range clients {
		requireCloseFrame(t, readUntilError(t, c), websocket.CloseGoingAway, "server shutting down")
	}
	requireCanceled(t, s)
	b.requireAllClosed(t)
}

func TestWebsocketCloseAllWithoutPeerAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, &Websocket{WriteTimeout: 50 * time.Millisecond}, nil)
	connect(t, b, transportWS) // never reads, so never answers the close

	b.ws.CloseAll(websocket.CloseGoingAway, "")
	b.requireAllClosed(t)
}

// TestWebsocketInitRefused: Init's refusal closes the socket with its code
// and reason (cut to what a close frame holds); graphql-ws clients get a
// connection_error first, saying an apperror's message and otherwise only
// the reason, never the text of an internal failure. Another error closes
// with 4403.
func TestWebsocketInitRefused(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100)
	internal := errors.New("authenticate: pq: connection to 10.0.0.7 refused")

	tests := []struct {
		protocol    string
		err         error
		wantCode    int
		wantReason  string
		wantMessage string // graphql-ws's connection_error
	}{
		{transportWS, &Refusal{Code: 4401, Reason: long, Err: errors.New("bad token")}, 4401, strings.Repeat("é", 61), ""},
		{legacyWS, &Refusal{Code: 4401, Reason: "Unauthorized", Err: apperror.New(apperror.Unauthenticated, "the API key is not valid")}, 4401, "Unauthorized", "the API key is not valid"},
		{legacyWS, &Refusal{Code: 4401, Reason: "Unauthorized", Err: internal}, 4401, "Unauthorized", "Unauthorized"},
		{legacyWS, internal, 4403, "Forbidden", "Forbidden"},
		{transportWS, errors.New("bad token"), 4403, "Forbidden", ""},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(tt.protocol, tt.wantCode, i), func(t *testing.T) {
			t.Parallel()
			b := setup(t, &Websocket{}, func(tr *GraphQLWS) {
				tr.Init = func(ctx context.Context, payload map[string]any) (context.Context, error) {
					require.Equal(t, "x", payload["authorization"])
					return ctx, tt.err
				}
			})
			c := dial(t, b.url, nil, tt.protocol)
			send(t, c, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"authorization":"x"}`)})
			if tt.protocol == legacyWS {
				m := read(t, c)
				require.Equal(t, "connection_error", m.Type)
				require.JSONEq(t, fmt.Sprintf(`{"message":%q}`, tt.wantMessage), string(m.Payload))
			}
			requireCloseFrame(t, readUntilError(t, c), tt.wantCode, tt.wantReason)
			b.requireAllClosed(t)
		})
	}
}

// TestWebsocketInitContextEnds: when the context Init returned ends, the
// socket closes, with the code and reason of a *Refusal cause (a revoked
// credential, rights gone down); its subscriptions end.
func TestWebsocketInitContextEnds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cause      error
		code       int
		wantReason string
	}{
		{&Refusal{Code: 4401, Reason: "Unauthorized: the credential was revoked", Err: errors.New("revoked")}, 4401, "Unauthorized: the credential was revoked"},
		{&Refusal{Code: 4403, Reason: "Forbidden: your role changed; reconnect", Err: errors.New("demoted")}, 4403, "Forbidden: your role changed; reconnect"},
		{errors.New("done"), websocket.CloseNormalClosure, "terminated"},
	} {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			t.Parallel()
			cancels := make(chan context.CancelCauseFunc, 1)
			b := setup(t, &Websocket{}, func(tr *GraphQLWS) {
				tr.Init = func(ctx context.Context, _ map[string]any) (context.Context, error) {
					ctx, cancel := context.WithCancelCause(ctx)
					cancels <- cancel
					return ctx, nil
				}
			})
			c := connect(t, b, transportWS)
			send(t, c, startMessage(transportWS, "1", "subscription { woken }"))
			s := b.stream(t)

			(<-cancels)(tt.cause)
			requireCloseFrame(t, readUntilError(t, c), tt.code, tt.wantReason)
			requireCanceled(t, s)
			b.requireAllClosed(t)
		})
	}
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

			d := websocket.Dialer{Subprotocols: []string{transportWS}, HandshakeTimeout: testWait}
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
		conn, err := ws.accept(w, r, nil)
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
					if i%10 == 0 {
						// Spread the writes over several ping intervals,
						// so pings surely go out between them however
						// fast the machine.
						time.Sleep(2 * time.Millisecond)
					}
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

// TestWebsocketGoroutines is not parallel: it counts every goroutine in the
// process, so other tests must not be running. A socket costs one goroutine
// (its reader), a woken subscription none, a subscription read the usual way
// one; all are gone when the sockets end, however they end.
func TestWebsocketGoroutines(t *testing.T) {
	// The clients read only at the end, so they would not answer pings.
	b := setup(t, &Websocket{PingInterval: time.Hour}, nil)
	before := settledGoroutines()

	const n = 12
	clients := make([]*websocket.Conn, n)
	for i := range clients {
		protocol := transportWS
		if i%2 == 1 {
			protocol = legacyWS
		}
		clients[i] = connect(t, b, protocol)
		send(t, clients[i], startMessage(protocol, "1", "subscription { woken }"))
		b.stream(t)
	}
	require.Equal(t, n, settledGoroutines()-before, "one goroutine per socket")
	for _, c := range clients {
		// Control frames are answered without a goroutine left waiting.
		require.NoError(t, c.WriteControl(websocket.PongMessage, nil, time.Now().Add(testWait)))
		require.NoError(t, c.WriteControl(websocket.PingMessage, nil, time.Now().Add(testWait)))
	}
	require.Equal(t, n, settledGoroutines()-before, "still one goroutine per socket")
	for i, c := range clients {
		protocol := transportWS
		if i%2 == 1 {
			protocol = legacyWS
		}
		send(t, c, startMessage(protocol, "2", "subscription { name }"))
		b.stream(t)
	}
	require.Equal(t, 2*n, settledGoroutines()-before, "and one per subscription read the usual way")

	for i, c := range clients {
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
// per idle graphql-transport-ws socket, without and with one live woken
// subscription (as generationUpdated is). The clients run in a child
// process so only the server is measured:
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

	for range 4 { // stacks shrink by half at each GC
		runtime.GC()
	}
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

	d := websocket.Dialer{Subprotocols: []string{transportWS}, ReadBufferSize: 256, WriteBufferSize: 256}
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
			require.NoError(t, c.WriteJSON(startMessage(transportWS, "1", "subscription { woken }")))
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the benchmark closes stdin
	for _, c := range conns {
		_ = c.Close()
	}
}
