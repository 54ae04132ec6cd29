package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/metrics"
	"github.com/koe-voice/koe/internal/wake"
)

// The GraphQL websocket subprotocols.
const (
	// transportWS is the graphql-ws library's protocol.
	transportWS = "graphql-transport-ws"
	// legacyWS is subscriptions-transport-ws's, as Apollo still ships it; a
	// client that names no protocol gets it too.
	legacyWS = "graphql-ws"
)

// Close codes of graphql-transport-ws, used for both protocols.
const (
	closeBadMessage   = 4400
	closeUnauthorized = 4401
	closeForbidden    = 4403
	closeInitTimeout  = 4408
	closeDuplicateID  = 4409
	closeTooMany      = 4429
)

const (
	defaultReadLimit   = 1 << 20
	defaultInitTimeout = 10 * time.Second
)

// GraphQLWS serves GraphQL over websockets, in graphql-transport-ws and in
// the legacy graphql-ws protocol. It holds no goroutine in the HTTP handler:
// after the upgrade one goroutine per socket reads it, and each operation
// runs on a goroutine of its own that ends when the operation has started.
// A subscription whose resolver takes the wake function (package wake) then
// costs no goroutine while it waits for events: each event is sent by one of
// the transport's answerers. Other subscriptions keep one that waits on
// their channel.
type GraphQLWS struct {
	// Sockets upgrades requests and holds the open sockets.
	Sockets *Websocket
	// Init authenticates a socket from its connection_init payload and
	// returns the context its operations run in, which must end when the
	// socket's ends. Ending it early closes the socket: with the code and
	// reason of its cause when that is a *Refusal, else 1000. An error
	// refuses the socket: a *Refusal says with which close code.
	Init func(ctx context.Context, payload map[string]any) (context.Context, error)
	// Start authorizes each operation before it is read, on the
	// operation's goroutine, and returns the context it runs in (the
	// caller's current rights). An error ends the operation with that
	// error; a *Refusal also closes the socket with its code and reason.
	Start func(ctx context.Context) (context.Context, error)
	// InFlight says, for the context Init returned, how many operations
	// the socket may have in flight at once (started and not ended, live
	// subscriptions included) and how many of those may be queries or
	// mutations; 0 is no limit. One more ends at once with RATE_LIMITED,
	// and the socket goes on.
	InFlight func(ctx context.Context) (operations, queries int)
	// InitTimeout is how long a socket may take to send connection_init
	// (default 10s); then it is closed with 4408.
	InitTimeout time.Duration
	// KeepAlive is how often graphql-ws sockets get a "ka" message (0: never).
	KeepAlive time.Duration
	// ReadLimit bounds a message from the client (default 1 MiB); a longer
	// one closes the socket with 1009.
	ReadLimit int64
	// ErrorFunc hears why sockets failed (nil: nobody does); a peer's
	// normal close is no failure.
	ErrorFunc func(ctx context.Context, err error)

	answerers answerers
}

// answerers deliver the events of woken subscriptions. They live as long
// as the process: a goroutine started for each event would begin with a
// small stack and no credit with the garbage collector, so during a
// collection it first has to help mark and can wait behind others doing so
// (p99 delivery at 5,000 events/s over 10,000 sockets: 100–200 ms that way,
// ~10 ms with these). A socket whose writes block holds up one answerer for
// at most Websocket.WriteTimeout.
type answerers struct {
	once sync.Once
	work chan *operation
}

const (
	// answerersPerCore idle goroutines cost a few KB of stack each.
	answerersPerCore = 4
	// answerQueue events may wait for an answerer; a burst beyond it gets
	// goroutines of its own.
	answerQueue = 1024
)

// hand queues o for the answerers, or gives it a goroutine when the queue
// is full.
func (a *answerers) hand(o *operation) {
	a.once.Do(func() {
		a.work = make(chan *operation, answerQueue)
		for range answerersPerCore * runtime.GOMAXPROCS(0) {
			go func() {
				for o := range a.work {
					o.answer()
				}
			}()
		}
	})
	select {
	case a.work <- o:
	default:
		go o.answer()
	}
}

// Refusal closes a socket with Code and Reason: as an Init or Start error,
// or as the cause with which the context Init returned ends. Err is what
// the client is told (graphql-ws's connection_error, an operation's error):
// its message when it is an *apperror.Error, else Reason.
type Refusal struct {
	Code   int
	Reason string
	Err    error
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

var _ graphql.Transport = (*GraphQLWS)(nil)

// Supports reports whether r asks for a websocket.
func (t *GraphQLWS) Supports(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// Do upgrades r and returns; the socket lives on in a goroutine of its own.
func (t *GraphQLWS) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	c, err := t.Sockets.accept(w, r, []string{transportWS, legacyWS})
	if err != nil {
		t.report(r.Context(), err)
		return
	}
	limit := t.ReadLimit
	if limit == 0 {
		limit = defaultReadLimit
	}
	c.ws.SetReadLimit(limit)

	// The request's context ends when this handler returns; its values
	// (the request id, the caller) stay with the socket.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
	s := &session{t: t, c: c, exec: exec, ctx: ctx, cancel: cancel, ops: map[string]*operation{}}
	s.words = transportWords
	if c.ws.Subprotocol() != transportWS {
		s.words = legacyWords
	}
	timeout := t.InitTimeout
	if timeout == 0 {
		timeout = defaultInitTimeout
	}
	s.mu.Lock()
	s.timer = time.AfterFunc(timeout, s.initTimedOut)
	s.mu.Unlock()
	go s.serve()
}

func (t *GraphQLWS) report(ctx context.Context, err error) {
	if t.ErrorFunc != nil {
		t.ErrorFunc(ctx, err)
	}
}

// words are the message types of one protocol.
type words struct {
	legacy            bool // graphql-ws: errors go as connection_error before the close
	start, stop, data string
	badMessage        int // the close code for a message that breaks the protocol
}

var (
	transportWords = words{start: "subscribe", stop: "complete", data: "next", badMessage: closeBadMessage}
	legacyWords    = words{legacy: true, start: "start", stop: "stop", data: "data", badMessage: websocket.CloseProtocolError}
)

// message is a message of either protocol.
type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// outgoing is a message the server sends; Payload is encoded in place.
type outgoing struct {
	ID      string `json:"id,omitempty"`
	Type    string `json:"type"`
	Payload any    `json:"payload,omitempty"`
}

// session is one socket's protocol state.
type session struct {
	t     *GraphQLWS
	c     *wsConn
	exec  graphql.GraphExecutor
	words words

	// ctx is the socket's; after connection_init it is what Init returned.
	// Only the reading goroutine changes it, before any operation starts.
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	acked   bool
	closing bool
	ops     map[string]*operation
	timer   *time.Timer // the init timeout, then graphql-ws keep-alives; nil when neither is due
	// maxOps and maxQueries bound the operations in flight (0: no bound),
	// queries those of them that are queries or mutations.
	maxOps, maxQueries, queries int
}

// serve reads the socket until it ends. It waits for the peer on a shallow
// stack (wsConn.waitReadable) and reads each message on a goroutine that
// ends with it, so an idle socket's goroutine keeps the smallest stack the
// runtime gives: reading, decoding and starting operations never grow it.
func (s *session) serve() {
	defer s.end()
	more := make(chan bool)
	for {
		s.c.waitReadable()
		go func() { more <- s.readOne() }()
		if !<-more {
			return
		}
	}
}

// readOne reads one message and acts on it; false means the socket is done.
func (s *session) readOne() bool {
	if s.c.takeControlFrame() {
		return true
	}
	var m message
	err := s.c.readJSON(&m)
	switch {
	case s.isClosing():
		// Our close frame is out: read on until the peer answers it (or
		// wsConn gives up), so the socket does not end in a TCP reset
		// that could drop the frame.
		return err == nil || errors.Is(err, errNotJSON) || errors.Is(err, errNotUTF8)
	case errors.Is(err, errNotJSON):
		s.refuseMessage("Invalid message received")
	case errors.Is(err, errNotUTF8):
		s.refuse(websocket.CloseInvalidFramePayloadData, "Invalid UTF-8 in a text message")
	case err != nil:
		if !errors.Is(err, errPeerClosed) && !errors.Is(err, net.ErrClosed) {
			s.t.report(s.ctx, err)
		}
		return false
	default:
		s.handle(m)
	}
	return true
}

func (s *session) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// handle acts on one message.
func (s *session) handle(m message) {
	switch {
	case m.Type == "connection_init":
		s.init(m.Payload)
	case m.Type == s.words.start:
		s.start(m)
	case m.Type == s.words.stop:
		s.stop(m.ID)
	case m.Type == "ping" && !s.words.legacy:
		s.send(outgoing{Type: "pong", Payload: m.Payload})
	case m.Type == "pong" && !s.words.legacy:
	case m.Type == "connection_terminate" && s.words.legacy:
		s.close(websocket.CloseNormalClosure, "terminated")
	default:
		s.refuseMessage(truncateUTF8("Unexpected message type "+m.Type, maxCloseReason))
	}
}

// init authenticates the socket; nothing else is read meanwhile.
func (s *session) init(raw json.RawMessage) {
	s.mu.Lock()
	again := s.acked
	s.acked = true
	s.mu.Unlock()
	if again {
		s.close(closeTooMany, "Too many initialisation requests")
		return
	}
	var payload map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &payload) != nil {
		s.refuseMessage("The connection_init payload must be an object")
		return
	}

	ctx, err := s.ctx, error(nil)
	if s.t.Init != nil {
		ctx, err = s.t.Init(s.ctx, payload)
	}
	if err != nil {
		code, reason := closeForbidden, "Forbidden"
		if r := (*Refusal)(nil); errors.As(err, &r) {
			code, reason = r.Code, r.Reason
		}
		if s.words.legacy {
			// Only what Koe means clients to read: never the text of an
			// internal failure.
			message := reason
			if e, ok := apperror.As(err); ok {
				message = e.MessageIn(auth.Locale(s.ctx))
			}
			s.send(outgoing{Type: "connection_error", Payload: gqlerror.Error{Message: message}})
		}
		s.close(code, reason)
		return
	}
	s.ctx = ctx
	context.AfterFunc(ctx, s.ended)
	if s.t.InFlight != nil {
		ops, queries := s.t.InFlight(ctx)
		s.mu.Lock()
		s.maxOps, s.maxQueries = ops, queries
		s.mu.Unlock()
	}

	s.send(outgoing{Type: "connection_ack"})
	if s.words.legacy {
		s.send(outgoing{Type: "ka"})
	}
	s.mu.Lock()
	s.stopTimer()
	if s.words.legacy && s.t.KeepAlive > 0 && !s.closing {
		s.timer = time.AfterFunc(s.t.KeepAlive, s.keepAlive)
	}
	s.mu.Unlock()
}

// initTimedOut closes a socket that did not send connection_init in time.
func (s *session) initTimedOut() {
	s.mu.Lock()
	acked := s.acked
	s.mu.Unlock()
	if !acked {
		s.close(closeInitTimeout, "Connection initialisation timeout")
	}
}

// stopTimer stops the timer and lets it go (most sockets never need
// another); s.mu must be held.
func (s *session) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// keepAlive sends graphql-ws's "ka" and schedules the next one.
func (s *session) keepAlive() {
	s.send(outgoing{Type: "ka"})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Reset(s.t.KeepAlive)
	}
}

// ended closes the socket when its context ends before the socket does:
// the caller's rights changed (a *Refusal says how to close), or Init's
// context ended.
func (s *session) ended() {
	if r := (*Refusal)(nil); errors.As(context.Cause(s.ctx), &r) {
		s.close(r.Code, r.Reason)
		return
	}
	s.close(websocket.CloseNormalClosure, "terminated")
}

// start begins the operation m asks for.
func (s *session) start(m message) {
	s.mu.Lock()
	acked, dup := s.acked, s.ops[m.ID] != nil
	full := s.maxOps > 0 && len(s.ops) >= s.maxOps
	s.mu.Unlock()
	switch {
	case !acked:
		s.close(closeUnauthorized, "Unauthorized")
		return
	case m.ID == "":
		s.refuseMessage("The " + s.words.start + " message needs an id")
		return
	case dup:
		s.close(closeDuplicateID, truncateUTF8("Subscriber for "+m.ID+" already exists", maxCloseReason))
		return
	case full:
		// Refused here, before a goroutine is started for it: however
		// fast a client sends, a socket holds at most maxOps.
		s.send(outgoing{ID: m.ID, Type: "error", Payload: s.exec.DispatchError(s.ctx, gqlerror.List{
			gqlerror.WrapIfUnwrapped(tooManyInFlight(s.maxOps, "operations")),
		}).Errors})
		return
	}

	ctx, cancel := context.WithCancel(s.ctx)
	op := &operation{s: s, id: m.ID, cancel: cancel}
	s.mu.Lock()
	s.ops[m.ID] = op
	s.mu.Unlock()
	go op.run(ctx, m.Payload, graphql.Now())
}

// tooManyInFlight is the RATE_LIMITED error of an operation over a
// socket's bound of what in flight.
func tooManyInFlight(n int, what string) *apperror.Error {
	return &apperror.Error{Code: apperror.RateLimited, RetryAfter: time.Second,
		Message: fmt.Sprintf("at most %d %s may be in flight on one socket; wait for one to end", n, what)}
}

// stop ends operation id at the client's request, with no complete message.
func (s *session) stop(id string) {
	s.mu.Lock()
	op := s.ops[id]
	delete(s.ops, id)
	s.mu.Unlock()
	if op != nil {
		op.stop()
	}
}

// send writes m, reporting a failure other than a closed socket.
func (s *session) send(m outgoing) {
	err := s.c.WriteJSON(m)
	if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, websocket.ErrCloseSent) {
		s.t.report(s.ctx, err)
	}
}

// refuseMessage closes the socket over a message that breaks the protocol;
// graphql-ws clients get reason as a connection_error first.
func (s *session) refuseMessage(reason string) {
	s.refuse(s.words.badMessage, reason)
}

// refuse closes the socket with code and reason; graphql-ws clients get
// reason as a connection_error first.
func (s *session) refuse(code int, reason string) {
	if s.words.legacy {
		s.send(outgoing{Type: "connection_error", Payload: gqlerror.Error{Message: reason}})
	}
	s.close(code, reason)
}

// close sends a close frame and ends every operation; the socket itself is
// closed when the peer answers or the answer is late (wsConn.WriteClose).
func (s *session) close(code int, reason string) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.closing = true
	s.stopTimer()
	s.mu.Unlock()
	s.cancel(nil)
	_ = s.c.WriteClose(code, reason)
}

// end runs when reading has stopped: the socket is done.
func (s *session) end() {
	s.mu.Lock()
	s.closing = true
	s.stopTimer()
	s.mu.Unlock()
	s.cancel(nil)
	_ = s.c.Close()
}

// operation is one subscription (or query or mutation) of a socket.
type operation struct {
	s      *session
	id     string
	cancel context.CancelFunc

	mu      sync.Mutex
	next    graphql.ResponseHandler // nil until the operation has started
	ctx     context.Context
	hook    *wake.Hook
	owed    int  // wakes not yet answered: each is one receive that will not wait
	running bool // a goroutine is answering wakes
	done    bool
	stopped bool // by the client: send nothing more
	live    bool // a subscription, counted in metrics.Subscriptions
	query   bool // a query or mutation, counted in session.queries
}

// run starts the operation; a subscription whose resolver took the wake
// function then goes on in answer, other operations here.
func (o *operation) run(ctx context.Context, payload json.RawMessage, read time.Time) {
	ctx = graphql.StartOperationTrace(ctx)
	if o.s.t.Start != nil {
		var err error
		if ctx, err = o.s.t.Start(ctx); err != nil {
			o.fail(ctx, gqlerror.List{gqlerror.WrapIfUnwrapped(err)})
			if r := (*Refusal)(nil); errors.As(err, &r) {
				o.s.close(r.Code, r.Reason)
			}
			return
		}
	}
	params := &graphql.RawParams{ReadTime: graphql.TraceTiming{Start: read, End: graphql.Now()}}
	// Numbers stay json.Number, as gqlgen's HTTP transports decode them.
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		o.fail(ctx, gqlerror.List{{Message: "the " + o.s.words.start + " payload is not a GraphQL request"}})
		return
	}
	rc, errs := o.s.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		o.fail(graphql.WithOperationContext(ctx, rc), errs)
		return
	}
	ctx = graphql.WithOperationContext(ctx, rc)
	if rc.Operation.Operation == ast.Subscription {
		o.mu.Lock()
		o.live = true
		o.mu.Unlock()
		metrics.Subscriptions.Inc()
	} else if !o.countQuery() {
		o.fail(ctx, gqlerror.List{gqlerror.WrapIfUnwrapped(tooManyInFlight(o.s.maxQueries, "queries and mutations"))})
		return
	}

	ctx, hook := wake.With(ctx, o.wake)
	var next graphql.ResponseHandler
	func() {
		defer o.recover(ctx, rc)
		next, ctx = o.s.exec.DispatchOperation(ctx, rc)
	}()
	if next == nil {
		o.finish()
		return
	}

	woken := hook.Taken()
	o.mu.Lock()
	o.next, o.ctx, o.hook = next, ctx, hook
	start := woken && o.owed > 0 && !o.running
	o.running = o.running || start
	o.mu.Unlock()
	if woken {
		if start {
			o.answer()
		}
		return
	}
	defer o.recover(ctx, rc)
	for {
		resp := next(ctx)
		if resp == nil {
			break
		}
		o.respond(resp)
	}
	o.finish()
}

// countQuery counts the operation among its socket's queries in flight;
// false when they are at their bound already.
func (o *operation) countQuery() bool {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if o.s.maxQueries > 0 && o.s.queries >= o.s.maxQueries {
		return false
	}
	o.s.queries++
	o.mu.Lock()
	o.query = true
	o.mu.Unlock()
	return true
}

// wake is the resolver's signal that its channel has something to receive.
func (o *operation) wake() {
	o.mu.Lock()
	o.owed++
	start := o.next != nil && !o.running && !o.done
	o.running = o.running || start
	o.mu.Unlock()
	if start {
		o.s.t.answerers.hand(o)
	}
}

// answer receives and sends once per wake until none is owed, telling the
// resolver after each receive.
func (o *operation) answer() {
	defer o.recover(o.ctx, graphql.GetOperationContext(o.ctx))
	for {
		o.mu.Lock()
		if o.owed == 0 || o.done {
			o.running = false
			o.mu.Unlock()
			return
		}
		o.owed--
		o.mu.Unlock()

		resp := o.next(o.ctx)
		o.hook.Received()
		if resp == nil {
			o.finish()
			return
		}
		o.respond(resp)
	}
}

// recover turns a panic while executing into an error message that ends
// the operation.
func (o *operation) recover(ctx context.Context, rc *graphql.OperationContext) {
	v := recover()
	if v == nil {
		return
	}
	o.fail(ctx, gqlerror.List{gqlerror.WrapIfUnwrapped(rc.Recover(ctx, v))})
}

// respond sends one result unless the operation was stopped.
func (o *operation) respond(resp *graphql.Response) {
	o.mu.Lock()
	stopped := o.stopped
	o.mu.Unlock()
	if !stopped {
		o.s.send(outgoing{ID: o.id, Type: o.s.words.data, Payload: resp})
	}
}

// fail ends the operation with an error message (which needs no complete),
// errs shown as the error presenter decides.
func (o *operation) fail(ctx context.Context, errs gqlerror.List) {
	if o.end() {
		o.s.send(outgoing{ID: o.id, Type: "error", Payload: o.s.exec.DispatchError(ctx, errs).Errors})
	}
}

// finish ends the operation with a complete message.
func (o *operation) finish() {
	if o.end() {
		o.s.send(outgoing{ID: o.id, Type: "complete"})
	}
}

// end marks the operation done and forgets it; it reports whether the
// client still waits to hear how it ended.
func (o *operation) end() bool {
	o.mu.Lock()
	first := !o.done
	o.done = true
	tell := first && !o.stopped
	live, query := first && o.live, first && o.query
	o.mu.Unlock()
	if !first {
		return false
	}
	if live {
		metrics.Subscriptions.Dec()
	}
	o.s.mu.Lock()
	if o.s.ops[o.id] == o {
		delete(o.s.ops, o.id)
	}
	if query {
		o.s.queries--
	}
	o.s.mu.Unlock()
	o.cancel()
	return tell && o.s.ctx.Err() == nil
}

// stop ends the operation with nothing more sent: its resolver sees its
// context end, and the operation then ends as it would have anyway.
func (o *operation) stop() {
	o.mu.Lock()
	o.stopped = true
	o.mu.Unlock()
	o.cancel()
}
