package console_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store"
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
		Items []plan `json:"items"`
		Total int    `json:"total"`
	}
	r = root.do(http.MethodGet, "/api/v1/record-plans", nil)
	mustStatus(t, "list", r, http.StatusOK, "")
	r.json(t, &list)
	if list.Total != 2 || list.Items[0].Kind != "default" || list.Items[0].Target != "" ||
		list.Items[1].Mode != "off" || len(list.Items[1].Schedule) != 0 || list.Items[1].RetentionDays != nil {
		t.Errorf("list %s", r.Body)
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
	check("no plan", effective{"always", 30, "builtin", "", "builtin", ""})
	if _, err := e.st.Pool.Exec(context.Background(), `UPDATE channels SET retention_class = 'key' WHERE id = $1`, channelA1); err != nil {
		t.Fatal(err)
	}
	check("key area", effective{"always", 90, "builtin", "", "builtin", ""})
	put("default", "-", map[string]any{"mode": "off", "retention_days": 7})
	check("default", effective{"off", 7, "default", "", "default", ""})
	put("region", "34", map[string]any{"mode": "always", "retention_days": 60})
	put("region", "3402", map[string]any{"mode": "schedule", "schedule": workdays})
	check("region", effective{"schedule", 60, "region", "3402", "region", "34"})
	put("department", staff, map[string]any{"mode": "always"})
	check("department", effective{"always", 60, "department", staff, "region", "34"})
	put("device", deviceA, map[string]any{"mode": "off", "retention_days": 45})
	check("device", effective{"off", 45, "device", deviceA, "device", deviceA})
	put("channel", channelA1, map[string]any{"mode": "always"})
	check("channel", effective{"always", 45, "channel", channelA1, "device", deviceA})
	del("channel", channelA1)
	check("channel plan deleted", effective{"off", 45, "device", deviceA, "device", deviceA})

	// Not seen: the 404 of an unknown channel.
	alice := e.member("alice", store.RoleOperator, "dept-a", "")
	mustStatus(t, "unseen", alice.do(http.MethodGet, "/api/v1/channels/"+channelA1+"/record-plan", nil), http.StatusNotFound, "not_found")
	mustStatus(t, "unknown", alice.do(http.MethodGet, "/api/v1/channels/"+unknownChannel+"/record-plan", nil), http.StatusNotFound, "not_found")
}
