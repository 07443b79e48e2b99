package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sharpeyes/sharpeyes/internal/pgcluster"
	"github.com/sharpeyes/sharpeyes/internal/recorder/recbench"
)

const (
	serviceToken = "recbench-service-token-0123456789"
	playSecret   = "recbench-play-token-secret-0123456789abcdef"
	sipPassword  = "12345678"
	// Per-stream RTP ports of mediagw: away from make run's 30000-30999
	// and the e2e tests' 50000+.
	rtpPortMin = 21000
	rtpPortMax = 22999
	// mediamtx's shared RTP/RTCP ports (an even port and the next).
	mtxRTPPort = 18000
	// How long a service gets to end after SIGTERM.
	stopGrace = 20 * time.Second
	// The open segment's row moves every 10 s of media: the index shows a
	// window's end only that much later.
	indexLag = 15 * time.Second
)

// usage is a process's figures over the window.
type usage struct {
	Name string `json:"name"`
	// CPU is the share of one core, in percent.
	CPU          float64 `json:"cpu_pct"`
	WrittenBytes int64   `json:"written_bytes"`
	Procs        int     `json:"procs"`
}

// result is one run's figures.
type result struct {
	Mode    string `json:"mode"`
	Streams int    `json:"streams"`
	// SharedUDP: the cameras sent to mediagw's one shared RTP port.
	SharedUDP bool      `json:"shared_udp"`
	At        time.Time `json:"at"`
	Window    float64   `json:"window_s"`
	Load1     [2]float64
	Procs     []usage `json:"procs"`
	// Ours: mediagw + recorder, in percent of one core per stream.
	OursPerStream float64 `json:"ours_cpu_pct_per_stream"`
	// Mediamtx: mediamtx alone, per stream.
	MtxPerStream float64 `json:"mediamtx_cpu_pct_per_stream,omitempty"`
	// Received: what mediagw received (payload bytes written to its
	// streams) and recorder wrote (its own counter and /proc).
	GWBytes        float64 `json:"mediagw_stream_bytes"`
	RecCounted     float64 `json:"recorder_written_bytes"`
	RecRatio       float64 `json:"recorder_written_per_received"`
	RecProcRatio   float64 `json:"recorder_write_bytes_per_received"`
	MtxReceived    float64 `json:"mediamtx_bytes_received,omitempty"`
	MtxRatio       float64 `json:"mediamtx_write_bytes_per_received,omitempty"`
	SenderBytes    int64   `json:"publisher_payload_bytes,omitempty"`
	Lost           float64 `json:"mediagw_lost_packets"`
	ReaderDrops    float64 `json:"mediagw_reader_drops"`
	Gaps           int     `json:"gaps"`
	ShortChannels  int     `json:"channels_short"`
	MinCoverage    float64 `json:"min_coverage_s"`
	MtxReady       int     `json:"mediamtx_ready,omitempty"`
	MtxPackets     float64 `json:"mediamtx_rtp_packets,omitempty"`
	MtxLost        float64 `json:"mediamtx_rtp_lost,omitempty"`
	PublisherFails int64   `json:"publisher_failed,omitempty"`
	PublisherDrops int64   `json:"publisher_dropped,omitempty"`
	NoGap          bool    `json:"no_gap"`
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s N=%d at %s, window %.0f s, load average %.2f → %.2f\n",
		r.Mode, r.Streams, r.At.Format(time.RFC3339), r.Window, r.Load1[0], r.Load1[1])
	for _, p := range r.Procs {
		fmt.Fprintf(w, "  %-10s CPU %6.1f %% of a core  %6.3f %%/stream  written %8.1f MB  (%d procs)\n",
			p.Name, p.CPU, p.CPU/float64(r.Streams), float64(p.WrittenBytes)/1e6, p.Procs)
	}
	fmt.Fprintf(w, "  ours (mediagw+recorder) %.3f %% of a core per stream", r.OursPerStream)
	if r.MtxPerStream > 0 {
		fmt.Fprintf(w, "; mediamtx %.3f %%; ratio %.2f", r.MtxPerStream, r.OursPerStream/r.MtxPerStream)
	}
	fmt.Fprintf(w, "\n  recorder wrote / mediagw received: %.4f (counter), %.4f (/proc write_bytes); received %.1f MB\n",
		r.RecRatio, r.RecProcRatio, r.GWBytes/1e6)
	if r.MtxReceived > 0 {
		fmt.Fprintf(w, "  mediamtx write_bytes / received: %.4f; received %.1f MB; publisher sent %.1f MB payload\n",
			r.MtxRatio, r.MtxReceived/1e6, float64(r.SenderBytes)/1e6)
		fmt.Fprintf(w, "  mediamtx paths ready %d/%d, RTP packets %.0f, lost %.0f; publishers failed %d, packets they dropped %d\n",
			r.MtxReady, r.Streams, r.MtxPackets, r.MtxLost, r.PublisherFails, r.PublisherDrops)
	}
	fmt.Fprintf(w, "  gaps %d, channels short of the window %d (min coverage %.1f s), lost packets %.0f, reader drops %.0f → no gap: %v\n",
		r.Gaps, r.ShortChannels, r.MinCoverage, r.Lost, r.ReaderDrops, r.NoGap)
}

// runOne starts everything for n streams, measures, and stops it all.
func runOne(ctx context.Context, log *slog.Logger, o *options, clip *recbench.Clip, n int) (*result, error) {
	dir := filepath.Join(o.work, fmt.Sprintf("%s-%d", o.mode, n))
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if !o.keep {
			os.RemoveAll(filepath.Join(dir, "recordings"))
			os.RemoveAll(filepath.Join(dir, "mediamtx"))
		}
	}()
	// gbsim sends the shared clip: a link under every channel's name.
	for i := 1; i <= n; i++ {
		link := filepath.Join(o.cache, o.clip.ChannelVideoName(channelID(i)))
		if _, err := os.Lstat(link); err != nil {
			if err := os.Link(filepath.Join(o.cache, o.clip.VideoName()), link); err != nil {
				return nil, fmt.Errorf("clip link: %w", err)
			}
		}
	}

	cluster := &pgcluster.Cluster{Dir: filepath.Join(dir, "pgdata"), Durable: true, Log: log}
	if err := cluster.Ensure(ctx); err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		defer cancel()
		if err := cluster.Stop(sctx); err != nil {
			log.Warn("stop PostgreSQL", "err", err)
		}
	}()
	if err := cluster.CreateDB(ctx, "sharpeyes"); err != nil {
		return nil, err
	}
	dbURL := cluster.URL("sharpeyes")
	pgPID, err := postmasterPID(cluster.Dir)
	if err != nil {
		return nil, err
	}

	tcp, err := freePorts("tcp", 6)
	if err != nil {
		return nil, err
	}
	udp, err := freePorts("udp", 3)
	if err != nil {
		return nil, err
	}
	sipHTTP, gwHTTP, gwRTSP, recHTTP, mtxRTSP, mtxAPI := tcp[0], tcp[1], tcp[2], tcp[3], tcp[4], tcp[5]
	sipPort, gwICE := udp[0], udp[1]
	// Each camera sends to a port of its own, or all to one shared port.
	rtpShared, sharedUDP := "", false
	if o.sharedUDP {
		rtpShared, sharedUDP = fmt.Sprintf("127.0.0.1:%d", udp[2]), true
	}
	cfgs := map[string]string{
		"sipserver": fmt.Sprintf(`log: {level: warn}
database: {url: %q, max_conns: 10}
http: {listen: "127.0.0.1:%d"}
service_token: %q
sip: {listen: "127.0.0.1:%d", password: %q, rate_limit: 100000, rate_burst: 100000}
sessions: {mediagw_url: "http://127.0.0.1:%d", shared_udp: %t}
`, dbURL, sipHTTP, serviceToken, sipPort, sipPassword, gwHTTP, sharedUDP),
		"mediagw": fmt.Sprintf(`log: {level: warn}
http: {listen: "127.0.0.1:%d"}
service_token: %q
play_token_secret: %q
advertise_ip: 127.0.0.1
rtp: {udp_listen: %q, port_min: %d, port_max: %d}
webrtc: {ice_udp_listen: "127.0.0.1:%d", ice_hosts: [127.0.0.1]}
rtsp: {listen: "127.0.0.1:%d"}
on_demand: {sipserver_url: "http://127.0.0.1:%d"}
audit: {console_url: "", fail_closed: false}
`, gwHTTP, serviceToken, playSecret, rtpShared, rtpPortMin, rtpPortMax, gwICE, gwRTSP, sipHTTP),
		"recorder": fmt.Sprintf(`log: {level: warn}
database: {url: %q, max_conns: 10}
http: {listen: "127.0.0.1:%d"}
service_token: %q
recorder: {node: recbench, mediagw_url: "http://127.0.0.1:%d", rtsp_url: "rtsp://127.0.0.1:%d"}
storage: {kind: dir, dir: %q}
`, dbURL, recHTTP, serviceToken, gwHTTP, gwRTSP, filepath.Join(dir, "recordings")),
	}
	var procs []*process
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop(stopGrace)
		}
	}()
	for _, name := range []string{"sipserver", "mediagw", "recorder"} {
		cf := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(cf, []byte(cfgs[name]), 0o644); err != nil {
			return nil, err
		}
		p, err := start(logs, name, filepath.Join(o.bin, name), []string{"-config", cf}, nil)
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
		port := map[string]int{"sipserver": sipHTTP, "mediagw": gwHTTP, "recorder": recHTTP}[name]
		if err := waitReady(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/readyz", port), time.Minute); err != nil {
			return nil, fmt.Errorf("%s: %w (see %s)", name, err, filepath.Join(logs, name+".log"))
		}
	}
	devices, channels := layout(n)
	sim, err := start(logs, "gbsim", filepath.Join(o.bin, "gbsim"), []string{
		"-server", fmt.Sprintf("127.0.0.1:%d", sipPort), "-password", sipPassword, "-local-ip", "127.0.0.1",
		"-devices", strconv.Itoa(devices), "-channels", strconv.Itoa(channels), "-media", "h264",
		"-clip-size", o.clip.Size, "-cache-dir", o.cache, "-register-rate", "200", "-log-level", "warn",
	}, nil)
	if err != nil {
		return nil, err
	}
	procs = append(procs, sim)

	var mtx *process
	var pub *recbench.Publisher
	mtxDir := filepath.Join(dir, "mediamtx")
	if o.mode == "compare" && o.mediamtx != "" {
		cf := filepath.Join(dir, "mediamtx.yml")
		if err := os.WriteFile(cf, []byte(mediamtxConfig(mtxRTSP, mtxAPI, mtxDir, o.mtxTCP)), 0o644); err != nil {
			return nil, err
		}
		if mtx, err = start(logs, "mediamtx", o.mediamtx, []string{cf}, nil); err != nil {
			return nil, err
		}
		procs = append(procs, mtx)
		if err := waitReady(ctx, mtx, fmt.Sprintf("http://127.0.0.1:%d/v3/paths/list", mtxAPI), time.Minute); err != nil {
			return nil, fmt.Errorf("mediamtx: %w", err)
		}
		urls := make([]string, n)
		for i := range urls {
			urls[i] = fmt.Sprintf("rtsp://127.0.0.1:%d/cam%d", mtxRTSP, i+1)
		}
		pub = &recbench.Publisher{Clip: clip, URLs: urls, TCP: o.mtxTCP, Log: log}
		if err := pub.Initialize(); err != nil {
			return nil, err
		}
		defer pub.Close()
	}

	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	log.Info("waiting for every stream to be recorded", "streams", n)
	deadline := time.Now().Add(o.readyWait)
	for {
		var open int
		_ = pool.QueryRow(ctx, `SELECT count(DISTINCT channel_id) FROM recordings WHERE open`).Scan(&open)
		ready := n
		if mtx != nil {
			ready, _ = mtxPaths(ctx, mtxAPI)
		}
		if open >= n && ready >= n {
			break
		}
		for _, p := range procs {
			if ok, err := p.exited(); ok {
				return nil, fmt.Errorf("%s exited (see %s): %w", p.name, logs, err)
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("after %v: %d/%d channels recording, mediamtx %d/%d paths ready (see %s)",
				o.readyWait, open, n, ready, n, logs)
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return nil, err
		}
	}
	log.Info("every stream is recorded; warming up", "warmup", o.warmup)
	if err := sleep(ctx, o.warmup); err != nil {
		return nil, err
	}

	named := map[string]int{
		"mediagw": procs[1].pid(), "recorder": procs[2].pid(), "sipserver": procs[0].pid(),
		"postgres": pgPID, "gbsim": sim.pid(), "recbench": os.Getpid(),
	}
	order := []string{"mediagw", "recorder", "sipserver", "postgres", "gbsim"}
	if mtx != nil {
		named["mediamtx"] = mtx.pid()
		order = append(order, "mediamtx")
	}
	r := &result{Mode: o.mode, Streams: n, SharedUDP: o.sharedUDP}
	before, err := snapshot(ctx, named, gwHTTP, recHTTP, mtxAPI, mtx != nil)
	if err != nil {
		return nil, err
	}
	var sent0 int64
	if pub != nil {
		sent0 = pub.SentBytes()
	}
	t0 := time.Now()
	r.At = t0
	r.Load1[0], _ = recbench.LoadAverage()
	log.Info("measuring", "window", o.window)
	if err := sleep(ctx, o.window); err != nil {
		return nil, err
	}
	after, err := snapshot(ctx, named, gwHTTP, recHTTP, mtxAPI, mtx != nil)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	r.Load1[1], _ = recbench.LoadAverage()
	win := t1.Sub(t0).Seconds()
	r.Window = win
	if pub != nil {
		r.SenderBytes = pub.SentBytes() - sent0
		r.PublisherFails = pub.Failed()
		r.PublisherDrops = pub.Dropped()
	}
	for _, name := range order {
		d := after.usage[name].Sub(before.usage[name])
		r.Procs = append(r.Procs, usage{Name: name, CPU: d.CPU.Seconds() / win * 100, WrittenBytes: d.WriteBytes, Procs: d.Procs})
	}
	if mtx != nil {
		d := after.usage["recbench"].Sub(before.usage["recbench"])
		r.Procs = append(r.Procs, usage{Name: "publisher", CPU: d.CPU.Seconds() / win * 100, Procs: 1, WrittenBytes: d.WriteBytes})
	}
	cpu := func(name string) float64 {
		d := after.usage[name].Sub(before.usage[name])
		return d.CPU.Seconds() / win * 100
	}
	r.OursPerStream = (cpu("mediagw") + cpu("recorder")) / float64(n)
	r.GWBytes = after.gwBytes - before.gwBytes
	r.RecCounted = after.recBytes - before.recBytes
	r.Lost = after.lost - before.lost
	r.ReaderDrops = after.drops - before.drops
	if r.GWBytes > 0 {
		r.RecRatio = r.RecCounted / r.GWBytes
		r.RecProcRatio = float64(after.usage["recorder"].Sub(before.usage["recorder"]).WriteBytes) / r.GWBytes
	}
	if mtx != nil {
		r.MtxPerStream = cpu("mediamtx") / float64(n)
		r.MtxReceived = after.mtxBytes - before.mtxBytes
		if r.MtxReceived > 0 {
			r.MtxRatio = float64(after.usage["mediamtx"].Sub(before.usage["mediamtx"]).WriteBytes) / r.MtxReceived
		}
		r.MtxReady, _ = mtxPaths(ctx, mtxAPI)
		r.MtxPackets = after.mtxPackets - before.mtxPackets
		r.MtxLost = after.mtxLost - before.mtxLost
	}
	// Gaps and coverage of the window, once the index has caught up.
	if err := sleep(ctx, indexLag); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM recording_gaps
		WHERE start_at < $2 AND coalesce(end_at, now()) > $1`, t0, t1).Scan(&r.Gaps); err != nil {
		return nil, fmt.Errorf("gaps: %w", err)
	}
	var covered int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE s < $3), coalesce(min(s), 0) FROM (
		SELECT channel_id, sum(extract(epoch FROM least(end_at, $2) - greatest(start_at, $1)))::float8 AS s
		FROM recordings WHERE start_at < $2 AND end_at > $1 GROUP BY channel_id) c`,
		t0, t1, win-1).Scan(&covered, &r.ShortChannels, &r.MinCoverage); err != nil {
		return nil, fmt.Errorf("coverage: %w", err)
	}
	r.ShortChannels += n - covered
	r.NoGap = r.Gaps == 0 && r.ShortChannels == 0 && r.Lost == 0
	return r, nil
}

// layout splits n cameras into devices of at most 8 channels.
func layout(n int) (devices, channels int) {
	for c := 8; c > 1; c-- {
		if n%c == 0 {
			return n / c, c
		}
	}
	return n, 1
}

// channelID is gbsim's ID of camera i (1-based) with the default
// -device-id-start: channels are numbered across devices.
func channelID(i int) string { return fmt.Sprintf("34020000001310%06d", i) }

func mediamtxConfig(rtsp, api int, dir string, tcp bool) string {
	transports := "[udp, tcp]"
	if tcp {
		transports = "[tcp]"
	}
	// The shared RTP socket gets the largest buffer the kernel allows
	// here (net.core.rmem_max, 4 MiB), as mediagw's sockets do: the
	// default 208 KiB drops packets of many streams under load.
	return fmt.Sprintf(`logLevel: warn
udpReadBufferSize: 4194304
api: yes
apiAddress: 127.0.0.1:%d
rtsp: yes
rtspTransports: %s
rtspAddress: 127.0.0.1:%d
rtpAddress: :%d
rtcpAddress: :%d
rtmp: no
hls: no
webrtc: no
srt: no
moq: no
playback: no
pathDefaults:
  record: yes
  recordPath: %s/%%path/%%Y-%%m-%%d_%%H-%%M-%%S-%%f
  recordFormat: fmp4
  recordPartDuration: 1s
  recordSegmentDuration: 1m
paths:
  all_others:
`, api, transports, rtsp, mtxRTPPort, mtxRTPPort+1, dir)
}

// mtxPaths returns how many mediamtx paths are ready and their bytes received.
func mtxPaths(ctx context.Context, api int) (ready int, received float64) {
	b, err := recbench.Get(ctx, fmt.Sprintf("http://127.0.0.1:%d/v3/paths/list?itemsPerPage=10000", api), "")
	if err != nil {
		return 0, 0
	}
	var out struct {
		Items []struct {
			Ready         bool    `json:"ready"`
			BytesReceived float64 `json:"bytesReceived"`
		} `json:"items"`
	}
	if json.Unmarshal(b, &out) != nil {
		return 0, 0
	}
	for _, it := range out.Items {
		if it.Ready {
			ready++
		}
		received += it.BytesReceived
	}
	return ready, received
}

// mtxSessions returns the RTP packets mediamtx's RTSP sessions received
// and the ones they found lost.
func mtxSessions(ctx context.Context, api int) (packets, lost float64) {
	b, err := recbench.Get(ctx, fmt.Sprintf("http://127.0.0.1:%d/v3/rtspsessions/list?itemsPerPage=10000", api), "")
	if err != nil {
		return 0, 0
	}
	var out struct {
		Items []struct {
			Packets float64 `json:"inboundRTPPackets"`
			Lost    float64 `json:"inboundRTPPacketsLost"`
		} `json:"items"`
	}
	if json.Unmarshal(b, &out) != nil {
		return 0, 0
	}
	for _, it := range out.Items {
		packets += it.Packets
		lost += it.Lost
	}
	return packets, lost
}

// snap is everything read at one end of the window.
type snap struct {
	usage                map[string]recbench.Usage
	gwBytes, lost, drops float64
	recBytes, mtxBytes   float64
	mtxPackets, mtxLost  float64
}

func snapshot(ctx context.Context, pids map[string]int, gw, rec, mtxAPI int, mtx bool) (*snap, error) {
	s := &snap{usage: map[string]recbench.Usage{}}
	gm, err := recbench.Get(ctx, fmt.Sprintf("http://127.0.0.1:%d/internal/v1/metrics", gw), serviceToken)
	if err != nil {
		return nil, err
	}
	rm, err := recbench.Get(ctx, fmt.Sprintf("http://127.0.0.1:%d/metrics", rec), "")
	if err != nil {
		return nil, err
	}
	for _, m := range []struct {
		text []byte
		name string
		dst  *float64
	}{
		{gm, "stream_bytes_total", &s.gwBytes},
		{gm, "stream_ingest_lost_total", &s.lost},
		{gm, "stream_reader_drops_total", &s.drops},
		{rm, "recorder_written_bytes_total", &s.recBytes},
	} {
		if *m.dst, err = recbench.SumMetric(m.text, m.name); err != nil {
			return nil, err
		}
	}
	if mtx {
		_, s.mtxBytes = mtxPaths(ctx, mtxAPI)
		s.mtxPackets, s.mtxLost = mtxSessions(ctx, mtxAPI)
	}
	for name, pid := range pids {
		usage := recbench.TreeUsage
		if pid == os.Getpid() {
			usage = recbench.ProcessUsage // its descendants are the servers
		}
		u, err := usage(pid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		s.usage[name] = u
	}
	return s, nil
}

// postmasterPID reads the first line of the cluster's postmaster.pid.
func postmasterPID(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

func waitReady(ctx context.Context, p *process, url string, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	for {
		if _, err := recbench.Get(ctx, url, ""); err == nil {
			return nil
		}
		if ok, err := p.exited(); ok {
			return fmt.Errorf("exited: %w", err)
		}
		if time.Now().After(deadline) {
			return errors.New("not ready in " + bound.String())
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
