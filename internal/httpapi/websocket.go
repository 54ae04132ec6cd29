package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

const (
	defaultWebsocketWriteTimeout = 10 * time.Second
	defaultWebsocketPingInterval = 25 * time.Second

	// websocketBufferSize is small on purpose: a subscription socket is idle
	// almost all the time, and a bigger message is still read and written
	// whole, just in more than one read or writev call. (gorilla adopts a
	// hijacked reader only when it is bigger than 256 bytes.)
	websocketBufferSize = 512

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

// ErrPeerUnresponsive ends a socket whose peer let the pong deadline pass
// (see Websocket.PingInterval). It reaches GraphQLWS.ErrorFunc wrapped,
// which can treat it as routine with errors.Is.
var ErrPeerUnresponsive = errors.New("websocket peer stopped answering pings")

var (
	// errPeerClosed is a close by the peer with 1000, 1001 or no status:
	// a normal end, reported to nobody.
	errPeerClosed = errors.New("websocket closed by the peer")
	// errNotJSON is a message that does not decode.
	errNotJSON = errors.New("websocket message is not JSON")
	// errNotUTF8 is a text message that is not UTF-8, which RFC 6455
	// answers with 1007. (Echoed, as a ping's payload is, it would make
	// the server send invalid text too.)
	errNotUTF8 = errors.New("websocket text message is not UTF-8")
)

// writeBufferPool is shared by every Upgrader: gorilla wants one pool per
// write buffer size, and a socket only borrows a buffer while writing.
var writeBufferPool sync.Pool

// jsonWriterPool recycles the buffer (and its encoder) a message is encoded
// into or read into, so a subscription event costs no buffer allocation.
var jsonWriterPool = sync.Pool{New: func() any {
	jw := &jsonWriter{}
	jw.enc = json.NewEncoder(&jw.buf)
	return jw
}}

type jsonWriter struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func (jw *jsonWriter) release() {
	if jw.buf.Cap() <= maxPooledJSONBuffer {
		jw.buf.Reset()
		jsonWriterPool.Put(jw)
	}
}

// Websocket is the socket layer under GraphQLWS: gorilla/websocket with
// write deadlines, a read limit, pooled buffers, ping frames, and the
// registry CloseAll and Open work on. Its zero value is usable; set the
// fields before the first socket opens and do not copy it afterwards.
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
		// ReadBufferSize stays 0: gorilla then reads through the buffered
		// reader Hijack returns, which is readerHijacker's own.
		WriteBufferSize: websocketBufferSize,
		WriteBufferPool: &writeBufferPool,
		CheckOrigin:     w.CheckOrigin,
		// Subprotocols stays nil: accept negotiates per call and passes
		// the choice in the response header.
		//
		// Compression stays off: subscription events are small, and
		// deflate would cost CPU and flate state on every message.
		EnableCompression: false,
	}
	w.conns = make(map[*wsConn]struct{})
}

// accept upgrades r to a websocket speaking one of protocols (the client's
// first choice among them; "" when the client offers none of them). When the
// upgrade fails gorilla has answered the request already (403 for a refused
// Origin, 400 for a bad handshake).
func (w *Websocket) accept(rw http.ResponseWriter, r *http.Request, protocols []string) (*wsConn, error) {
	w.once.Do(w.setup)

	header := http.Header{}
	if p := selectSubprotocol(websocket.Subprotocols(r), protocols); p != "" {
		header.Set("Sec-WebSocket-Protocol", p)
	}
	hj := &readerHijacker{ResponseWriter: rw}
	ws, err := w.upgrader.Upgrade(hj, r, header)
	if err != nil {
		return nil, fmt.Errorf("websocket upgrade: %w", err)
	}

	c := &wsConn{
		owner:        w,
		ws:           ws,
		br:           hj.br,
		raw:          hj.raw,
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

	// Registered last: from here CloseAll may close it.
	w.mu.Lock()
	w.conns[c] = struct{}{}
	w.mu.Unlock()
	return c, nil
}

// readerHijacker hands gorilla a buffered reader of ours for the socket, so
// wsConn can tell whether a message is already buffered before it waits for
// the peer (waitReadable). net/http's own 4 KB reader and writer are not
// kept: gorilla refuses an upgrade with client data buffered, and writes
// through a pooled buffer of its own.
type readerHijacker struct {
	http.ResponseWriter
	br  *bufio.Reader
	raw syscall.RawConn
}

func (h *readerHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return conn, brw, err // gorilla refuses buffered client data
	}
	if sc, ok := conn.(syscall.Conn); ok {
		h.raw, _ = sc.SyscallConn()
	}
	h.br = bufio.NewReaderSize(conn, websocketBufferSize)
	return conn, bufio.NewReadWriter(h.br, bufio.NewWriterSize(conn, 16)), nil
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

// wsConn is one accepted socket. One goroutine reads it; several write it,
// and the ping and close timers add more.
type wsConn struct {
	owner        *Websocket
	ws           *websocket.Conn
	br           *bufio.Reader   // what gorilla reads the socket through
	raw          syscall.RawConn // nil: waitReadable does not wait
	writeTimeout time.Duration
	pingInterval time.Duration

	// wmu makes data frames one at a time, as gorilla requires. Control
	// frames (ping, close) skip it: gorilla serialises them against data
	// frames itself, and WriteMessage sends a whole message as one frame,
	// so a ping or close never lands inside a message.
	wmu sync.Mutex

	mu         sync.Mutex
	closed     bool
	closeSent  bool
	pingTimer  *time.Timer
	closeTimer *time.Timer
}

// waitReadable returns when the peer has sent something not yet read (or
// the socket failed, or the pong deadline passed: the read that follows
// reports it). An idle socket's reader waits here rather than deep inside
// gorilla, so its stack stays at the runtime's minimum.
func (c *wsConn) waitReadable() {
	if c.raw == nil || c.br.Buffered() > 0 {
		return
	}
	_ = c.raw.Read(peerHasSent)
}

// takeControlFrame answers a ping or takes a pong waiting at the head of
// the buffer, and reports whether it did. gorilla would handle these
// itself, then wait inside NextReader for the next data message, deep in
// its stack; taking them here lets the reader go back to waitReadable.
// Anything else (data, close, a frame gorilla must refuse) is left to
// gorilla, as is a read error.
func (c *wsConn) takeControlFrame() bool {
	head, err := c.br.Peek(2)
	if err != nil {
		return false
	}
	const fin, masked = 0x80, 0x80
	kind := int(head[0] &^ fin)
	n := int(head[1] &^ masked)
	if head[0]&fin == 0 || kind != websocket.PingMessage && kind != websocket.PongMessage ||
		head[1]&masked == 0 || n > 125 {
		return false
	}
	frame, err := c.br.Peek(2 + 4 + n)
	if err != nil {
		return false
	}
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = frame[6+i] ^ frame[2+i%4]
	}
	_, _ = c.br.Discard(len(frame))
	if kind == websocket.PongMessage {
		if c.pingInterval > 0 {
			_ = c.onPong("")
		}
		return true
	}
	// As gorilla's own ping handler: a failed answer shows on the next
	// read or write.
	_ = c.ws.WriteControl(websocket.PongMessage, payload, time.Now().Add(c.writeTimeout))
	return true
}

// readJSON reads the next message into v. A close by the peer with 1000,
// 1001 or no status is a normal end and becomes errPeerClosed; a missed
// pong deadline becomes ErrPeerUnresponsive; a text message that is not
// UTF-8 becomes errNotUTF8, and any other message that is not JSON (JSON
// is UTF-8) errNotJSON.
func (c *wsConn) readJSON(v any) error {
	kind, r, err := c.ws.NextReader()
	if err != nil {
		if websocket.IsCloseError(err,
			websocket.CloseNormalClosure,
			websocket.CloseGoingAway,
			websocket.CloseNoStatusReceived,
		) {
			return errPeerClosed
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("%w: %w", ErrPeerUnresponsive, err)
		}
		return err
	}
	jw := jsonWriterPool.Get().(*jsonWriter)
	defer jw.release()
	if _, err := jw.buf.ReadFrom(r); err != nil {
		return err
	}
	if !utf8.Valid(jw.buf.Bytes()) {
		if kind == websocket.TextMessage {
			return errNotUTF8
		}
		return fmt.Errorf("%w: not UTF-8", errNotJSON)
	}
	if err := json.Unmarshal(jw.buf.Bytes(), v); err != nil {
		return fmt.Errorf("%w: %w", errNotJSON, err)
	}
	return nil
}

// WriteJSON sends v as one text message within WriteTimeout.
func (c *wsConn) WriteJSON(v any) error {
	jw := jsonWriterPool.Get().(*jsonWriter)
	defer jw.release()
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
// later calls do nothing. The socket is closed when the peer answers (the
// read loop ends and calls Close), or after WriteTimeout, whichever comes
// first.
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

	c.owner.forget(c)
	return c.ws.Close()
}

// onPong keeps the socket open for two more ping intervals.
func (c *wsConn) onPong(string) error {
	return c.ws.SetReadDeadline(time.Now().Add(2 * c.pingInterval))
}

// ping runs on a timer rather than a goroutine of its own, so an idle
// socket costs no stack for it.
func (c *wsConn) ping() {
	err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.writeTimeout))

	c.mu.Lock()
	defer c.mu.Unlock()
	// After a failed write the socket is done for; the pong deadline will
	// end the read loop.
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
