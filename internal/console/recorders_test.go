package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// TestRecorders: admins and auditors see every recorder node, live or not,
// with its retention and the capacity state its guard stored; others are
// refused and audited.
func TestRecorders(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")
	e.addUser("aud", "aud-password", store.RoleAuditor)
	aud := e.client()
	aud.login("aud", "aud-password")
	e.addUser("op", "op-password", store.RoleOperator)
	op := e.client()
	op.login("op", "op-password")

	var list struct {
		Items []struct {
			Node      string `json:"node"`
			URL       string `json:"url"`
			Live      bool   `json:"live"`
			Retention struct {
				StandardDays int   `json:"standard_days"`
				KeyDays      int   `json:"key_days"`
				LimitSeconds int64 `json:"limit_seconds"`
			} `json:"retention"`
			Capacity *struct {
				Alarm        bool     `json:"alarm"`
				HeadroomDays *float64 `json:"headroom_days"`
				WarnDays     float64  `json:"warn_days"`
			} `json:"capacity"`
		} `json:"items"`
	}
	r := root.do(http.MethodGet, "/api/v1/recorders", nil)
	mustStatus(t, "none", r, http.StatusOK, "")
	r.json(t, &list)
	if list.Items == nil || len(list.Items) != 0 {
		t.Fatalf("no recorders: %s", r.Body)
	}

	ctx := context.Background()
	db := recordingdb.New(e.st.Store)
	for _, n := range []string{"rec-1", "rec-2"} {
		if err := db.Heartbeat(ctx, recordingdb.Beat{
			Node: n, URL: "http://" + n + ":9090",
			Retention: recordingdb.Retention{StandardDays: 14, KeyDays: 60, Limit: 2 * time.Hour},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// rec-2 stopped beating two minutes ago.
	if _, err := db.Pool.Exec(ctx, `UPDATE recorder_nodes SET heartbeat_at = now() - interval '2 minutes'
WHERE node = 'rec-2'`); err != nil {
		t.Fatal(err)
	}
	state, err := json.Marshal(map[string]any{
		"node": "rec-1", "alarm": true, "headroom_days": 3.5, "warn_days": 7, "free_bytes": 35, "total_bytes": 100,
		"bytes_per_day": 10, "overwrite_oldest": false, "at": time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetCapacity(ctx, "rec-1", state, ""); err != nil {
		t.Fatal(err)
	}

	for name, c := range map[string]*client{"admin": root, "auditor": aud} {
		r := c.do(http.MethodGet, "/api/v1/recorders", nil)
		mustStatus(t, name, r, http.StatusOK, "")
		r.json(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("%s: %s", name, r.Body)
		}
		a, b := list.Items[0], list.Items[1]
		if a.Node != "rec-1" || !a.Live || a.URL != "http://rec-1:9090" || a.Retention.StandardDays != 14 ||
			a.Retention.KeyDays != 60 || a.Retention.LimitSeconds != 7200 || a.Capacity == nil || !a.Capacity.Alarm ||
			a.Capacity.HeadroomDays == nil || *a.Capacity.HeadroomDays != 3.5 || a.Capacity.WarnDays != 7 {
			t.Errorf("%s: rec-1 %s", name, r.Body)
		}
		if b.Node != "rec-2" || b.Live || b.Capacity != nil {
			t.Errorf("%s: rec-2 %s", name, r.Body)
		}
	}

	mustStatus(t, "operator", op.do(http.MethodGet, "/api/v1/recorders", nil), http.StatusForbidden, "forbidden")
	if n := e.actions("op")["access_denied"]; n != 1 {
		t.Errorf("%d access_denied rows of op, want 1", n)
	}
}
