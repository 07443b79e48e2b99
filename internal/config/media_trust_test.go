package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

// TestMediagwAuditAndDownloads checks the defaults of the audit and
// download settings (fail closed, a hold that fits a 20-minute 4 Mbit/s
// download, a gateway-wide bound of three such holds), their environment
// overrides and that a bad value names its key.
func TestMediagwAuditAndDownloads(t *testing.T) {
	var c config.Mediagw
	if _, err := config.Load("", &c, nil); err != nil {
		t.Fatal(err)
	}
	if c.Audit.ConsoleURL != "http://127.0.0.1:8080" || !c.Audit.FailClosed || c.Audit.Timeout.Std() != 3*time.Second {
		t.Fatalf("audit defaults %+v", c.Audit)
	}
	if c.Downloads.Hold.Std() != 30*time.Second || c.Downloads.HoldBytes < 4_000_000/8*20*60 ||
		c.Downloads.HoldTotal != 2<<30 || c.Downloads.HoldTotal < 3*c.Downloads.HoldBytes {
		t.Fatalf("download defaults %+v", c.Downloads)
	}
	var ex config.Mediagw
	if _, err := config.Load("../../configs/mediagw.yaml", &ex, nil); err != nil || ex.Audit != c.Audit || ex.Downloads != c.Downloads {
		t.Fatalf("example config differs from the defaults: %v %+v %+v", err, ex.Audit, ex.Downloads)
	}

	env := []string{
		"SHARPEYES_AUDIT_CONSOLE_URL=https://console.example:8443",
		"SHARPEYES_AUDIT_FAIL_CLOSED=false",
		"SHARPEYES_AUDIT_TIMEOUT=1s",
		"SHARPEYES_DOWNLOADS_HOLD_BYTES=64M",
		"SHARPEYES_DOWNLOADS_HOLD=1m",
		"SHARPEYES_DOWNLOADS_HOLD_TOTAL=256M",
	}
	var o config.Mediagw
	if warns, err := config.Load("", &o, env); err != nil || len(warns) != 0 {
		t.Fatalf("overrides: %v %v", err, warns)
	}
	if o.Audit.ConsoleURL != "https://console.example:8443" || o.Audit.FailClosed || o.Audit.Timeout.Std() != time.Second ||
		o.Downloads.HoldBytes != 64<<20 || o.Downloads.Hold.Std() != time.Minute || o.Downloads.HoldTotal != 256<<20 {
		t.Fatalf("overridden %+v %+v", o.Audit, o.Downloads)
	}
	// Auditing to the log only is possible, but only when failing open.
	var logOnly config.Mediagw
	if _, err := config.Load("", &logOnly, []string{"SHARPEYES_AUDIT_CONSOLE_URL=", "SHARPEYES_AUDIT_FAIL_CLOSED=false"}); err != nil {
		t.Fatalf("log-only audit: %v", err)
	}

	for _, tc := range []struct {
		name    string
		env     []string
		wantKey string
	}{
		{"no console while failing closed", []string{"SHARPEYES_AUDIT_CONSOLE_URL="}, "audit.console_url"},
		{"console url", []string{"SHARPEYES_AUDIT_CONSOLE_URL=console:8080"}, "audit.console_url"},
		{"audit timeout", []string{"SHARPEYES_AUDIT_TIMEOUT=0s"}, "audit.timeout"},
		{"audit timeout too long", []string{"SHARPEYES_AUDIT_TIMEOUT=5m"}, "audit.timeout"},
		{"hold bytes", []string{"SHARPEYES_DOWNLOADS_HOLD_BYTES=64K"}, "downloads.hold_bytes"},
		{"hold", []string{"SHARPEYES_DOWNLOADS_HOLD=0s"}, "downloads.hold"},
		{"hold total below one hold", []string{"SHARPEYES_DOWNLOADS_HOLD_TOTAL=639M"}, "downloads.hold_total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load("", &config.Mediagw{}, tc.env)
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.wantKey+":") {
				t.Fatalf("err = %v, want ErrInvalid naming %s", err, tc.wantKey)
			}
		})
	}
}
