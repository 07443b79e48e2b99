package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cfg.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadLayers(t *testing.T) {
	path := writeFile(t, `
log:
  level: debug
database:
  url: postgres://app:hunter2@db.example:5432/sharpeyes
  max_conns: 20
http:
  listen: 127.0.0.1:9081
`)
	var c config.Sipserver
	warnings, err := config.Load(path, &c, []string{
		"SHARPEYES_LOG_FORMAT=json",
		"SHARPEYES_DATABASE_MAX_CONNS=5",
		"SHARPEYES_HTTP_READ_HEADER_TIMEOUT=2s",
		"SHARPEYES_NO_SUCH_KEY=1",
		"PATH=/bin",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" || c.Log.Format != "json" {
		t.Errorf("log = %+v", c.Log)
	}
	if c.Database.MaxConns != 5 {
		t.Errorf("env must override file: max_conns = %d", c.Database.MaxConns)
	}
	if c.HTTP.Listen != "127.0.0.1:9081" || time.Duration(c.HTTP.ReadHeaderTimeout) != 2*time.Second {
		t.Errorf("http = %+v", c.HTTP)
	}
	if c.Database.DataDir != "var/pgdata" {
		t.Errorf("default data_dir lost: %q", c.Database.DataDir)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "SHARPEYES_NO_SUCH_KEY") {
		t.Errorf("warnings = %v", warnings)
	}
}

func TestLoadDefaultsWithoutFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    config.Service
		listen func(config.Service) string
		want   string
	}{
		{"sipserver", &config.Sipserver{}, func(s config.Service) string { return s.(*config.Sipserver).HTTP.Listen }, ":8081"},
		{"recorder", &config.Recorder{}, func(s config.Service) string { return s.(*config.Recorder).HTTP.Listen }, ":8082"},
		{"console", &config.Console{}, func(s config.Service) string { return s.(*config.Console).HTTP.Listen }, ":8080"},
		{"mediagw", &config.Mediagw{}, func(s config.Service) string { return s.(*config.Mediagw).HTTP.Listen }, ":8888"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := config.Load("", tc.cfg, nil); err != nil {
				t.Fatal(err)
			}
			if got := tc.listen(tc.cfg); got != tc.want {
				t.Errorf("listen = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		yaml    string
		env     []string
		wantKey string
	}{
		{"bad level", "log:\n  level: verbose\n", nil, "log.level"},
		{"bad format", "log:\n  format: xml\n", nil, "log.format"},
		{"bad listen", "http:\n  listen: 8080\n", nil, "http.listen"},
		{"bad port", "http:\n  listen: ':99999'\n", nil, "http.listen"},
		{"bad scheme", "database:\n  url: mysql://x/y\n", nil, "database.url"},
		{"no data dir", "database:\n  data_dir: ''\n", nil, "database.data_dir"},
		{"max conns", "database:\n  max_conns: 0\n", nil, "database.max_conns"},
		{"negative timeout", "database:\n  connect_timeout: -1s\n", nil, "database.connect_timeout"},
		{"env not a number", "", []string{"SHARPEYES_DATABASE_MAX_CONNS=many"}, "database.max_conns"},
		{"env bad duration", "", []string{"SHARPEYES_DATABASE_CONNECT_TIMEOUT=soon"}, "database.connect_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.yaml != "" {
				path = writeFile(t, tc.yaml)
			}
			_, err := config.Load(path, &config.Console{}, tc.env)
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantKey+":") {
				t.Errorf("error %q does not name %s", err, tc.wantKey)
			}
		})
	}
}

func TestLoadRejectsUnknownYAMLKey(t *testing.T) {
	path := writeFile(t, "log:\n  lvel: debug\n")
	_, err := config.Load(path, &config.Mediagw{}, nil)
	if err == nil || !strings.Contains(err.Error(), "lvel") {
		t.Fatalf("err = %v, want an error naming lvel", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"), &config.Mediagw{}, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	var c config.Console
	if _, err := config.Load("", &c, []string{"SHARPEYES_DATABASE_URL=postgres://app:hunter2@db:5432/x"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := config.Print(&buf, &c); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "hunter2") {
		t.Fatalf("password printed:\n%s", out)
	}
	if !strings.Contains(out, "postgres://app:xxxxx@db:5432/x") || !strings.Contains(out, "listen: :8080") {
		t.Fatalf("unexpected print:\n%s", out)
	}
	// The printed config must load back to the same values (except masked secrets).
	var back config.Console
	if _, err := config.Load(writeFile(t, strings.ReplaceAll(out, "xxxxx", "hunter2")), &back, nil); err != nil {
		t.Fatal(err)
	}
	if back != c {
		t.Fatalf("round trip: %+v != %+v", back, c)
	}
}

func TestSecret(t *testing.T) {
	s := config.Secret("token")
	if s.String() != "******" || config.Secret("").String() != "" {
		t.Fatal("secret not masked")
	}
	if config.DatabaseURL("host=x password=y").Redacted() != "******" {
		t.Fatal("DSN not masked")
	}
}

func TestEnvKeys(t *testing.T) {
	keys := strings.Join(config.EnvKeys(&config.Sipserver{}), " ")
	for _, want := range []string{"SHARPEYES_LOG_LEVEL", "SHARPEYES_DATABASE_URL", "SHARPEYES_HTTP_LISTEN", "SHARPEYES_DATABASE_MAX_CONNS"} {
		if !strings.Contains(keys, want) {
			t.Errorf("missing %s in %s", want, keys)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		str  string
		err  bool
	}{
		{"30d", 30 * 24 * time.Hour, "30d", false},
		{"1.5d", 36 * time.Hour, "36h0m0s", false},
		{"90s", 90 * time.Second, "1m30s", false},
		{" 5m ", 5 * time.Minute, "5m0s", false},
		{"0", 0, "0s", false},
		{"d", 0, "", true},
		{"-1d", 0, "", true},
		{"soon", 0, "", true},
	} {
		d, err := config.ParseDuration(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("%q: want error", tc.in)
			}
			continue
		}
		if err != nil || time.Duration(d) != tc.want || d.String() != tc.str {
			t.Errorf("%q: got %v %q %v", tc.in, time.Duration(d), d.String(), err)
		}
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		str  string
		err  bool
	}{
		{"512", 512, "512", false},
		{"64K", 64 << 10, "64K", false},
		{"50M", 50 << 20, "50M", false},
		{"2gb", 2 << 30, "2G", false},
		{"1025", 1025, "1025", false},
		{"-1", 0, "", true},
		{"x", 0, "", true},
		{"9999999999G", 0, "", true},
	} {
		b, err := config.ParseByteSize(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("%q: want error", tc.in)
			}
			continue
		}
		if err != nil || int64(b) != tc.want || b.String() != tc.str {
			t.Errorf("%q: got %d %q %v", tc.in, b, b.String(), err)
		}
		var u config.ByteSize
		txt, _ := b.MarshalText()
		if err := u.UnmarshalText(txt); err != nil || u != b {
			t.Errorf("%q: text round trip %v %v", tc.in, u, err)
		}
	}
}

func FuzzLoadYAML(f *testing.F) {
	f.Add([]byte("log:\n  level: debug\nhttp:\n  listen: ':8080'\n"))
	f.Add([]byte("database:\n  url: postgres://u:p@h/d\n  connect_timeout: 30d\n"))
	f.Add([]byte("- [ ] {"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var c config.Console
		if _, err := config.Load(p, &c, nil); err != nil {
			return
		}
		// Anything accepted must validate and print.
		if err := c.Validate(); err != nil {
			t.Fatalf("loaded config does not validate: %v", err)
		}
		if err := config.Print(&bytes.Buffer{}, &c); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "1h", "1.5d", "-3s", "", "d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := config.ParseDuration(s)
		if err != nil {
			return
		}
		back, err := config.ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, time.Duration(d), d.String(), time.Duration(back), err)
		}
	})
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"512", "64K", "50M", "2gb", "-1", "9999999999G", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := config.ParseByteSize(s)
		if err != nil {
			return
		}
		if b < 0 {
			t.Fatalf("%q parsed to a negative size %d", s, b)
		}
		back, err := config.ParseByteSize(b.String())
		if err != nil || back != b {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, b, b.String(), back, err)
		}
	})
}

func TestMediagwErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantKey string
	}{
		{"auth", "auth: maybe\n", "auth"},
		{"short secret", "play_token_secret: short\n", "play_token_secret"},
		{"short service token", "service_token: abc\n", "service_token"},
		{"advertise", "advertise_ip: host\n", "advertise_ip"},
		{"ports", "rtp:\n  port_min: 31000\n  port_max: 30000\n", "rtp.port_min"},
		{"rtp listen", "rtp:\n  udp_listen: 10000\n", "rtp.udp_listen"},
		{"poll spins", "rtp:\n  udp_poll_interval: 1us\n", "rtp.udp_poll_interval"},
		{"poll too slow", "rtp:\n  udp_poll_interval: 1s\n", "rtp.udp_poll_interval"},
		{"readers", "rtp:\n  udp_readers: -1\n", "rtp.udp_readers"},
		{"ice hosts", "webrtc:\n  ice_hosts: [a.b]\n", "webrtc.ice_hosts"},
		{"rtsp udp pair", "rtsp:\n  udp_rtp_listen: ':8000'\n", "rtsp.udp_rtp_listen"},
		{"encoder", "transcode:\n  encoder: x265\n", "transcode.encoder"},
		{"sipserver url", "on_demand:\n  sipserver_url: ftp://x\n", "on_demand.sipserver_url"},
		{"webhook event", "webhook:\n  events: [stream.exploded]\n", "webhook.events"},
		{"part longer than segment", "hls:\n  part_duration: 2s\n", "hls.part_duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tc.yaml), &config.Mediagw{}, nil)
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.wantKey+":") {
				t.Fatalf("err = %v, want ErrInvalid naming %s", err, tc.wantKey)
			}
		})
	}
	var c config.Mediagw
	if _, err := config.Load("../../configs/mediagw.yaml", &c, nil); err != nil || c.Auth != config.AuthOn || c.RTP.UDPListen != ":10000" {
		t.Fatalf("example config: %v %+v", err, c.RTP)
	}
}
