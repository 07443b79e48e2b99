package logging_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/logging"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		cfg     config.Log
		wantErr bool
		check   func(t *testing.T, out string)
	}{
		{config.Log{Level: "info", Format: "text"}, false, func(t *testing.T, out string) {
			if !strings.Contains(out, "service=sipserver") || !strings.Contains(out, "msg=shown") || strings.Contains(out, "hidden") {
				t.Errorf("text output %q", out)
			}
		}},
		{config.Log{Level: "debug", Format: "json"}, false, func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 {
				t.Fatalf("want debug and info lines, got %q", out)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(lines[1]), &m); err != nil || m["service"] != "sipserver" || m["device_id"] != "x" {
				t.Errorf("json line %q: %v", lines[1], err)
			}
		}},
		{config.Log{Level: "loud", Format: "text"}, true, nil},
		{config.Log{Level: "info", Format: "xml"}, true, nil},
	} {
		var buf bytes.Buffer
		log, err := logging.New(tc.cfg, "sipserver", &buf)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%+v: want error", tc.cfg)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		log.Debug("hidden")
		log.Info("shown", "device_id", "x")
		tc.check(t, buf.String())
	}
}
