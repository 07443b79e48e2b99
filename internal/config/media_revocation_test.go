package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

// TestMediagwRevocationInterval: audit.revocation_interval defaults to 5 s
// and is refused, naming the key, outside 100ms–5s (a revoked user's video
// must end within 10 s).
func TestMediagwRevocationInterval(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration // 0: refused
	}{
		{"", 5 * time.Second},
		{"100ms", 100 * time.Millisecond},
		{"2s", 2 * time.Second},
		{"5s", 5 * time.Second},
		{"99ms", 0},
		{"0s", 0},
		{"6s", 0},
	} {
		t.Run(tc.value, func(t *testing.T) {
			var env []string
			if tc.value != "" {
				env = []string{"SHARPEYES_AUDIT_REVOCATION_INTERVAL=" + tc.value}
			}
			var c config.Mediagw
			_, err := config.Load("", &c, env)
			if tc.want == 0 {
				if err == nil || !strings.Contains(err.Error(), "audit.revocation_interval") {
					t.Fatalf("%s accepted: %v", tc.value, err)
				}
				return
			}
			if err != nil || c.Audit.RevocationInterval.Std() != tc.want {
				t.Fatalf("%s: %s %v, want %s", tc.value, c.Audit.RevocationInterval, err, tc.want)
			}
		})
	}
}
