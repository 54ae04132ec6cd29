package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

const (
	defaultWebsocketWriteTimeout = 10 * time.Second
	defaultWebsocketPingInterval = 25 * time.Second

	// websocketBufferSize is small on purpose: a subscription socket is idle
	// almost all the time, and a bigger message is still read and written
	// whole, just in more than one read or writev call.
	websocketBufferSize = 1024

	// maxCloseReason is what fits in a close frame after the 2-byte code
	// (control frames carry at most 125 bytes); gorilla refuses to send a
	// longer one, and the peer would then get no close frame at all.
	maxCloseReason = 123

	// closeAllParallelism bounds the close frames CloseAll writes at once:
	// a few stuck peers must not hold up everyone else, yet ten thousand
	// sockets should not mean ten thousand goroutines at shutdown.
	closeAllParallelism = 64

	// maxPooledJSONBuffer keeps one huge message from pinning its buffer in
	// the pool for good.
	maxPooledJSONBuffer = 64 << 10
)

// ErrPeerUnresponsive is returned (wrapped) from a socket's NextReader when
// the peer let a read deadline pass: it missed websocket pongs (PingInterval)
// or graphql-transport-ws pongs (gqlgen's PingPongInterval). gqlgen hands it
// to the transport's ErrorFunc, which can treat it as routine with errors.Is.
var ErrPeerUnresponsive = errors.New("websocket peer stopped answering pings")

// writeBufferPool is shared by every Upgrader: gorilla wants one pool per
// write buffer size, and a socket only borrows a buffer while writing.
var writeBufferPool sync.Pool

// jsonWriterPool recycles the buffer (and its encoder) a message is encoded
// into, so sending a subscription event costs no buffer allocation.
var jsonWriterPool = sync.Pool{New: func() any {
	jw := &jsonWriter{}
	jw.enc = json.NewEncoder(&jw.buf)
	return jw
}}

type jsonWriter struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// Websocket adapts gorilla/websocket to gqlgen's websocket transport
// (transport.Websocket.Implementation). Its zero value is usable; set the
// fields before the first Accept and do not copy it afterwards.
type Websocket struct {
	// CheckOrigin decides whether a browser's Origin may open a socket. Nil
	// allows requests without an Origin header (non-browser clients) and
	// those whose Origin host equals the request Host; a rejected upgrade is
	// answered with HTTP 403.
	CheckOrigin func(r *http.Request) bool

	// WriteTimeout bounds each write (default 10s) so a stuck client cannot
	// hold a goroutine forever. It also bounds the handshake response and how
	// long a socket waits for the peer's answer to our close frame.
	WriteTimeout time.Duration

	// PingInterval is how often websocket-level ping frames are sent
	// (default 25s; negative disables them). A socket whose peer sends no
	// pong within 2×PingInterval is closed. Browsers answer these pings
	// themselves, unlike graphql-transport-ws pings.
	PingInterval time.Duration

	once         sync.Once
	upgrader     websocket.Upgrader
	writeTimeout time.Duration
	pingInterval time.Duration

	mu    sync.Mutex
	conns map[*wsConn]struct{}
}

var _ transport.WebsocketImplementation = (*Websocket)(nil)

func (w *Websocket) setup() {
	w.writeTimeout = w.WriteTimeout
	if w.writeTimeout <= 0 {
		w.writeTimeout = defaultWebsocketWriteTimeout
	}
	w.pingInterval = w.PingInterval
	if w.pingInterval == 0 {
		w.pingInterval = defaultWebsocketPingInterval
	}
	w.upgrader = websocket.Upgrader{
		HandshakeTimeout: w.writeTimeout,
		ReadBufferSize:   websocketBufferSize,
		WriteBufferSize:  websocketBufferSize,
		WriteBufferPool:  &writeBufferPool,
		CheckOrigin:      w.CheckOrigin,
		// Subprotocols stays nil: Accept negotiates per call from gqlgen's
		// options and passes the choice in the response header.
		//
		// Compression stays off: subscription events are small, and
		// deflate would cost CPU and flate state on every message.
		EnableCompression: false,
	}
	w.conns = make(map[*wsConn]struct{})
}

// Accept upgrades r to a websocket speaking one of options.Subprotocols, with
// options.ResponseHeader in the handshake response, and returns a connection
// for gqlgen's transport to drive. When the upgrade fails gorilla has
// answered the request already (403 for a refused Origin, 400 for a bad
// handshake).
func (w *Websocket) Accept(
	rw http.ResponseWriter,
	r *http.Request,
	options transport.WebsocketAcceptOptions,
) (transport.WebsocketConn, error) {
	w.once.Do(w.setup)

	header := options.ResponseHeader.Clone()
	if header == nil {
		header = http.Header{}
	}
	if p := selectSubprotocol(websocket.Subprotocols(r), options.Subprotocols); p != "" {
		header.Set("Sec-WebSocket-Protocol", p)
	}

	hj := &bufferReleasingHijacker{ResponseWriter: rw}
	ws, err := w.upgrader.Upgrade(hj, r, header)
	if err != nil {
		return nil, fmt.Errorf("websocket upgrade: %w", err)
	}
	hj.release()

	c := &wsConn{
		owner:        w,
		ws:           ws,
		writeTimeout: w.writeTimeout,
		pingInterval: w.pingInterval,
	}
	if c.pingInterval > 0 {
		ws.SetPongHandler(c.onPong)
		_ = c.onPong("")
		c.mu.Lock()
		c.pingTimer = time.AfterFunc(c.pingInterval, c.ping)
		c.mu.Unlock()
	}

	// The request context ends when gqlgen's handler returns. gqlgen closes
	// the socket on every path but one (a connection_init payload that is
	// not a JSON object), and that one would leave the connection open with
	// nobody reading it.
	c.stopWatch = context.AfterFunc(r.Context(), c.handlerDone)

	// Registered last: from here CloseAll may close it.
	w.mu.Lock()
	w.conns[c] = struct{}{}
	w.mu.Unlock()
	return c, nil
}

// bufferReleasingHijacker lets Accept drop the buffers net/http keeps for a
// hijacked connection (a 4 KB reader and a 4 KB writer) once gorilla has
// written the handshake: gqlgen runs the whole socket inside the HTTP
// handler, so net/http's per-connection state stays reachable for the
// socket's life, and gorilla uses buffers of its own (ReadBufferSize and the
// pool). Hijack hands the bufio.ReadWriter to the caller for good, so
// shrinking it is ours to do.
type bufferReleasingHijacker struct {
	http.ResponseWriter
	brw *bufio.ReadWriter
}

func (h *bufferReleasingHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.brw = brw
	return conn, brw, err
}

func (h *bufferReleasingHijacker) release() {
	if h.brw == nil {
		return
	}
	// Gorilla refuses an upgrade with buffered client data, so nothing is
	// lost; tiny buffers rather than zero values keep both usable.
	*h.brw.Reader = *bufio.NewReaderSize(nil, 16)
	*h.brw.Writer = *bufio.NewWriterSize(nil, 16)
}

// selectSubprotocol picks the first protocol the client lists that the
// server supports: the client knows best which it speaks, and gorilla's own
// rule (server order first) would give legacy graphql-ws to clients that
// offer both.
func selectSubprotocol(client, server []string) string {
	for _, p := range client {
		if slices.Contains(server, p) {
			return p
		}
	}
	return ""
}

// CloseAll sends a close frame with code (one valid on the wire, e.g. 1001
// going away on shutdown) and reason to every open socket, and returns
// within WriteTimeout: a socket whose frame cannot be written by then is
// closed without one. A socket then closes when its peer answers, or after
// another WriteTimeout if it does not; Open reports how many remain.
func (w *Websocket) CloseAll(code int, reason string) {
	w.once.Do(w.setup)
	// One deadline for all, so stuck peers cannot stretch the whole
	// shutdown to a WriteTimeout per batch of them.
	deadline := time.Now().Add(w.writeTimeout)

	w.mu.Lock()
	conns := make([]*wsConn, 0, len(w.conns))
	for c := range w.conns {
		conns = append(conns, c)
	}
	w.mu.Unlock()

	sem := make(chan struct{}, closeAllParallelism)
	var wg sync.WaitGroup
	for _, c := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_ = c.writeClose(code, reason, deadline)
		})
	}
	wg.Wait()
}

// Open returns how many sockets are open, for metrics and shutdown.
func (w *Websocket) Open() int {
	w.once.Do(w.setup)

	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.conns)
}

func (w *Websocket) forget(c *wsConn) {
	w.mu.Lock()
	delete(w.conns, c)
	w.mu.Unlock()
}

// wsConn is one accepted socket. gqlgen reads it from one goroutine and
// writes it from several; pings and the close timers add more.
type wsConn struct {
	owner        *Websocket
	ws           *websocket.Conn
	writeTimeout time.Duration
	pingInterval time.Duration
	stopWatch    func() bool

	// wmu makes data frames one at a time, as gorilla requires. Control
	// frames (ping, close) skip it: gorilla serialises them against data
	// frames itself, and WriteMessage sends a whole message as one frame,
	// so a ping or close never lands inside a message.
	wmu sync.Mutex

	// dmu guards the read deadline, which gqlgen (PingPongInterval) and our
	// pong handler both want to set: the earlier of the two applies.
	dmu               sync.Mutex
	transportDeadline time.Time
	pongDeadline      time.Time

	mu         sync.Mutex
	closed     bool
	closeSent  bool
	pingTimer  *time.Timer
	closeTimer *time.Timer
}

var (
	_ transport.WebsocketConn          = (*wsConn)(nil)
	_ transport.WebsocketReadLimiter   = (*wsConn)(nil)
	_ transport.WebsocketReadDeadliner = (*wsConn)(nil)
)

// NextReader returns the next message; a close by the peer with 1000, 1001
// or no status is a normal end and becomes transport.ErrWebsocketClosed, so
// gqlgen does not report it as an error.
func (c *wsConn) NextReader() (int, io.Reader, error) {
	mt, r, err := c.ws.NextReader()
	if err == nil {
		return mt, r, nil
	}
	if websocket.IsCloseError(err,
		websocket.CloseNormalClosure,
		websocket.CloseGoingAway,
		websocket.CloseNoStatusReceived,
	) {
		return mt, nil, transport.ErrWebsocketClosed
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return mt, nil, fmt.Errorf("%w: %w", ErrPeerUnresponsive, err)
	}
	return mt, nil, err
}

// WriteJSON sends v as one text message within WriteTimeout.
func (c *wsConn) WriteJSON(v any) error {
	jw := jsonWriterPool.Get().(*jsonWriter)
	defer func() {
		if jw.buf.Cap() <= maxPooledJSONBuffer {
			jw.buf.Reset()
			jsonWriterPool.Put(jw)
		}
	}()
	// Encode before taking the lock: a slow encode should not hold up
	// other writers.
	if err := jw.enc.Encode(v); err != nil {
		return fmt.Errorf("encode websocket message: %w", err)
	}
	// Encoder ends with a newline that json.Marshal (and so the reference
	// adapter) does not send.
	msg := bytes.TrimSuffix(jw.buf.Bytes(), []byte{'\n'})

	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, msg)
}

// WriteClose sends a close frame with code and reason (cut to what a frame
// can carry) within WriteTimeout, without waiting for the peer's answer;
// later calls do nothing. The socket is closed when gqlgen calls Close, when
// the peer answers (gqlgen's read loop ends and calls Close), or after
// WriteTimeout, whichever comes first.
func (c *wsConn) WriteClose(code int, reason string) error {
	return c.writeClose(code, reason, time.Now().Add(c.writeTimeout))
}

func (c *wsConn) writeClose(code int, reason string, deadline time.Time) error {
	c.mu.Lock()
	if c.closed || c.closeSent {
		c.mu.Unlock()
		return nil
	}
	c.closeSent = true
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.mu.Unlock()

	msg := websocket.FormatCloseMessage(code, truncateUTF8(reason, maxCloseReason))
	err := c.ws.WriteControl(websocket.CloseMessage, msg, deadline)
	if errors.Is(err, websocket.ErrCloseSent) {
		// gorilla already sent one (read limit exceeded, or echoing the
		// peer's close): the peer has its answer.
		err = nil
	}
	if err != nil {
		// No frame went out, so there is no answer to wait for.
		_ = c.Close()
		return fmt.Errorf("write websocket close: %w", err)
	}
	c.closeLater()
	return nil
}

// Close closes the connection at once and stops its pings.
func (c *wsConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.closeTimer != nil {
		c.closeTimer.Stop()
	}
	c.mu.Unlock()

	c.stopWatch()
	c.owner.forget(c)
	return c.ws.Close()
}

// Subprotocol returns the negotiated subprotocol, "" if none.
func (c *wsConn) Subprotocol() string {
	return c.ws.Subprotocol()
}

// SetReadLimit makes a message longer than limit close the socket with 1009.
func (c *wsConn) SetReadLimit(limit int64) {
	c.ws.SetReadLimit(limit)
}

// SetReadDeadline is gqlgen's pong deadline (PingPongInterval); the zero
// time clears it but leaves the websocket pong deadline in force.
func (c *wsConn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.transportDeadline = t
	return c.applyReadDeadlineLocked()
}

func (c *wsConn) onPong(string) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.pongDeadline = time.Now().Add(2 * c.pingInterval)
	return c.applyReadDeadlineLocked()
}

func (c *wsConn) applyReadDeadlineLocked() error {
	d := c.transportDeadline
	if d.IsZero() || (!c.pongDeadline.IsZero() && c.pongDeadline.Before(d)) {
		d = c.pongDeadline
	}
	return c.ws.SetReadDeadline(d)
}

// ping runs on a timer rather than a goroutine of its own, so an idle
// socket costs no stack for it.
func (c *wsConn) ping() {
	err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.writeTimeout))

	c.mu.Lock()
	defer c.mu.Unlock()
	// After a failed write the socket is done for; the pong deadline will
	// end gqlgen's read loop.
	if err == nil && !c.closed && !c.closeSent {
		c.pingTimer.Reset(c.pingInterval)
	}
}

// closeLater closes the socket after WriteTimeout unless something closes
// it sooner.
func (c *wsConn) closeLater() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.closeTimer != nil {
		return
	}
	c.closeTimer = time.AfterFunc(c.writeTimeout, func() { _ = c.Close() })
}

// handlerDone runs when gqlgen's handler has returned. gqlgen's own close
// normally follows within moments; a socket still open after WriteTimeout
// was abandoned and is closed with 1011.
func (c *wsConn) handlerDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.closeTimer != nil {
		return
	}
	c.closeTimer = time.AfterFunc(c.writeTimeout, func() {
		_ = c.WriteClose(websocket.CloseInternalServerErr, "session ended")
		_ = c.Close()
	})
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune, since a
// close reason must be valid UTF-8.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
