package consoledb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// ErrAuditWriterClosed refuses a row given to an AuditWriter after its Close.
var ErrAuditWriterClosed = errors.New("audit writer closed")

// Defaults of AuditWriter's zero fields.
const (
	DefaultAuditBatch        = 500
	DefaultAuditQueue        = 4096
	DefaultAuditWriteTimeout = 10 * time.Second
)

// AuditWriter appends audit rows with group commit: one run goroutine takes
// every row waiting in its queue (up to MaxBatch) and writes them in one
// INSERT, one transaction, one turn on the chain's lock and one flush of
// the WAL, where a transaction per row pays all of them per row (a durable
// cluster then writes some 2 600 rows/s). Each caller of AddAudit waits
// until its own row is committed and gets its own result, so an access is
// still granted only once its row is stored.
type AuditWriter struct {
	// DB is the database written to.
	DB *DB
	// MaxBatch bounds the rows of one INSERT (DefaultAuditBatch when zero).
	MaxBatch int
	// QueueSize bounds the rows waiting (DefaultAuditQueue when zero): a
	// caller beyond it waits for room, or for its context.
	QueueSize int
	// WriteTimeout bounds one INSERT (DefaultAuditWriteTimeout when zero).
	WriteTimeout time.Duration
	// Log gets the batches refused; nil means slog.Default().
	Log *slog.Logger

	queue  chan auditRequest
	mu     sync.RWMutex
	closed bool
	done   chan struct{}
}

// auditRequest is one caller's row and where its result goes.
type auditRequest struct {
	row    auditRow
	result chan error
}

// Initialize starts the run goroutine.
func (w *AuditWriter) Initialize() error {
	if w.DB == nil {
		return errors.New("audit writer: no database")
	}
	if w.MaxBatch <= 0 {
		w.MaxBatch = DefaultAuditBatch
	}
	if w.QueueSize <= 0 {
		w.QueueSize = DefaultAuditQueue
	}
	if w.WriteTimeout <= 0 {
		w.WriteTimeout = DefaultAuditWriteTimeout
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	w.queue = make(chan auditRequest, w.QueueSize)
	w.done = make(chan struct{})
	go w.run()
	return nil
}

// Close refuses new rows, writes those already queued (their callers get
// their results) and returns once the last one is written.
func (w *AuditWriter) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
}

// AddAudit appends e to the audit log and returns once it is committed
// (nil) or could not be. An error after ctx ended leaves the row's fate
// open: it may still be written, but the caller must not count on it.
func (w *AuditWriter) AddAudit(ctx context.Context, e store.AuditEntry) error {
	row, err := prepareAudit(e)
	if err != nil {
		return err
	}
	req := auditRequest{row: row, result: make(chan error, 1)}
	if err := w.enqueue(ctx, req); err != nil {
		return fmt.Errorf("add audit %s: %w", e.Action, err)
	}
	select {
	case err := <-req.result:
		if err != nil {
			return fmt.Errorf("add audit %s: %w", e.Action, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("add audit %s: waiting for the commit: %w", e.Action, ctx.Err())
	}
}

// enqueue puts req in the queue, waiting for room while ctx allows. The
// read lock keeps Close from closing the queue under a sender.
func (w *AuditWriter) enqueue(ctx context.Context, req auditRequest) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrAuditWriterClosed
	}
	select {
	case w.queue <- req:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit queue full: %w", ctx.Err())
	}
}

func (w *AuditWriter) run() {
	defer close(w.done)
	batch := make([]auditRequest, 0, w.MaxBatch)
	for req := range w.queue {
		batch = append(batch[:0], req)
		// Whatever else waits goes in the same transaction.
	fill:
		for len(batch) < w.MaxBatch {
			select {
			case r, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.write(batch)
	}
}

// write inserts batch in one statement and gives each caller its result.
// When PostgreSQL refuses a row's data, each row is tried alone, so that
// one bad row does not cost the others theirs; any other failure (the
// database unreachable, the timeout) is every row's, not retried row by
// row, which would hold the queue for a timeout per row.
func (w *AuditWriter) write(batch []auditRequest) {
	rows := make([]auditRow, len(batch))
	for i, r := range batch {
		rows[i] = r.row
	}
	err := w.insert(rows)
	if err == nil || len(batch) == 1 || !refusedData(err) {
		for _, r := range batch {
			r.result <- err
		}
		return
	}
	w.Log.Warn("audit batch refused; writing its rows one by one", "rows", len(batch), "error", err)
	for i, r := range batch {
		r.result <- w.insert(rows[i : i+1])
	}
}

// refusedData reports whether err is PostgreSQL refusing a value (SQLSTATE
// class 22, data exception, or 23, integrity constraint violation).
func refusedData(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}

func (w *AuditWriter) insert(rows []auditRow) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.WriteTimeout)
	defer cancel()
	return insertAudit(ctx, w.DB, rows)
}
