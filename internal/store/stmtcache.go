package store

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
)

// SQLite prepares (parses and plans) every statement it runs, and modernc's
// driver keeps none: on a page of generations a quarter of the one
// connection's time went to parsing the same two SELECTs again. The
// connections Koe opens keep their last statementCacheSize SELECTs prepared,
// by text, as pgx does on PostgreSQL: bun writes values into the text, so
// what repeats is a caller's own queries (their key, their first page) and
// the catalog's.

// sqliteConnector opens modernc SQLite connections that cache statements.
type sqliteConnector struct {
	dsn    string
	driver driver.Driver
}

// newSQLiteConnector returns a connector for dsn through modernc's driver,
// registered as "sqlite" (sql.Open only looks it up).
func newSQLiteConnector(dsn string) (*sqliteConnector, error) {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return &sqliteConnector{dsn: dsn, driver: db.Driver()}, nil
}

func (c *sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{sqliteConn: conn.(sqliteConn), byText: map[string]*list.Element{}, order: list.New()}, nil
}

func (c *sqliteConnector) Driver() driver.Driver { return c.driver }

// sqliteConn is what modernc's connection does that database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is a modernc connection whose SELECTs run as prepared
// statements kept by text, the most recently used first. database/sql uses
// a connection from one goroutine at a time; the mutex is for a rows' Close
// racing a context's cancellation.
type cachingConn struct {
	sqliteConn
	mu     sync.Mutex
	byText map[string]*list.Element
	order  *list.List // of *cachedStmt
}

// cachedStmt is a prepared statement; busy while rows read from it, and
// closed by the rows when it was evicted meanwhile.
type cachedStmt struct {
	text    string
	stmt    driver.Stmt
	busy    bool
	evicted bool
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if !isSelect(query) {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	s, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		// The same text is being read from already (a query inside the
		// iteration of another): run it unprepared.
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.release(s)
		return nil, err
	}
	return &cachedRows{sqliteRows: rows.(sqliteRows), release: func() { c.release(s) }}, nil
}

// prepared returns query's statement, marked busy, preparing it if needed;
// nil if it is busy.
func (c *cachingConn) prepared(ctx context.Context, query string) (*cachedStmt, error) {
	c.mu.Lock()
	if e, ok := c.byText[query]; ok {
		defer c.mu.Unlock()
		s := e.Value.(*cachedStmt)
		if s.busy {
			return nil, nil
		}
		c.order.MoveToFront(e)
		s.busy = true
		return s, nil
	}
	c.mu.Unlock()
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{text: query, stmt: st, busy: true}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byText[query] = c.order.PushFront(s)
	if c.order.Len() > statementCacheSize {
		old := c.order.Remove(c.order.Back()).(*cachedStmt)
		delete(c.byText, old.text)
		old.evicted = true
		if !old.busy {
			_ = old.stmt.Close()
		}
	}
	return s, nil
}

// release marks s free again, closing it if it was evicted.
func (c *cachingConn) release(s *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.busy = false
	if s.evicted {
		_ = s.stmt.Close()
	}
}

func (c *cachingConn) Close() error {
	c.mu.Lock()
	for e := c.order.Front(); e != nil; e = e.Next() {
		_ = e.Value.(*cachedStmt).stmt.Close()
	}
	c.order.Init()
	clear(c.byText)
	c.mu.Unlock()
	return c.sqliteConn.Close()
}

// isSelect reports whether query is a SELECT: a single statement, whose
// rows are read and then closed.
func isSelect(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

// sqliteRows is what modernc's rows do that database/sql uses.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows reads from a cached statement and frees it when closed.
type cachedRows struct {
	sqliteRows
	release func()
}

func (r *cachedRows) Close() error {
	err := r.sqliteRows.Close()
	r.release()
	return err
}
