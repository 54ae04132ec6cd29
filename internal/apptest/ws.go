package apptest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The GraphQL websocket subprotocols.
const (
	TransportWS = "graphql-transport-ws" // the graphql-ws library's protocol
	LegacyWS    = "graphql-ws"           // subscriptions-transport-ws, as Apollo still ships it
)

// Message is one message of a subscription: a result, an error, or the end.
type Message struct {
	Data   json.RawMessage
	Errors []Error
	// Complete is true on the last message, sent when the server completes.
	Complete bool
}

// Subscription is a live GraphQL subscription over a websocket.
type Subscription struct {
	Conn     *websocket.Conn
	Messages <-chan Message
	// Closed carries the close code when the server closes the socket.
	Closed <-chan int
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Subscribe opens a socket with protocol, authenticates with the client's key
// in connection_init, and starts query. It fails the test if the server does
// not acknowledge the connection.
func (c *Client) Subscribe(protocol, query string, vars map[string]any) *Subscription {
	c.t.Helper()
	u := "ws" + strings.TrimPrefix(c.URL, "http") + "/query"
	d := websocket.Dialer{Subprotocols: []string{protocol}, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(u, http.Header{})
	if err != nil {
		c.t.Fatalf("dial %s: %v (%v)", u, err, resp)
	}
	c.t.Cleanup(func() { _ = conn.Close() })
	if conn.Subprotocol() != protocol {
		c.t.Fatalf("server chose subprotocol %q, want %q", conn.Subprotocol(), protocol)
	}
	init := map[string]any{}
	if c.Key != "" {
		init["Authorization"] = "Bearer " + c.Key
	}
	payload, _ := json.Marshal(init)
	write(c.t, conn, wsMessage{Type: "connection_init", Payload: payload})
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m wsMessage
		if err := conn.ReadJSON(&m); err != nil {
			c.t.Fatalf("waiting for connection_ack: %v", err)
		}
		if m.Type == "connection_ack" {
			break
		}
		if m.Type == "connection_error" {
			c.t.Fatalf("connection_error: %s", m.Payload)
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	start, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	startType := "subscribe"
	if protocol == LegacyWS {
		startType = "start"
	}
	write(c.t, conn, wsMessage{ID: "1", Type: startType, Payload: start})

	messages := make(chan Message, 1024)
	closed := make(chan int, 1)
	go func() {
		defer close(messages)
		for {
			var m wsMessage
			if err := conn.ReadJSON(&m); err != nil {
				code := websocket.CloseAbnormalClosure
				if ce, ok := err.(*websocket.CloseError); ok {
					code = ce.Code
				}
				closed <- code
				return
			}
			switch m.Type {
			case "next", "data":
				var r struct {
					Data   json.RawMessage `json:"data"`
					Errors []Error         `json:"errors"`
				}
				_ = json.Unmarshal(m.Payload, &r)
				messages <- Message{Data: r.Data, Errors: r.Errors}
			case "error":
				var errs []Error
				if json.Unmarshal(m.Payload, &errs) != nil {
					var one Error
					_ = json.Unmarshal(m.Payload, &one)
					errs = []Error{one}
				}
				messages <- Message{Errors: errs}
			case "complete":
				messages <- Message{Complete: true}
			case "ping":
				_ = conn.WriteJSON(wsMessage{Type: "pong"})
			}
		}
	}()
	return &Subscription{Conn: conn, Messages: messages, Closed: closed}
}

// Next returns the next message, failing the test after timeout.
func (s *Subscription) Next(t testing.TB, timeout time.Duration) Message {
	t.Helper()
	select {
	case m, ok := <-s.Messages:
		if !ok {
			t.Fatalf("subscription closed before the next message")
		}
		return m
	case <-time.After(timeout):
		t.Fatalf("no subscription message within %s", timeout)
	}
	return Message{}
}

func write(t testing.TB, conn *websocket.Conn, m wsMessage) {
	t.Helper()
	if err := conn.WriteJSON(m); err != nil {
		t.Fatalf("websocket write: %v", err)
	}
}
