package console_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

// plan is a record plan as the API answers it.
type plan struct {
	Kind          string `json:"kind"`
	Target        string `json:"target"`
	Mode          string `json:"mode"`
	Schedule      []any  `json:"schedule"`
	RetentionDays *int   `json:"retention_days"`
	UpdatedBy     string `json:"updated_by"`
}

// effective is the answer of GET /channels/{id}/record-plan.
type effective struct {
	Mode            string `json:"mode"`
	RetentionDays   int    `json:"retention_days"`
	Source          string `json:"source"`
	SourceTarget    string `json:"source_target"`
	RetentionSource string `json:"retention_source"`
	RetentionTarget string `json:"retention_target"`
	// RetentionLimitSeconds and RetentionFrom: the live recorders' cap and
	// whose defaults a builtin retention is.
	RetentionLimitSeconds int64  `json:"retention_limit_seconds"`
	RetentionFrom         string `json:"retention_from"`
}

var workdays = []map[string]any{{"days": []int{1, 2, 3, 4, 5}, "start": "08:00", "end": "18:00"}}

func TestRecordPlans(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")
	e.addUser("op", "op-password", store.RoleOperator)
	op := e.client()
	op.login("op", "op-password")
	dept := strconv.FormatInt(e.department("staff"), 10)

	r := root.do(http.MethodPut, "/api/v1/record-plans/channel/"+channelA1, map[string]any{
		"mode": "schedule", "schedule": workdays, "retention_days": 90,
	})
	mustStatus(t, "put", r, http.StatusOK, "")
	var p plan
	r.json(t, &p)
	if p.Kind != "channel" || p.Target != channelA1 || p.Mode != "schedule" || len(p.Schedule) != 1 ||
		p.RetentionDays == nil || *p.RetentionDays != 90 || p.UpdatedBy != "root" {
		t.Errorf("put answered %s", r.Body)
	}
	mustStatus(t, "replace", root.do(http.MethodPut, "/api/v1/record-plans/channel/"+channelA1, map[string]any{"mode": "off"}), http.StatusOK, "")
	mustStatus(t, "default", root.do(http.MethodPut, "/api/v1/record-plans/default/-", map[string]any{"mode": "always", "retention_days": nil}), http.StatusOK, "")
	var list struct {
		Items     []plan         `json:"items"`
		Total     int            `json:"total"`
		Retention map[string]any `json:"retention"`
	}
	r = root.do(http.MethodGet, "/api/v1/record-plans", nil)
	mustStatus(t, "list", r, http.StatusOK, "")
	r.json(t, &list)
	if list.Total != 2 || list.Items[0].Kind != "default" || list.Items[0].Target != "" ||
		list.Items[1].Mode != "off" || len(list.Items[1].Schedule) != 0 || list.Items[1].RetentionDays != nil {
		t.Errorf("list %s", r.Body)
	}
	if want := map[string]any{"standard_days": 30.0, "key_days": 90.0, "limit_seconds": 0.0, "from": "builtin"}; !maps.Equal(list.Retention, want) {
		t.Errorf("list's retention with no recorder live %v, want %v", list.Retention, want)
	}
	if a := e.actions("root"); a["record_plan"] != 3 {
		t.Errorf("audit rows %v, want 3 record_plan", a)
	}
	entries, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Action: "record_plan", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var replaced bool
	for _, en := range entries {
		before, _ := en.Detail["before"].(map[string]any)
		after, _ := en.Detail["after"].(map[string]any)
		if before["mode"] == "schedule" && after["mode"] == "off" {
			replaced = true
		}
	}
	if !replaced {
		t.Errorf("no record_plan row with the plan before (schedule) and after (off): %+v", entries)
	}

	mustStatus(t, "delete", root.do(http.MethodDelete, "/api/v1/record-plans/channel/"+channelA1, nil), http.StatusNoContent, "")
	mustStatus(t, "delete again", root.do(http.MethodDelete, "/api/v1/record-plans/channel/"+channelA1, nil), http.StatusNotFound, "not_found")
	mustStatus(t, "delete default", root.do(http.MethodDelete, "/api/v1/record-plans/default/-", nil), http.StatusNoContent, "")
	if n := e.actions("root")["record_plan_delete"]; n != 2 {
		t.Errorf("%d record_plan_delete rows, want 2", n)
	}

	// Only admins read or write plans.
	mustStatus(t, "operator lists", op.do(http.MethodGet, "/api/v1/record-plans", nil), http.StatusForbidden, "forbidden")
	mustStatus(t, "operator puts", op.do(http.MethodPut, "/api/v1/record-plans/default/-", map[string]any{"mode": "off"}), http.StatusForbidden, "forbidden")
	mustStatus(t, "operator deletes", op.do(http.MethodDelete, "/api/v1/record-plans/default/-", nil), http.StatusForbidden, "forbidden")
	if n := e.actions("op")["access_denied"]; n != 3 {
		t.Errorf("%d access_denied rows of op, want 3", n)
	}

	for _, tc := range []struct {
		name, path string
		body       any
	}{
		{"unknown kind", "/api/v1/record-plans/city/3402", map[string]any{"mode": "always"}},
		{"default with a target", "/api/v1/record-plans/default/3402", map[string]any{"mode": "always"}},
		{"region without a target", "/api/v1/record-plans/region/-", map[string]any{"mode": "always"}},
		{"odd region", "/api/v1/record-plans/region/340", map[string]any{"mode": "always"}},
		{"department not a number", "/api/v1/record-plans/department/staff", map[string]any{"mode": "always"}},
		{"unknown department", "/api/v1/record-plans/department/99999", map[string]any{"mode": "always"}},
		{"unknown device", "/api/v1/record-plans/device/" + unknownDevice, map[string]any{"mode": "always"}},
		{"unknown channel", "/api/v1/record-plans/channel/" + unknownChannel, map[string]any{"mode": "always"}},
		{"no mode", "/api/v1/record-plans/channel/" + channelA1, map[string]any{}},
		{"unknown mode", "/api/v1/record-plans/channel/" + channelA1, map[string]any{"mode": "sometimes"}},
		{"schedule missing", "/api/v1/record-plans/channel/" + channelA1, map[string]any{"mode": "schedule"}},
		{"schedule empty", "/api/v1/record-plans/channel/" + channelA1, map[string]any{"mode": "schedule", "schedule": []any{}}},
		{"schedule for always", "/api/v1/record-plans/channel/" + channelA1, map[string]any{"mode": "always", "schedule": workdays}},
		{"day 0", "/api/v1/record-plans/channel/" + channelA1, map[string]any{
			"mode":     "schedule",
			"schedule": []map[string]any{{"days": []int{0}, "start": "08:00", "end": "18:00"}},
		}},
		{"day 8", "/api/v1/record-plans/channel/" + channelA1, map[string]any{
			"mode":     "schedule",
			"schedule": []map[string]any{{"days": []int{8}, "start": "08:00", "end": "18:00"}},
		}},
		{"no days", "/api/v1/record-plans/channel/" + channelA1, map[string]any{
			"mode":     "schedule",
			"schedule": []map[string]any{{"days": []int{}, "start": "08:00", "end": "18:00"}},
		}},
		{"bad start", "/api/v1/record-plans/channel/" + channelA1, map[string]any{
			"mode":     "schedule",
			"schedule": []map[string]any{{"days": []int{1}, "start": "24:00", "end": "18:00"}},
		}},
		{"bad end", "/api/v1/record-plans/channel/" + channelA1, map[string]any{
			"mode":     "schedule",
			"schedule": []map[string]any{{"days": []int{1}, "start": "08:00", "end": "6pm"}},
		}},
		{"unknown window key", "/api/v1/record-plans/channel/" + channelA1, map[string]any{
			"mode":     "schedule",
			"schedule": []map[string]any{{"days": []int{1}, "begin": "08:00", "end": "18:00"}},
		}},
		{"schedule not a list", "/api/v1/record-plans/channel/" + channelA1, map[string]any{"mode": "schedule", "schedule": "weekdays"}},
		{"retention 0", "/api/v1/record-plans/channel/" + channelA1, map[string]any{"mode": "always", "retention_days": 0}},
		{"retention 3651", "/api/v1/record-plans/channel/" + channelA1, map[string]any{"mode": "always", "retention_days": 3651}},
		{"retention not a number", "/api/v1/record-plans/channel/" + channelA1, map[string]any{"mode": "always", "retention_days": "30"}},
		{"unknown field", "/api/v1/record-plans/channel/" + channelA1, map[string]any{"mode": "always", "keep": 30}},
		{"not JSON", "/api/v1/record-plans/channel/" + channelA1, "mode=always"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustStatus(t, tc.name, root.do(http.MethodPut, tc.path, tc.body), http.StatusBadRequest, "bad_request")
		})
	}
	mustStatus(t, "department plan", root.do(http.MethodPut, "/api/v1/record-plans/department/"+dept, map[string]any{"mode": "always"}), http.StatusOK, "")
	mustStatus(t, "future region", root.do(http.MethodPut, "/api/v1/record-plans/region/5101", map[string]any{"mode": "off"}), http.StatusOK, "")
}

// TestEffectiveRecordPlan shows the precedence of plans on a channel:
// channel > device > owning department > region > default > built in, the
// retention from the most specific plan that sets one, else the channel's
// retention class.
func TestEffectiveRecordPlan(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")
	e.addUser("op", "op-password", store.RoleOperator) // in "staff", which owns both devices
	op := e.client()
	op.login("op", "op-password")
	staff := strconv.FormatInt(e.department("staff"), 10)
	put := func(kind, target string, body map[string]any) {
		t.Helper()
		mustStatus(t, "put "+kind, root.do(http.MethodPut, "/api/v1/record-plans/"+kind+"/"+target, body), http.StatusOK, "")
	}
	del := func(kind, target string) {
		t.Helper()
		mustStatus(t, "delete "+kind, root.do(http.MethodDelete, "/api/v1/record-plans/"+kind+"/"+target, nil), http.StatusNoContent, "")
	}
	check := func(step string, want effective) {
		t.Helper()
		var got effective
		r := op.do(http.MethodGet, "/api/v1/channels/"+channelA1+"/record-plan", nil)
		mustStatus(t, step, r, http.StatusOK, "")
		r.json(t, &got)
		if got != want {
			t.Errorf("%s: effective plan %+v, want %+v", step, got, want)
		}
	}
	// channelA1's civil code is 34020101; device A is owned by staff.
	check("no plan", effective{"always", 30, "builtin", "", "builtin", "", 0, "builtin"})
	if _, err := e.st.Pool.Exec(context.Background(), `UPDATE channels SET retention_class = 'key' WHERE id = $1`, channelA1); err != nil {
		t.Fatal(err)
	}
	check("key area", effective{"always", 90, "builtin", "", "builtin", "", 0, "builtin"})

	// A live recorder's retention settings replace the built-in ones, and
	// its cap shows; the plan editor's list says the same.
	recorders := recordingdb.New(e.st.Store)
	if err := recorders.Heartbeat(context.Background(), recordingdb.Beat{
		Node: "rec-1", URL: "http://rec-1:8090", Started: true,
		Retention: recordingdb.Retention{StandardDays: 14, KeyDays: 60, Limit: 2 * time.Hour},
	}); err != nil {
		t.Fatal(err)
	}
	check("key area, live recorder", effective{"always", 60, "builtin", "", "builtin", "", 7200, "recorder"})
	var list struct {
		Retention map[string]any `json:"retention"`
	}
	r := root.do(http.MethodGet, "/api/v1/record-plans", nil)
	mustStatus(t, "list", r, http.StatusOK, "")
	r.json(t, &list)
	if want := map[string]any{"standard_days": 14.0, "key_days": 60.0, "limit_seconds": 7200.0, "from": "recorder"}; !maps.Equal(list.Retention, want) {
		t.Errorf("list's retention with a live recorder %v, want %v", list.Retention, want)
	}
	put("default", "-", map[string]any{"mode": "off", "retention_days": 7})
	check("default", effective{"off", 7, "default", "", "default", "", 7200, "recorder"})
	put("region", "34", map[string]any{"mode": "always", "retention_days": 60})
	put("region", "3402", map[string]any{"mode": "schedule", "schedule": workdays})
	check("region", effective{"schedule", 60, "region", "3402", "region", "34", 7200, "recorder"})
	put("department", staff, map[string]any{"mode": "always"})
	check("department", effective{"always", 60, "department", staff, "region", "34", 7200, "recorder"})
	put("device", deviceA, map[string]any{"mode": "off", "retention_days": 45})
	check("device", effective{"off", 45, "device", deviceA, "device", deviceA, 7200, "recorder"})
	put("channel", channelA1, map[string]any{"mode": "always"})
	check("channel", effective{"always", 45, "channel", channelA1, "device", deviceA, 7200, "recorder"})
	del("channel", channelA1)
	check("channel plan deleted", effective{"off", 45, "device", deviceA, "device", deviceA, 7200, "recorder"})

	// A recorder whose heartbeat is older than the console's window is not
	// live: back to the built-in defaults.
	if _, err := e.st.Pool.Exec(context.Background(), `UPDATE recorder_nodes SET heartbeat_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	del("device", deviceA)
	del("region", "34")
	del("default", "-")
	check("recorder gone", effective{"always", 90, "department", staff, "builtin", "", 0, "builtin"})

	// Not seen: the 404 of an unknown channel.
	alice := e.member("alice", store.RoleOperator, "dept-a", "")
	mustStatus(t, "unseen", alice.do(http.MethodGet, "/api/v1/channels/"+channelA1+"/record-plan", nil), http.StatusNotFound, "not_found")
	mustStatus(t, "unknown", alice.do(http.MethodGet, "/api/v1/channels/"+unknownChannel+"/record-plan", nil), http.StatusNotFound, "not_found")
}

// BenchmarkEffectivePlan answers one channel's effective plan, as GET
// /channels/{id}/record-plan does, from a catalog of 30 000 channels on 300
// devices in 30 regions with region, department and channel plans and
// device owners (the shape of recordingdb's BenchmarkEffectivePlans). It
// logs the plan of the statement: the filter on channel_id should reach
// the channels table (an index scan), not filter all 30 000 plans.
func BenchmarkEffectivePlan(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b, pgtest.NewDB(b), 4)
	for _, sql := range []string{
		`INSERT INTO devices (id) SELECT '340200000011800' || lpad(d::text, 5, '0') FROM generate_series(1, 300) d`,
		`INSERT INTO channels (device_id, id, civil_code, retention_class)
SELECT '340200000011800' || lpad((c % 300 + 1)::text, 5, '0'), '340200000013100' || lpad(c::text, 5, '0'),
	'3402' || lpad((c % 30)::text, 2, '0'), CASE WHEN c % 10 = 0 THEN 'key' ELSE 'standard' END
FROM generate_series(1, 30000) c`,
		`INSERT INTO departments (id, parent_id, name)
SELECT d, CASE WHEN d = 1 THEN NULL ELSE (d - 2) / 5 + 1 END, 'd' || d FROM generate_series(1, 100) d`,
		`INSERT INTO device_owners (device_id, department_id)
SELECT '340200000011800' || lpad(d::text, 5, '0'), d % 100 + 1 FROM generate_series(1, 300, 2) d`,
		`INSERT INTO record_plans (target_kind, target, mode, retention_days) VALUES ('default', '', 'always', NULL)`,
		`INSERT INTO record_plans (target_kind, target, mode, retention_days)
SELECT 'region', '3402' || lpad(r::text, 2, '0'), 'off', 60 FROM generate_series(0, 29, 3) r`,
		`INSERT INTO record_plans (target_kind, target, mode, retention_days)
SELECT 'department', d::text, 'always', 90 FROM generate_series(1, 100, 7) d`,
		`INSERT INTO record_plans (target_kind, target, mode, retention_days)
SELECT 'channel', '340200000013100' || lpad(c::text, 5, '0'), 'always', NULL FROM generate_series(1, 30000, 100) c`,
		`ANALYZE`,
	} {
		if _, err := st.Pool.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	db := recordingdb.New(st)
	d := recordingdb.Defaults{StandardDays: 30, KeyDays: 90}
	rows, err := st.Pool.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM effective_record_plans($1, $2)
WHERE channel_id = $3 ORDER BY device_id LIMIT 1`, d.StandardDays, d.KeyDays, "34020000001310012345")
	if err != nil {
		b.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("EXPLAIN ANALYZE of one channel's plan:\n%s", strings.Join(lines, "\n"))
	n := 0
	for b.Loop() {
		n++
		ch := fmt.Sprintf("340200000013100%05d", 1+n%30000)
		if p, err := db.EffectivePlan(ctx, ch, d); err != nil || p.ChannelID != ch {
			b.Fatalf("%s: %+v, %v", ch, p, err)
		}
	}
}
