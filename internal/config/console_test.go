package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

func TestConsoleErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantKey string
	}{
		{"sipserver url", "sipserver_url: ftp://x\n", "sipserver_url"},
		{"sipserver url no host", "sipserver_url: http://\n", "sipserver_url"},
		{"short service token", "service_token: abc\n", "service_token"},
		{"public url", "media:\n  public_url: rtsp://x:8554\n", "media.public_url"},
		{"public url query", "media:\n  public_url: http://x:8888/?a=b\n", "media.public_url"},
		{"rtsp url", "media:\n  rtsp_url: http://x:8554\n", "media.rtsp_url"},
		{"short play secret", "media:\n  play_token_secret: short\n", "media.play_token_secret"},
		{"play ttl", "media:\n  play_token_ttl: 1s\n", "media.play_token_ttl"},
		{"session ttl", "auth:\n  session_ttl: 10s\n", "auth.session_ttl"},
		{"max failures", "auth:\n  max_failures: 0\n", "auth.max_failures"},
		{"lockout", "auth:\n  lockout: 0s\n", "auth.lockout"},
		{"initial password", "auth:\n  initial_admin_password: abc\n", "auth.initial_admin_password"},
		{"password length", "auth:\n  password_min_length: 3\n", "auth.password_min_length"},
		{"password classes", "auth:\n  password_min_classes: 5\n", "auth.password_min_classes"},
		{"password history", "auth:\n  password_history: 0\n", "auth.password_history"},
		{"dormant after", "accounts:\n  dormant_after: 1h\n", "accounts.dormant_after"},
		{"base section", "log:\n  level: loud\n", "log.level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tc.yaml), &config.Console{}, nil)
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.wantKey+":") {
				t.Fatalf("err = %v, want ErrInvalid naming %s", err, tc.wantKey)
			}
		})
	}
}

func TestConsoleDefaultsAndEnv(t *testing.T) {
	var c config.Console
	if _, err := config.Load("../../configs/console.yaml", &c, nil); err != nil {
		t.Fatalf("example config: %v", err)
	}
	var d config.Console
	d.SetDefaults()
	if c != d {
		t.Errorf("configs/console.yaml differs from the defaults:\n%+v\n%+v", c, d)
	}
	if c.SipserverURL != "http://127.0.0.1:8081" || c.Media.PublicURL != "http://127.0.0.1:8888" ||
		c.Media.RTSPURL != "rtsp://127.0.0.1:8554" || c.Media.PlayTokenTTL.Std() != 5*time.Minute ||
		c.Auth.SessionTTL.Std() != 12*time.Hour || c.Auth.MaxFailures != 5 || c.Auth.Lockout.Std() != 15*time.Minute ||
		c.Auth.AdminPassword() != "admin" {
		t.Errorf("defaults = %+v", c)
	}

	secret := strings.Repeat("s", 40)
	warnings, err := config.Load("", &c, []string{
		"SHARPEYES_MEDIA_PLAY_TOKEN_SECRET=" + secret,
		"SHARPEYES_SERVICE_TOKEN=0123456789abcdef",
		"SHARPEYES_AUTH_INITIAL_ADMIN_PASSWORD=first-secret",
		"SHARPEYES_AUTH_MAX_FAILURES=3",
	})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("env: %v %v", err, warnings)
	}
	if string(c.Media.PlayTokenSecret) != secret || c.ServiceToken != "0123456789abcdef" ||
		c.Auth.AdminPassword() != "first-secret" || c.Auth.MaxFailures != 3 {
		t.Errorf("env not applied: %+v", c)
	}
	keys := strings.Join(config.EnvKeys(&c), " ")
	for _, k := range []string{"SHARPEYES_MEDIA_PLAY_TOKEN_SECRET", "SHARPEYES_SIPSERVER_URL", "SHARPEYES_AUDIT_RETENTION"} {
		if !strings.Contains(keys, k) {
			t.Errorf("EnvKeys lacks %s", k)
		}
	}
}
