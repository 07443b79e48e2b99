package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

func TestConsoleAuditRetention(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		env  []string
		want time.Duration // 0: refused, naming audit.retention
	}{
		{"default", "", nil, 180 * 24 * time.Hour},
		{"a year", "audit:\n  retention: 365d\n", nil, 365 * 24 * time.Hour},
		{"env", "", []string{"SHARPEYES_AUDIT_RETENTION=400d"}, 400 * 24 * time.Hour},
		{"the minimum", "audit:\n  retention: 4320h\n", nil, 180 * 24 * time.Hour},
		{"less than 180 days", "audit:\n  retention: 179d\n", nil, 0},
		{"zero", "audit:\n  retention: 0s\n", nil, 0},
		{"env too short", "", []string{"SHARPEYES_AUDIT_RETENTION=30d"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c config.Console
			_, err := config.Load(writeFile(t, tc.yaml), &c, tc.env)
			if tc.want == 0 {
				if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "audit.retention") {
					t.Fatalf("err = %v, want ErrInvalid naming audit.retention", err)
				}
				return
			}
			if err != nil || c.Audit.Retention.Std() != tc.want {
				t.Fatalf("retention %s %v, want %s", c.Audit.Retention, err, tc.want)
			}
		})
	}
}
