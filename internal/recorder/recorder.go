package recorder

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/httpserv"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/recorder/capacity"
	"github.com/sharpeyes/sharpeyes/internal/recorder/capture"
	"github.com/sharpeyes/sharpeyes/internal/recorder/export"
	"github.com/sharpeyes/sharpeyes/internal/recorder/repair"
	"github.com/sharpeyes/sharpeyes/internal/recorder/replay"
	"github.com/sharpeyes/sharpeyes/internal/recorder/scheduler"
	"github.com/sharpeyes/sharpeyes/internal/recorder/sweeper"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vod"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vodtranscode"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/svc"
	"github.com/sharpeyes/sharpeyes/internal/svcdb"
)

// Run records until ctx is cancelled. The recorder reads the schema the
// sipserver owns (it waits up to database.connect_timeout for it to be
// current and refuses to start on an older one) and writes its own tables:
// at start it repairs the segments it was writing when it last stopped,
// then the scheduler hands it the channels to record (leases shared with
// the other nodes), the sweeper deletes expired segments and the capacity
// guard watches the storage. Its HTTP listener also serves the recordings
// as HLS VOD (/vod/) and the internal export API (/internal/v1/exports),
// whose jobs it runs.
func Run(ctx context.Context, cfg *config.Recorder, log *slog.Logger) error {
	st, err := svcdb.Open(ctx, "recorder", cfg.Database, svcdb.Reader, log)
	if err != nil {
		return err
	}
	defer st.Close()
	rc := cfg.Recorder
	node := rc.NodeName()
	store, err := objstore.New(ctx, storeConfig(cfg.Storage))
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer store.Close()
	objects := nodeNamed(store, node)
	loc, err := rc.Location()
	if err != nil {
		return fmt.Errorf("recorder.time_zone: %w", err)
	}
	rt, err := svc.StartHTTP("recorder", cfg.HTTP, log, map[string]httpserv.ReadyFunc{"database": st.Ping})
	if err != nil {
		return err
	}
	defer rt.Close()

	db := index{DB: recordingdb.New(st), gaps: newGapCounter(rt.Registry), log: log}
	// Before any channel starts: what the last run left open is cut after
	// its last complete fragment, committed and indexed.
	restarted := time.Now()
	down, err := repair.Node(ctx, objects, db, node, restarted, log)
	if err != nil {
		log.Error("repair incomplete: the segments named above stay open and are repaired at the next start", "error", err)
	}

	defaults := recordingdb.Defaults{
		StandardDays: config.RetentionDays(rc.Retention), KeyDays: config.RetentionDays(rc.RetentionKey),
	}
	if limit := rc.RetentionLimit; limit > 0 {
		log.Warn("recorder.retention_limit: EVERY SEGMENT IS DELETED this long after its end, whatever its retention days say",
			"retention_limit", limit, "retention_days", defaults.StandardDays, "retention_key_days", defaults.KeyDays)
	}
	rec := &channels{
		log: log,
		template: capture.Channel{
			Node: node, FeedURL: rc.MediagwURL,
			Tokens: &capture.Tokens{
				Minter: &mediaapi.Client{BaseURL: rc.MediagwURL, Token: string(cfg.ServiceToken), Timeout: capture.DefaultDBTimeout},
				Node:   node,
			},
			Store: objects, Index: db, States: states{catalogview.New(st)},
			SegmentDuration: rc.SegmentDuration.Std(), FragmentDuration: rc.FragmentDuration.Std(),
			Metrics: capture.NewMetrics(rt.Registry), Log: log,
		},
		running: map[string]*capture.Channel{},
		down:    map[string]time.Time{},
	}
	for _, ch := range down {
		rec.down[ch] = restarted
	}
	url := "http://" + advertised(rt.HTTP.Addr(), node)
	publicURL := strings.TrimSuffix(rc.PublicURL, "/")
	if publicURL == "" {
		publicURL = url
	}
	retention := recordingdb.Retention{
		StandardDays: defaults.StandardDays, KeyDays: defaults.KeyDays, Limit: rc.RetentionLimit.Std(),
	}
	// The node's row exists before the capacity guard's first reading,
	// which is kept on it for the console (a new node's first reading was
	// lost until the scheduler's first round wrote the row).
	beatCtx, cancel := context.WithTimeout(ctx, capture.DefaultDBTimeout)
	err = db.Heartbeat(beatCtx, recordingdb.Beat{
		Node: node, URL: url, PublicURL: publicURL, Retention: retention, Started: true,
	})
	cancel()
	if err != nil {
		log.Warn("recorder heartbeat failed", "node", node, "error", err)
	}
	guard := &capacity.Guard{
		Node: node, DB: db.DB, Store: objects, Reporter: capacity.Notifier{DB: db.DB},
		WarnDays: float64(rc.CapacityWarnDays), RetentionLimit: rc.RetentionLimit.Std(), OverwriteOldest: rc.OverwriteOldest,
		Metrics: capacity.NewMetrics(rt.Registry), Log: log,
	}
	if err := guard.Initialize(); err != nil {
		return err
	}
	defer guard.Close()
	sw := &sweeper.Sweeper{
		DB: db.DB, Objects: objects, Interval: rc.SweepInterval.Std(), Batch: rc.SweepBatch,
		RetentionLimit: rc.RetentionLimit.Std(), Metrics: sweeper.NewMetrics(rt.Registry), Log: log,
	}
	if rc.OverwriteOldest {
		sw.Reclaimer = guard
	}
	if err := sw.Initialize(); err != nil {
		return err
	}
	defer sw.Close()
	sched := &scheduler.Scheduler{
		Node: node, URL: url, DB: publicBeats{index: db, publicURL: publicURL}, Parent: rec,
		LeaseTTL: rc.LeaseTTL.Std(), MaxChannels: rc.MaxChannels, Defaults: defaults,
		RetentionLimit: rc.RetentionLimit.Std(), Location: loc, Log: log,
	}
	if err := sched.Initialize(); err != nil {
		return err
	}
	// Closed first: every channel's open segment is closed and committed.
	defer sched.Close()

	tc := transcoder(cfg.Playback, vodtranscode.NewMetrics(rt.Registry), log)
	if tc != nil {
		// Stops the transcodes in flight when the node stops; requests
		// that still come before the listener closes get 503.
		defer tc.Close()
	}
	player, err := playback(cfg, node, objects, db.DB, tc, log)
	if err != nil {
		return err
	}
	defer player.Close()
	rt.Mux.Handle(vod.Prefix, player)

	exports := &export.Runner{
		DB: exportdb.New(st), Store: objects, Node: node,
		MaxRunning: cfg.Exports.MaxRunning, TTL: cfg.Exports.TTL.Std(), FFmpeg: cfg.Exports.FFmpeg,
		// Twice the lease: a node whose heartbeat is only late keeps its
		// exports, one that is gone loses them within about 30 s.
		DeadAfter: 2 * rc.LeaseTTL.Std(),
		Sip:       &sipapi.Client{BaseURL: rc.SipserverURL, Token: string(cfg.ServiceToken), Timeout: capture.DefaultDBTimeout},
		Tokens:    &mediaapi.Client{BaseURL: rc.MediagwURL, Token: string(cfg.ServiceToken), Timeout: capture.DefaultDBTimeout},
		RTSPURL:   rc.RTSPURL, Token: string(cfg.ServiceToken),
		Metrics: export.NewMetrics(rt.Registry), Log: log,
	}
	// Requeues the jobs this node was running when it stopped.
	if err := exports.Initialize(); err != nil {
		return err
	}
	defer exports.Close()
	exports.Register(rt.Mux)

	// Superior platforms' playback of our recordings (sipserver starts them).
	replays := &replay.Replayer{DB: db.DB, Store: objects, Token: string(cfg.ServiceToken), Log: log}
	if err := replays.Initialize(); err != nil {
		return err
	}
	defer replays.Close()
	replays.Register(rt.Mux)

	rt.Started()
	if cfg.ServiceToken == "" {
		log.Error("service_token is not set: mediagw gives no play token and nothing can be recorded; " +
			"playback is not audited (refused) and the export API is off")
	}
	log.Info("recording", "node", node, "storage", objects.Name(), "where", where(cfg.Storage),
		"retention", rc.Retention, "retention_key", rc.RetentionKey, "retention_limit", rc.RetentionLimit,
		"segment", rc.SegmentDuration, "public_url", publicURL,
		"http", rt.HTTP.Addr().String(), "endpoints", "/healthz /readyz /metrics /vod/ /internal/v1/exports /internal/v1/replays")
	<-ctx.Done()
	return nil
}

// playback builds the HLS VOD server. Without play_token_secret it
// answers every request 503 vod_unconfigured, and the start log says so.
func playback(cfg *config.Recorder, node string, objects objstore.Store, db *recordingdb.DB,
	tc *vodtranscode.Transcoder, log *slog.Logger,
) (*vod.Server, error) {
	s := &vod.Server{
		Node: node, Store: objects, Index: db, Log: log,
		Auditor: &vod.AuditClient{URL: cfg.Recorder.ConsoleURL, Token: string(cfg.ServiceToken)},
	}
	if cfg.PlayTokenSecret == "" {
		log.Error("play_token_secret is not set: playback (/vod/) answers 503 vod_unconfigured; " +
			"give the recorder the secret mediagw and the console share (SHARPEYES_PLAY_TOKEN_SECRET)")
	} else {
		signer, err := playtoken.NewSigner([]byte(cfg.PlayTokenSecret))
		if err != nil {
			return nil, fmt.Errorf("play_token_secret: %w", err)
		}
		s.Signer = signer
	}
	if tc != nil {
		s.Transcoder = tc
	}
	if err := s.Initialize(); err != nil {
		return nil, err
	}
	return s, nil
}

// transcoder starts the H.264 transcodes of H.265 recordings, or returns
// nil when they are off or ffmpeg is missing: playback of H.264 and
// browsers that decode H.265 do not need them, so the node runs without
// (video=h264 playlists of H.265 answer 503 transcode_unavailable).
func transcoder(c config.Playback, m *vodtranscode.Metrics, log *slog.Logger) *vodtranscode.Transcoder {
	if !c.Transcode {
		log.Info("playback.transcode is off: browsers that cannot decode H.265 cannot play H.265 recordings")
		return nil
	}
	tc := &vodtranscode.Transcoder{FFmpeg: c.FFmpeg, MaxRunning: c.MaxTranscodes, Metrics: m, Log: log}
	if err := tc.Initialize(); err != nil {
		log.Error("H.265 recordings will not play in browsers that cannot decode H.265: install ffmpeg "+
			"or set playback.ffmpeg", "error", err)
		return nil
	}
	return tc
}

// publicBeats is the scheduler's index: its heartbeats carry the node's
// public URL too.
type publicBeats struct {
	index
	publicURL string
}

// Heartbeat implements scheduler.DB.
func (p publicBeats) Heartbeat(ctx context.Context, b recordingdb.Beat) error {
	b.PublicURL = p.publicURL
	return p.index.Heartbeat(ctx, b)
}

// stagger is how much longer a channel's first segment of a session is: a
// fraction of segment, the same for a channel every time (its ID's hash),
// spread evenly over the channels, so that channels started together cut
// their segments at different seconds.
func stagger(channelID string, segment time.Duration) time.Duration {
	if segment <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(channelID))
	// FNV's high bits barely move between IDs that differ in the last
	// digits: mixed (splitmix64's finalizer) they spread evenly.
	x := h.Sum64()
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return time.Duration(float64(segment) * float64(x>>11) / (1 << 53))
}

// storeConfig maps the storage section to the object store's configuration.
func storeConfig(s config.Storage) objstore.Config {
	return objstore.Config{
		Kind: s.Kind, Dir: s.Dir, SpoolDir: s.SpoolDir, Endpoint: s.Endpoint, Bucket: s.Bucket, Prefix: s.Prefix,
		AccessKey: s.AccessKey, SecretKey: string(s.SecretKey), Region: s.Region, TLS: s.TLS,
		CapacityBytes: int64(s.Capacity), CreateBucket: s.CreateBucket,
	}
}

// where says where the recordings go, for the start line.
func where(s config.Storage) string {
	if s.Kind == config.StorageS3 {
		return fmt.Sprintf("s3 %s bucket %s/%s (spool %s)", s.Endpoint, s.Bucket, s.Prefix, s.SpoolDir)
	}
	return s.Dir
}

// advertised is the address other nodes and operators see in
// recorder_nodes: the listen address, with the node name for a wildcard host.
func advertised(addr net.Addr, node string) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = node
	}
	return net.JoinHostPort(host, port)
}

// states reads a channel's effective state (channel_state: the channel and
// its device online) for the gap cause.
type states struct{ view *catalogview.View }

// ChannelOnline implements capture.StateReader; a channel the catalog does
// not know is offline.
func (s states) ChannelOnline(ctx context.Context, id string) (bool, error) {
	ch, err := s.view.FindChannel(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return ch.Online, err
}

// channels is the scheduler's parent: it runs one capture.Channel per
// channel the scheduler hands this node.
type channels struct {
	log      *slog.Logger
	template capture.Channel

	mu      sync.Mutex
	running map[string]*capture.Channel
	// down holds the channels this node was recording when it last
	// stopped, and when it restarted: their recorder_down gap, written up
	// to the restart by the repair, goes on until they are recorded again.
	down map[string]time.Time
}

// Start implements scheduler.Parent.
func (c *channels) Start(channelID string, lease scheduler.Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.running[channelID]; ok {
		return
	}
	ch := &capture.Channel{
		ChannelID: channelID, Node: c.template.Node, FeedURL: c.template.FeedURL, Tokens: c.template.Tokens,
		Store: c.template.Store, Index: c.template.Index, States: c.template.States,
		RetentionDays: lease.RetentionDays, SegmentDuration: c.template.SegmentDuration,
		Stagger:          stagger(channelID, c.template.SegmentDuration),
		FragmentDuration: c.template.FragmentDuration, Metrics: c.template.Metrics, Log: c.template.Log,
	}
	if lease.PreviousNode != "" && !lease.PreviousEnd.IsZero() {
		ch.DownSince = lease.PreviousEnd
	} else if at, ok := c.down[channelID]; ok {
		ch.DownSince = at
	}
	delete(c.down, channelID)
	if err := ch.Initialize(); err != nil {
		c.log.Error("channel not recorded", "channel_id", channelID, "error", err)
		return
	}
	c.running[channelID] = ch
	c.log.Info("recording channel", "node", c.template.Node, "channel_id", channelID,
		"retention_days", lease.RetentionDays, "previous_node", lease.PreviousNode)
}

// Stop implements scheduler.Parent: it returns once the channel's last
// segment is closed and committed.
func (c *channels) Stop(channelID string, reason scheduler.StopReason) {
	c.mu.Lock()
	ch := c.running[channelID]
	delete(c.running, channelID)
	c.mu.Unlock()
	if ch == nil {
		return
	}
	ch.Close()
	c.log.Info("channel no longer recorded", "channel_id", channelID, "reason", reason)
}
