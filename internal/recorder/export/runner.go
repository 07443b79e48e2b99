package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
)

// Defaults of the Runner.
const (
	DefaultMaxRunning    = 2
	DefaultTTL           = 24 * time.Hour
	DefaultPollInterval  = 5 * time.Second
	DefaultSweepInterval = time.Minute
	// DefaultDBTimeout bounds one database statement of the runner.
	DefaultDBTimeout = 10 * time.Second
	// progressEvery is the most often a job's progress is written.
	progressEvery = time.Second
)

// keyPrefix is where export files live in the object store.
const keyPrefix = "exports/"

// Key is the object key of job id's file as node writes it. The node is in
// the name so that two runs of one job never share a key in a shared
// store: a node cut off while another took its job over (RequeueDead)
// removes its own partial file, never the other's finished one.
func Key(id, node string) string { return keyPrefix + id + "." + keyNode(node) + ".mp4" }

// keyNode is node as it goes into a key: as it is when it has only the
// characters of a key element ([A-Za-z0-9_-]), else a hash of it.
func keyNode(node string) string {
	for i := range len(node) {
		c := node[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			sum := sha256.Sum256([]byte(node))
			return "n" + hex.EncodeToString(sum[:8])
		}
	}
	return node
}

// Minter mints play tokens: mediagw's internal API (*mediaapi.Client).
type Minter interface {
	PlayToken(ctx context.Context, req mediaapi.PlayTokenRequest) (mediaapi.PlayToken, error)
}

// Runner claims export jobs from the database and runs them, at most
// MaxRunning at once, and deletes their files TTL after they finish. One
// per recorder node.
type Runner struct {
	// DB is the jobs' database.
	DB *exportdb.DB
	// Store is the node's object store, under its name in the index
	// ("dir://<node>" or "s3://…"): segments are read from it and the
	// files written to it.
	Store objstore.Store
	// Node is this recorder node's name.
	Node string
	// MaxRunning bounds the jobs run at once (default 2).
	MaxRunning int
	// TTL is how long a finished file is kept (default 24 h).
	TTL time.Duration
	// PollInterval is how often the queue is looked at when nothing wakes
	// the runner (default 5 s); a job created through this node's API
	// starts at once.
	PollInterval time.Duration
	// SweepInterval is how often expired files are deleted (default 1 min).
	SweepInterval time.Duration
	// DeadAfter is how long another node may go without a heartbeat
	// (recorder_nodes) before its running jobs are queued again, looked
	// at every PollInterval; 0 never takes another node's jobs. The
	// recorder sets twice its lease TTL: a dead node's exports move about
	// as its channels do.
	DeadAfter time.Duration
	// FFmpeg is the ffmpeg binary for device exports (default "ffmpeg").
	FFmpeg string
	// Sip asks sipserver for download sessions; nil: this node takes no
	// device export.
	Sip *sipapi.Client
	// Tokens mints the play token ffmpeg reads mediagw's stream with.
	Tokens Minter
	// RTSPURL is mediagw's RTSP base URL (rtsp://host:8554).
	RTSPURL string
	// DeviceSpeed is the download speed asked of devices (default 4).
	DeviceSpeed int
	// Token is the service token the internal API requires; empty
	// disables the API (503).
	Token string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Metrics are the runner's Prometheus metrics; nil records none.
	Metrics *Metrics
	// Log receives the jobs' outcomes.
	Log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}
	sweep  chan struct{}

	mu      sync.Mutex
	running map[string]context.CancelFunc
}

// Initialize checks the configuration, requeues the jobs this node was
// running when it stopped and starts the run goroutine.
func (r *Runner) Initialize() error {
	if r.DB == nil || r.Store == nil || r.Node == "" {
		return fmt.Errorf("export runner: DB, Store and Node are required")
	}
	if r.MaxRunning <= 0 {
		r.MaxRunning = DefaultMaxRunning
	}
	if r.TTL <= 0 {
		r.TTL = DefaultTTL
	}
	if r.PollInterval <= 0 {
		r.PollInterval = DefaultPollInterval
	}
	if r.SweepInterval <= 0 {
		r.SweepInterval = DefaultSweepInterval
	}
	if r.FFmpeg == "" {
		r.FFmpeg = "ffmpeg"
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	r.wake = make(chan struct{}, 1)
	r.sweep = make(chan struct{}, 1)
	r.running = map[string]context.CancelFunc{}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if err := r.requeue(); err != nil {
		r.cancel()
		return err
	}
	r.wg.Go(r.run)
	return nil
}

// Close stops the running jobs and the run goroutine, waits for them, and
// puts the jobs back in the queue for any node (after a crash instead,
// this node requeues them at its next start).
func (r *Runner) Close() {
	r.cancel()
	r.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultDBTimeout)
	defer cancel()
	ids, err := r.DB.Requeue(ctx, r.Node)
	if err != nil {
		r.Log.Warn("requeue running exports: this node requeues them at its next start", "error", err)
		return
	}
	if len(ids) > 0 {
		r.Log.Info("exports requeued: the node stops", "ids", ids)
	}
}

// Wake makes the runner look at the queue now.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Handler returns the internal API's routes (/internal/v1/exports…) behind
// the service-token check, on a mux of their own (Register adds them to
// another); call it after Initialize.
func (r *Runner) Handler() http.Handler {
	mux := http.NewServeMux()
	r.Register(mux)
	return mux
}
