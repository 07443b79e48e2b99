package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

// TestRecorderExampleIsDefaults: configs/recorder.yaml shows every key of
// the recorder and storage sections with its default.
func TestRecorderExampleIsDefaults(t *testing.T) {
	var c config.Recorder
	if _, err := config.Load("../../configs/recorder.yaml", &c, nil); err != nil {
		t.Fatalf("example config: %v", err)
	}
	var d config.Recorder
	d.SetDefaults()
	if c.Recorder != d.Recorder || c.Storage != d.Storage || c.ServiceToken != d.ServiceToken {
		t.Errorf("configs/recorder.yaml differs from the defaults:\n%+v\n%+v\n%+v\n%+v", c.Recorder, d.Recorder, c.Storage, d.Storage)
	}
	if d.Recorder.SegmentDuration.Std() != time.Minute || d.Recorder.Retention.Std() != 30*24*time.Hour ||
		d.Recorder.RetentionKey.Std() != 90*24*time.Hour || d.Recorder.RetentionLimit != 0 || d.Storage.Dir != "var/recordings" {
		t.Errorf("defaults: %+v %+v", d.Recorder, d.Storage)
	}
}

func TestRecorderEnv(t *testing.T) {
	var c config.Recorder
	env := []string{
		"SHARPEYES_RECORDER_RETENTION=2d",
		"SHARPEYES_RECORDER_RETENTION_LIMIT=2h",
		"SHARPEYES_RECORDER_NODE=rec-1",
		"SHARPEYES_STORAGE_KIND=s3",
		"SHARPEYES_STORAGE_ENDPOINT=127.0.0.1:9000",
		"SHARPEYES_STORAGE_BUCKET=rec",
		"SHARPEYES_STORAGE_ACCESS_KEY=minioadmin",
		"SHARPEYES_STORAGE_SECRET_KEY=minioadmin",
		"SHARPEYES_PLAY_TOKEN_SECRET=0123456789abcdef0123456789abcdef",
		"SHARPEYES_RECORDER_PUBLIC_URL=https://rec1.example:8443",
		"SHARPEYES_RECORDER_SIPSERVER_URL=http://sip:8081",
		"SHARPEYES_EXPORTS_MAX_RUNNING=4",
		"SHARPEYES_EXPORTS_TTL=2h",
		"SHARPEYES_PLAYBACK_MAX_TRANSCODES=3",
	}
	warnings, err := config.Load("", &c, env)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("load: %v %v", err, warnings)
	}
	if string(c.PlayTokenSecret) != "0123456789abcdef0123456789abcdef" || c.Recorder.PublicURL != "https://rec1.example:8443" ||
		c.Recorder.SipserverURL != "http://sip:8081" || c.Recorder.ConsoleURL != "http://127.0.0.1:8080" ||
		c.Exports.MaxRunning != 4 || c.Exports.TTL.Std() != 2*time.Hour || c.Exports.FFmpeg != "ffmpeg" {
		t.Fatalf("playback and export keys not applied: %+v %+v", c.Recorder, c.Exports)
	}
	if !c.Playback.Transcode || c.Playback.FFmpeg != "ffmpeg" || c.Playback.MaxTranscodes != 3 {
		t.Fatalf("playback section: %+v", c.Playback)
	}
	if c.Recorder.Retention.Std() != 48*time.Hour || c.Recorder.RetentionLimit.Std() != 2*time.Hour ||
		config.RetentionDays(c.Recorder.Retention) != 2 || c.Recorder.NodeName() != "rec-1" || c.Storage.Kind != config.StorageS3 {
		t.Fatalf("env not applied: %+v %+v", c.Recorder, c.Storage)
	}
	var d config.Recorder
	d.SetDefaults()
	if d.Recorder.NodeName() == "" {
		t.Fatal("an empty node must default to the host name")
	}
	if loc, err := d.Recorder.Location(); err != nil || loc.String() != "Asia/Shanghai" {
		t.Fatalf("location %v %v", loc, err)
	}
}

func TestRecorderErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantKey string
	}{
		{"short service token", "service_token: abc\n", "service_token"},
		{"node", "recorder:\n  node: a/b\n", "recorder.node"},
		{"mediagw url", "recorder:\n  mediagw_url: ftp://x\n", "recorder.mediagw_url"},
		{"rtsp url", "recorder:\n  rtsp_url: http://x\n", "recorder.rtsp_url"},
		{"rtsp url path", "recorder:\n  rtsp_url: rtsp://x:8554/live\n", "recorder.rtsp_url"},
		{"segment", "recorder:\n  segment_duration: 500ms\n", "recorder.segment_duration"},
		{"fragment longer than segment", "recorder:\n  segment_duration: 2s\n  fragment_duration: 3s\n", "recorder.fragment_duration"},
		{"retention", "recorder:\n  retention: 10m\n", "recorder.retention"},
		{"retention under a day", "recorder:\n  retention: 2h\n", "recorder.retention"},
		{"retention not whole days", "recorder:\n  retention: 36h\n", "recorder.retention"},
		{"retention key", "recorder:\n  retention_key: 0s\n", "recorder.retention_key"},
		{"retention key not whole days", "recorder:\n  retention_key: 1.5d\n", "recorder.retention_key"},
		{"retention limit", "recorder:\n  retention_limit: 10m\n", "recorder.retention_limit"},
		{"retention limit negative", "recorder:\n  retention_limit: -1h\n", "recorder.retention_limit"},
		{"lease", "recorder:\n  lease_ttl: 1s\n", "recorder.lease_ttl"},
		{"zone", "recorder:\n  time_zone: Mars/Olympus\n", "recorder.time_zone"},
		{"max channels", "recorder:\n  max_channels: -1\n", "recorder.max_channels"},
		{"sweep interval", "recorder:\n  sweep_interval: 0s\n", "recorder.sweep_interval"},
		{"sweep batch", "recorder:\n  sweep_batch: 0\n", "recorder.sweep_batch"},
		{"warn days", "recorder:\n  capacity_warn_days: -2\n", "recorder.capacity_warn_days"},
		{"short play token secret", "play_token_secret: short\n", "play_token_secret"},
		{"public url scheme", "recorder:\n  public_url: rec1:8082\n", "recorder.public_url"},
		{"public url path", "recorder:\n  public_url: http://rec1:8082/vod\n", "recorder.public_url"},
		{"console url", "recorder:\n  console_url: ''\n", "recorder.console_url"},
		{"sipserver url", "recorder:\n  sipserver_url: sip:8081\n", "recorder.sipserver_url"},
		{"max running", "exports:\n  max_running: 0\n", "exports.max_running"},
		{"export ttl", "exports:\n  ttl: 10s\n", "exports.ttl"},
		{"ffmpeg", "exports:\n  ffmpeg: ' '\n", "exports.ffmpeg"},
		{"max transcodes", "playback:\n  max_transcodes: 65\n", "playback.max_transcodes"},
		{"transcode ffmpeg", "playback:\n  ffmpeg: ''\n", "playback.ffmpeg"},
		{"kind", "storage:\n  kind: tape\n", "storage.kind"},
		{"dir", "storage:\n  dir: ' '\n", "storage.dir"},
		{"s3 endpoint", "storage:\n  kind: s3\n  bucket: b\n  access_key: a\n  secret_key: s\n", "storage.endpoint"},
		{"s3 bucket", "storage:\n  kind: s3\n  endpoint: h:9000\n  access_key: a\n  secret_key: s\n", "storage.bucket"},
		{"s3 keys", "storage:\n  kind: s3\n  endpoint: h:9000\n  bucket: b\n", "storage.access_key"},
		{"s3 prefix", "storage:\n  kind: s3\n  endpoint: h:9000\n  bucket: b\n  access_key: a\n  secret_key: s\n  prefix: ../x\n", "storage.prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tc.yaml), &config.Recorder{}, nil)
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.wantKey+":") {
				t.Fatalf("err = %v, want ErrInvalid naming %s", err, tc.wantKey)
			}
		})
	}
}
