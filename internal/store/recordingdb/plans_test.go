package recordingdb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

var defaults = recordingdb.Defaults{StandardDays: 30, KeyDays: 90}

// Channel IDs of the precedence fixture (type 131: cameras).
const (
	dev1 = "34020000001180000001"
	dev2 = "34020000001180000002"
	chA  = "34020000001310000001" // own channel plan
	chB  = "34020000001310000002" // its device's plan
	chC  = "34020000001310000003" // owned by unit, whose grandparent has a plan
	chD  = "34020000001310000004" // region 340201 → plan of 3402, retention of 34
	chE  = "34020000001310000005" // nothing but the default row
	chK  = "34020000001310000006" // key class, nothing
	chO  = "34020000002150000001" // a business group: not a video channel
)

func exec(t testing.TB, db *recordingdb.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func seedPlans(t *testing.T, db *recordingdb.DB) {
	exec(t, db, `INSERT INTO devices (id) VALUES ($1), ($2)`, dev1, dev2)
	exec(t, db, `INSERT INTO channels (device_id, id, civil_code, retention_class) VALUES
		($1, $3, '', 'standard'), ($1, $4, '', 'standard'), ($2, $5, '11', 'standard'),
		($2, $6, '340201', 'standard'), ($2, $7, '11', 'standard'), ($2, $8, '11', 'key'), ($2, $9, '', 'standard')`,
		dev1, dev2, chA, chB, chC, chD, chE, chK, chO)
	exec(t, db, `INSERT INTO departments (id, parent_id, name) VALUES (1, NULL, 'province'), (2, 1, 'city'), (3, 2, 'unit'), (4, NULL, 'police')`)
	exec(t, db, `INSERT INTO channel_owners (channel_id, department_id) VALUES ($1, 3)`, chC)
	// chD is owned through its region by a department without a plan up
	// its tree; the shorter region's owner has one, but the longest wins.
	exec(t, db, `INSERT INTO region_owners (civil_code, department_id) VALUES ('3402', 4), ('34', 3)`)
	exec(t, db, `INSERT INTO record_plans (target_kind, target, mode, schedule, retention_days) VALUES
		('channel', $1, 'off', '[]', NULL),
		('device', $2, 'schedule', '[{"days":[1,2,3,4,5],"start":"08:00","end":"18:00"}]', 45),
		('department', '1', 'always', '[]', 60),
		('department', '2', 'off', '[]', NULL),
		('region', '34', 'off', '[]', 120),
		('region', '3402', 'schedule', '[{"days":[6,7],"start":"22:00","end":"06:00"}]', NULL),
		('default', '', 'always', '[]', 7)`, chA, dev1)
}

func TestEffectivePlans(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	seedPlans(t, db)
	type want struct {
		mode      recordingdb.Mode
		source    string
		target    string
		days      int
		retSource string
		windows   int
	}
	check := func(t *testing.T, cases map[string]want) {
		t.Helper()
		plans, err := db.EffectivePlans(ctx, defaults)
		if err != nil {
			t.Fatal(err)
		}
		if len(plans) != len(cases) {
			t.Fatalf("%d plans, want %d: %+v", len(plans), len(cases), plans)
		}
		for _, p := range plans {
			w, ok := cases[p.ChannelID]
			if !ok {
				t.Errorf("unexpected plan %+v", p)
				continue
			}
			if p.Mode != w.mode || p.Source != w.source || p.SourceTarget != w.target || p.RetentionDays != w.days ||
				p.RetentionSource != w.retSource || len(p.Schedule) != w.windows {
				t.Errorf("%s: got %+v, want %+v", p.ChannelID, p, w)
			}
			one, err := db.EffectivePlan(ctx, p.ChannelID, defaults)
			if err != nil || one.Mode != p.Mode || one.RetentionDays != p.RetentionDays {
				t.Errorf("%s: EffectivePlan %+v, %v", p.ChannelID, one, err)
			}
		}
	}
	// Retention comes from the channel's own row when it has one, else
	// the next row down that has one: chA's row has none, its device's 45.
	check(t, map[string]want{
		chA: {recordingdb.ModeOff, "channel", chA, 45, "device", 0},
		chB: {recordingdb.ModeSchedule, "device", dev1, 45, "device", 1},
		chC: {recordingdb.ModeOff, "department", "2", 60, "department", 0},
		chD: {recordingdb.ModeSchedule, "region", "3402", 120, "region", 1},
		chE: {recordingdb.ModeAlways, "default", "", 7, "default", 0},
		chK: {recordingdb.ModeAlways, "default", "", 7, "default", 0},
	})

	// Without the default row, the built-in plan: always, 30 or 90 days.
	exec(t, db, `DELETE FROM record_plans WHERE target_kind IN ('default', 'department')`)
	check(t, map[string]want{
		chA: {recordingdb.ModeOff, "channel", chA, 45, "device", 0},
		chB: {recordingdb.ModeSchedule, "device", dev1, 45, "device", 1},
		chC: {recordingdb.ModeAlways, "builtin", "", 30, "builtin", 0},
		chD: {recordingdb.ModeSchedule, "region", "3402", 120, "region", 1},
		chE: {recordingdb.ModeAlways, "builtin", "", 30, "builtin", 0},
		chK: {recordingdb.ModeAlways, "builtin", "", 90, "builtin", 0},
	})

	// A device owner is the owning department when the channel has none.
	exec(t, db, `INSERT INTO record_plans (target_kind, target, mode) VALUES ('department', '3', 'off')`)
	exec(t, db, `INSERT INTO device_owners (device_id, department_id) VALUES ($1, 3)`, dev2)
	plan, err := db.EffectivePlan(ctx, chE, defaults)
	if err != nil || plan.Mode != recordingdb.ModeOff || plan.Source != "department" || plan.SourceTarget != "3" {
		t.Fatalf("device-owned chE: %+v, %v", plan, err)
	}

	if _, err := db.EffectivePlan(ctx, chO, defaults); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("organisation node: %v", err)
	}
	if _, err := db.EffectivePlans(ctx, recordingdb.Defaults{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("zero defaults: %v", err)
	}
}

// The database refuses what ParseSchedule refuses.
func TestPlanChecks(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	for _, tc := range []struct {
		kind, target, mode, schedule string
		ok                           bool
	}{
		{"default", "", "always", `[]`, true},
		{"default", "x", "always", `[]`, false},
		{"region", "3402", "off", `[]`, true},
		{"region", "340", "off", `[]`, false},
		{"department", "12", "off", `[]`, true},
		{"department", "x", "off", `[]`, false},
		{"device", "", "off", `[]`, false},
		{"channel", "c", "schedule", `[]`, false},
		{"channel", "c", "schedule", `[{"days":[1],"start":"08:00","end":"09:00"}]`, true},
		{"channel", "d", "schedule", `[{"days":[8],"start":"08:00","end":"09:00"}]`, false},
		{"channel", "d", "schedule", `[{"days":[1],"start":"24:00","end":"09:00"}]`, false},
		{"channel", "d", "schedule", `[{"days":[1],"start":"08:00","end":"09:00","x":1}]`, false},
		{"channel", "d", "schedule", `[{"days":["1"],"start":"08:00","end":"09:00"}]`, false},
		{"channel", "d", "schedule", `{"days":[1]}`, false},
		{"channel", "d", "sometimes", `[]`, false},
	} {
		_, err := db.Pool.Exec(ctx, `INSERT INTO record_plans (target_kind, target, mode, schedule) VALUES ($1, $2, $3, $4)`,
			tc.kind, tc.target, tc.mode, tc.schedule)
		if (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc, err)
		}
		if !tc.ok && tc.mode == "schedule" {
			if _, perr := recordingdb.ParseSchedule([]byte(tc.schedule)); perr == nil && tc.schedule != `[]` {
				t.Errorf("ParseSchedule accepts %s", tc.schedule)
			}
		}
	}
}

func TestActive(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	night := recordingdb.Schedule{{Days: []int{5}, Start: "22:00", End: "06:00"}} // Friday night
	day := recordingdb.Schedule{{Days: []int{1, 2, 3, 4, 5}, Start: "08:00", End: "18:00"}}
	full := recordingdb.Schedule{{Days: []int{7}, Start: "12:00", End: "12:00"}} // Sunday noon to Monday noon
	// 2026-12-11 is a Friday.
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		name string
		s    recordingdb.Schedule
		at   string
		want bool
	}{
		{"night before start", night, "2026-12-11 21:59", false},
		{"night at start", night, "2026-12-11 22:00", true},
		{"night after midnight", night, "2026-12-12 05:59", true},
		{"night at end", night, "2026-12-12 06:00", false},
		{"night thursday", night, "2026-12-10 23:00", false},
		{"night saturday late", night, "2026-12-12 23:00", false},
		{"friday morning: thursday had none", night, "2026-12-11 01:00", false},
		{"day", day, "2026-12-11 08:00", true},
		{"day end", day, "2026-12-11 18:00", false},
		{"weekend", day, "2026-12-12 10:00", false},
		{"full sunday", full, "2026-12-13 13:00", true},
		{"full monday", full, "2026-12-14 11:59", true},
		{"full monday noon", full, "2026-12-14 12:00", false},
		{"full sunday morning", full, "2026-12-13 11:00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := recordingdb.Plan{Mode: recordingdb.ModeSchedule, Schedule: tc.s}
			if got := p.Active(at(tc.at), sh); got != tc.want {
				t.Fatalf("Active(%s) = %v", tc.at, got)
			}
			// The same instant in UTC: the zone is the plan's, not the caller's.
			if got := p.Active(at(tc.at).UTC(), sh); got != tc.want {
				t.Fatalf("Active(%s UTC) = %v", tc.at, got)
			}
		})
	}
	if !(recordingdb.Plan{Mode: recordingdb.ModeAlways}).Active(time.Time{}, sh) ||
		(recordingdb.Plan{Mode: recordingdb.ModeOff, Schedule: full}).Active(at("2026-12-13 13:00"), sh) {
		t.Fatal("always/off")
	}
}

func TestParseSchedule(t *testing.T) {
	for _, tc := range []struct {
		in      string
		windows int
		ok      bool
	}{
		{``, 0, true},
		{`null`, 0, true},
		{`[]`, 0, true},
		{`[{"days":[1,7],"start":"00:00","end":"23:59"}]`, 1, true},
		{`[{"days":[1],"start":"22:00","end":"06:00"},{"days":[6],"start":"10:00","end":"10:00"}]`, 2, true},
		{`[{"days":[],"start":"00:00","end":"01:00"}]`, 0, false},
		{`[{"days":[0],"start":"00:00","end":"01:00"}]`, 0, false},
		{`[{"days":[1],"start":"0:00","end":"01:00"}]`, 0, false},
		{`[{"days":[1],"start":"00:60","end":"01:00"}]`, 0, false},
		{`[{"days":[1],"start":"00:00","end":"01:00","begin":"x"}]`, 0, false},
		{`[{"days":[1.5],"start":"00:00","end":"01:00"}]`, 0, false},
		{`[] []`, 0, false},
		{`{}`, 0, false},
	} {
		s, err := recordingdb.ParseSchedule([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if err != nil && !errors.Is(err, recordingdb.ErrSchedule) {
			t.Errorf("%s: %v is not ErrSchedule", tc.in, err)
		}
		if err == nil && len(s) != tc.windows {
			t.Errorf("%s: %d windows", tc.in, len(s))
		}
	}
}

// FuzzParseSchedule: whatever the API body, ParseSchedule answers without
// panicking, and what it accepts writes back to JSON it accepts again, and
// the database's check agrees (checked in TestPlanChecks for the edges).
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{
		`[]`, `null`, `[{"days":[1,2],"start":"22:00","end":"06:00"}]`,
		`[{"days":[7],"start":"12:00","end":"12:00"}]`, `[{"days":[8],"start":"x"}]`, `{"a":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := recordingdb.ParseSchedule(b)
		if err != nil {
			return
		}
		out, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		again, err := recordingdb.ParseSchedule(out)
		if err != nil || len(again) != len(s) {
			t.Fatalf("%s → %s: %v", b, out, err)
		}
		s.Active(time.Unix(0, 0), time.UTC)
	})
}
