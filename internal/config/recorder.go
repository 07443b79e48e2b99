package config

import (
	"errors"
	"net/url"
	"os"
	"strings"
	"time"
)

// RecorderSettings configures what the recorder records and how: the
// `recorder:` section.
type RecorderSettings struct {
	// Node names this recorder in the index, the leases and the gaps it
	// writes. Empty means the host name.
	Node string `yaml:"node"`
	// MediagwURL is mediagw's HTTP listener: its internal API, where the
	// recorder asks for play tokens (authenticated with service_token), and
	// the unit feed each channel is read from (/feed/live/<channel>).
	MediagwURL string `yaml:"mediagw_url"`
	// RTSPURL is the base of the RTSP URLs device exports read
	// (rtsp://host:port; download/<session> is appended).
	RTSPURL string `yaml:"rtsp_url"`
	// SegmentDuration is how long one segment object lasts: a new one starts
	// at the first video key frame after it.
	SegmentDuration Duration `yaml:"segment_duration"`
	// FragmentDuration is how much media one fragment (moof+mdat) holds; a
	// crash loses at most the fragment being written.
	FragmentDuration Duration `yaml:"fragment_duration"`
	// Retention is how long a segment is kept when neither a record plan
	// nor the channel's class says otherwise (GB/T 33200: one month). Whole
	// days: the index keeps retention in days.
	Retention Duration `yaml:"retention"`
	// RetentionKey is the retention of channels of the key class
	// (重点区域: three months), in whole days.
	RetentionKey Duration `yaml:"retention_key"`
	// RetentionLimit caps every segment's life, whatever its retention
	// days say (a demo or a small disk: "2h"); 0 means no cap.
	RetentionLimit Duration `yaml:"retention_limit"`
	// LeaseTTL is how long this node's hold on a channel lasts without
	// renewal; it renews every third of it, and another node takes the
	// channels of a node silent for longer.
	LeaseTTL Duration `yaml:"lease_ttl"`
	// TimeZone is the IANA zone of the record plans' weekly schedules.
	TimeZone string `yaml:"time_zone"`
	// MaxChannels caps the channels this node records (0: no limit).
	MaxChannels int `yaml:"max_channels"`
	// SweepInterval is how often expired segments are deleted.
	SweepInterval Duration `yaml:"sweep_interval"`
	// SweepBatch is how many segments one sweep round deletes at most.
	SweepBatch int `yaml:"sweep_batch"`
	// CapacityWarnDays raises the storage alarm when the estimated headroom
	// at the current write rate falls below this many days.
	CapacityWarnDays int `yaml:"capacity_warn_days"`
	// OverwriteOldest lets the sweeper delete the oldest unexpired segments
	// when storage runs out; false keeps them and raises the alarm only.
	OverwriteOldest bool `yaml:"overwrite_oldest"`
	// PublicURL is where browsers reach this node's playback (HLS VOD),
	// http(s)://host:port with no path; the console builds playback URLs
	// on it and other nodes' playlists point at it for the segments only
	// this node holds. Empty: the advertised listen address.
	PublicURL string `yaml:"public_url"`
	// ConsoleURL is the console's internal API, where playback requests
	// are audited and users' play tokens checked for revocation
	// (authenticated with service_token).
	ConsoleURL string `yaml:"console_url"`
	// SipserverURL is sipserver's internal API, where device exports ask
	// for download sessions (authenticated with service_token).
	SipserverURL string `yaml:"sipserver_url"`
}

// Exports configures the export jobs a recorder node runs: the
// `exports:` section.
type Exports struct {
	// MaxRunning is how many jobs this node runs at once.
	MaxRunning int `yaml:"max_running"`
	// TTL is how long a finished export's file is kept.
	TTL Duration `yaml:"ttl"`
	// FFmpeg is the ffmpeg binary device exports run.
	FFmpeg string `yaml:"ffmpeg"`
}

func (e *Exports) setDefaults() {
	*e = Exports{MaxRunning: 2, TTL: Duration(24 * time.Hour), FFmpeg: "ffmpeg"}
}

func (e Exports) validate() error {
	var errs []error
	if e.MaxRunning < 1 || e.MaxRunning > 64 {
		errs = append(errs, fieldErr("exports.max_running", "must be 1–64, got %d", e.MaxRunning))
	}
	if e.TTL < Duration(time.Minute) {
		errs = append(errs, fieldErr("exports.ttl", "must be at least 1m, got %s", e.TTL))
	}
	if strings.TrimSpace(e.FFmpeg) == "" {
		errs = append(errs, fieldErr("exports.ffmpeg", "must name the ffmpeg binary"))
	}
	return errors.Join(errs...)
}

// Playback configures how a recorder node serves its recordings beyond the
// bytes it holds: the `playback:` section.
type Playback struct {
	// Transcode serves H.265 recordings as H.264 to browsers that cannot
	// decode H.265 (index.m3u8?video=h264), with ffmpeg.
	Transcode bool `yaml:"transcode"`
	// FFmpeg is the ffmpeg binary the transcodes run.
	FFmpeg string `yaml:"ffmpeg"`
	// MaxTranscodes is how many ffmpeg runs this node has at once; more
	// requests wait for one to end.
	MaxTranscodes int `yaml:"max_transcodes"`
}

func (p *Playback) setDefaults() {
	*p = Playback{Transcode: true, FFmpeg: "ffmpeg", MaxTranscodes: 2}
}

func (p Playback) validate() error {
	var errs []error
	if p.MaxTranscodes < 1 || p.MaxTranscodes > 64 {
		errs = append(errs, fieldErr("playback.max_transcodes", "must be 1–64, got %d", p.MaxTranscodes))
	}
	if p.Transcode && strings.TrimSpace(p.FFmpeg) == "" {
		errs = append(errs, fieldErr("playback.ffmpeg", "must name the ffmpeg binary"))
	}
	return errors.Join(errs...)
}

// validPlaybackSecret checks the recorder's play_token_secret: empty
// (playback off) or at least 32 characters, as mediagw's.
func validPlaybackSecret(s Secret) error {
	if s != "" && len(s) < 32 {
		return fieldErr("play_token_secret", "must have at least 32 characters")
	}
	return nil
}

// Location returns the time zone of the record plans (TimeZone is
// validated, so only a broken zoneinfo installation makes it fail).
func (r RecorderSettings) Location() (*time.Location, error) {
	return time.LoadLocation(r.TimeZone)
}

// NodeName returns Node, or the host name when Node is empty.
func (r RecorderSettings) NodeName() string {
	if r.Node != "" {
		return r.Node
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "recorder"
}

func (r *RecorderSettings) setDefaults() {
	*r = RecorderSettings{
		MediagwURL:       "http://127.0.0.1:8888",
		RTSPURL:          "rtsp://127.0.0.1:8554",
		SegmentDuration:  Duration(time.Minute),
		FragmentDuration: Duration(time.Second),
		Retention:        Duration(30 * 24 * time.Hour),
		RetentionKey:     Duration(90 * 24 * time.Hour),
		LeaseTTL:         Duration(15 * time.Second),
		TimeZone:         "Asia/Shanghai",
		SweepInterval:    Duration(time.Minute),
		SweepBatch:       500,
		CapacityWarnDays: 7,
		ConsoleURL:       "http://127.0.0.1:8080",
		SipserverURL:     "http://127.0.0.1:8081",
	}
}

func (r RecorderSettings) validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fieldErr("recorder."+key, format, args...))
	}
	if strings.ContainsAny(r.Node, " \t\r\n/") || len(r.Node) > 64 {
		add("node", "must be at most 64 characters without spaces or '/', got %q", r.Node)
	}
	if u, err := url.Parse(r.MediagwURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("mediagw_url", "must be an http(s) URL, got %q", r.MediagwURL)
	}
	for _, u := range []struct{ key, value string }{{"console_url", r.ConsoleURL}, {"sipserver_url", r.SipserverURL}} {
		if p, err := url.Parse(u.value); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			add(u.key, "must be an http(s) URL, got %q", u.value)
		}
	}
	if r.PublicURL != "" {
		if u, err := url.Parse(r.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			add("public_url", "must be empty or http(s)://host:port with no path or query, got %q", r.PublicURL)
		}
	}
	if u, err := url.Parse(r.RTSPURL); err != nil || (u.Scheme != "rtsp" && u.Scheme != "rtsps") || u.Host == "" {
		add("rtsp_url", "must be an rtsp(s) URL, got %q", r.RTSPURL)
	} else if u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		add("rtsp_url", "must be rtsp://host:port with no path, query or fragment, got %q", r.RTSPURL)
	}
	if r.SegmentDuration < Duration(time.Second) || r.SegmentDuration > Duration(time.Hour) {
		add("segment_duration", "must be 1s–1h, got %s", r.SegmentDuration)
	}
	if r.FragmentDuration < Duration(100*time.Millisecond) || r.FragmentDuration > r.SegmentDuration {
		add("fragment_duration", "must be between 100ms and segment_duration, got %s", r.FragmentDuration)
	}
	if !wholeDays(r.Retention) {
		add("retention", "must be whole days, at least 1d (retention_limit caps it below a day), got %s", r.Retention)
	}
	if !wholeDays(r.RetentionKey) {
		add("retention_key", "must be whole days, at least 1d (retention_limit caps it below a day), got %s", r.RetentionKey)
	}
	if r.RetentionLimit != 0 && r.RetentionLimit < Duration(time.Hour) {
		add("retention_limit", "must be 0 (no cap) or at least 1h, got %s", r.RetentionLimit)
	}
	if r.LeaseTTL < Duration(3*time.Second) || r.LeaseTTL > Duration(5*time.Minute) {
		add("lease_ttl", "must be 3s–5m, got %s", r.LeaseTTL)
	}
	if r.TimeZone == "" {
		add("time_zone", "must name an IANA time zone, e.g. Asia/Shanghai")
	} else if _, err := time.LoadLocation(r.TimeZone); err != nil {
		add("time_zone", "unknown time zone %q", r.TimeZone)
	}
	if r.MaxChannels < 0 {
		add("max_channels", "must be 0 (no limit) or more, got %d", r.MaxChannels)
	}
	if r.SweepInterval < Duration(time.Second) {
		add("sweep_interval", "must be at least 1s, got %s", r.SweepInterval)
	}
	if r.SweepBatch < 1 || r.SweepBatch > 100000 {
		add("sweep_batch", "must be 1–100000, got %d", r.SweepBatch)
	}
	if r.CapacityWarnDays < 0 || r.CapacityWarnDays > 3650 {
		add("capacity_warn_days", "must be 0 (off) to 3650, got %d", r.CapacityWarnDays)
	}
	return errors.Join(errs...)
}

// RetentionDays is d in days; d is validated to be whole days.
func RetentionDays(d Duration) int { return int(d.Std() / (24 * time.Hour)) }

// wholeDays reports whether d is a positive number of whole days.
func wholeDays(d Duration) bool {
	return d >= Duration(24*time.Hour) && d.Std()%(24*time.Hour) == 0
}

// Storage kinds.
const (
	StorageDir = "dir"
	StorageS3  = "s3"
)

// Storage says where the recordings are kept: a local directory, or an S3
// bucket (MinIO) with a local spool directory the segments are written to
// before their upload.
type Storage struct {
	// Kind is dir or s3.
	Kind string `yaml:"kind"`
	// Dir is the root of the dir store.
	Dir string `yaml:"dir"`
	// SpoolDir holds the s3 store's segments until they are uploaded (and
	// the segment being written, which a restart repairs from there).
	SpoolDir string `yaml:"spool_dir"`
	// Endpoint is the S3 server's host:port.
	Endpoint string `yaml:"endpoint"`
	// Bucket and Prefix say where the objects go (prefix: an optional
	// folder inside the bucket).
	Bucket string `yaml:"bucket"`
	Prefix string `yaml:"prefix"`
	// AccessKey and SecretKey are the S3 credentials.
	AccessKey string `yaml:"access_key"`
	SecretKey Secret `yaml:"secret_key"`
	// Region is the bucket's region (empty: the server's default).
	Region string `yaml:"region"`
	// TLS connects to Endpoint with https.
	TLS bool `yaml:"tls"`
	// CreateBucket creates Bucket at start when it does not exist.
	CreateBucket bool `yaml:"create_bucket"`
	// Capacity is the space the recordings may use on an S3 store (which
	// cannot tell); 0 means unknown. The dir store asks the file system.
	Capacity ByteSize `yaml:"capacity"`
}

func (s *Storage) setDefaults() {
	*s = Storage{Kind: StorageDir, Dir: "var/recordings", SpoolDir: "var/recordings-spool"}
}

func (s Storage) validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fieldErr("storage."+key, format, args...))
	}
	switch s.Kind {
	case StorageDir:
		if strings.TrimSpace(s.Dir) == "" {
			add("dir", "must name a directory")
		}
	case StorageS3:
		if strings.TrimSpace(s.SpoolDir) == "" {
			add("spool_dir", "must name a directory")
		}
		if s.Endpoint == "" || strings.Contains(s.Endpoint, "/") {
			add("endpoint", "must be host:port (no scheme; tls says https), got %q", s.Endpoint)
		}
		if s.Bucket == "" {
			add("bucket", "must be set")
		}
		if strings.HasPrefix(s.Prefix, "/") || strings.Contains(s.Prefix, "..") {
			add("prefix", "must be relative with no '..', got %q", s.Prefix)
		}
		if s.AccessKey == "" || s.SecretKey == "" {
			add("access_key", "access_key and secret_key must be set")
		}
	default:
		add("kind", "must be dir or s3, got %q", s.Kind)
	}
	if s.Capacity < 0 {
		add("capacity", "must not be negative")
	}
	return errors.Join(errs...)
}
