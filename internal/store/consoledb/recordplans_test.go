package consoledb_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

func TestRecordPlans(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	dept := newDepartment(t, s, 0, "公安局", store.LevelUnit, "")
	days := func(n int) *int { return &n }
	workdays := recordingdb.Schedule{{Days: []int{1, 2, 3, 4, 5}, Start: "08:00", End: "18:00"}}

	for _, tc := range []struct {
		name string
		p    consoledb.RecordPlan
	}{
		{"unknown kind", consoledb.RecordPlan{Kind: "city", Target: "32", Mode: recordingdb.ModeAlways}},
		{"default with target", consoledb.RecordPlan{Kind: recordingdb.KindDefault, Target: "x", Mode: recordingdb.ModeAlways}},
		{"odd region", consoledb.RecordPlan{Kind: recordingdb.KindRegion, Target: "320", Mode: recordingdb.ModeAlways}},
		{"department zero", consoledb.RecordPlan{Kind: recordingdb.KindDepartment, Target: "0", Mode: recordingdb.ModeAlways}},
		{"department padded", consoledb.RecordPlan{Kind: recordingdb.KindDepartment, Target: "0" + strconv.FormatInt(dept.ID, 10), Mode: recordingdb.ModeAlways}},
		{"missing department", consoledb.RecordPlan{Kind: recordingdb.KindDepartment, Target: "99999", Mode: recordingdb.ModeAlways}},
		{"missing device", consoledb.RecordPlan{Kind: recordingdb.KindDevice, Target: "34020000001320000009", Mode: recordingdb.ModeAlways}},
		{"missing channel", consoledb.RecordPlan{Kind: recordingdb.KindChannel, Target: "34020000001310000009", Mode: recordingdb.ModeAlways}},
		{"bad channel id", consoledb.RecordPlan{Kind: recordingdb.KindChannel, Target: "a b", Mode: recordingdb.ModeAlways}},
		{"unknown mode", consoledb.RecordPlan{Kind: recordingdb.KindDefault, Mode: "sometimes"}},
		{"schedule without windows", consoledb.RecordPlan{Kind: recordingdb.KindDefault, Mode: recordingdb.ModeSchedule}},
		{"windows without schedule", consoledb.RecordPlan{Kind: recordingdb.KindDefault, Mode: recordingdb.ModeOff, Schedule: workdays}},
		{"bad window", consoledb.RecordPlan{
			Kind: recordingdb.KindDefault, Mode: recordingdb.ModeSchedule,
			Schedule: recordingdb.Schedule{{Days: []int{9}, Start: "08:00", End: "18:00"}},
		}},
		{"retention 0", consoledb.RecordPlan{Kind: recordingdb.KindDefault, Mode: recordingdb.ModeAlways, RetentionDays: days(0)}},
		{"retention over ten years", consoledb.RecordPlan{Kind: recordingdb.KindDefault, Mode: recordingdb.ModeAlways, RetentionDays: days(3651)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := s.PutRecordPlan(ctx, tc.p, "admin"); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("PutRecordPlan(%+v) = %v, want store.ErrInvalid", tc.p, err)
			}
		})
	}

	target := strconv.FormatInt(dept.ID, 10)
	p := consoledb.RecordPlan{Kind: recordingdb.KindDepartment, Target: target, Mode: recordingdb.ModeSchedule, Schedule: workdays, RetentionDays: days(90)}
	before, after, err := s.PutRecordPlan(ctx, p, "admin")
	if err != nil || before != nil {
		t.Fatalf("first put: before %+v, %v", before, err)
	}
	if after.Mode != recordingdb.ModeSchedule || len(after.Schedule) != 1 || after.Schedule[0].End != "18:00" ||
		*after.RetentionDays != 90 || after.UpdatedBy != "admin" || after.UpdatedAt.IsZero() {
		t.Errorf("stored %+v", after)
	}
	before, after, err = s.PutRecordPlan(ctx, consoledb.RecordPlan{Kind: recordingdb.KindDepartment, Target: target, Mode: recordingdb.ModeOff}, "root")
	if err != nil || before == nil || before.Mode != recordingdb.ModeSchedule || after.Mode != recordingdb.ModeOff ||
		after.RetentionDays != nil || len(after.Schedule) != 0 || after.UpdatedBy != "root" {
		t.Fatalf("replace: before %+v after %+v, %v", before, after, err)
	}
	if _, _, err := s.PutRecordPlan(ctx, consoledb.RecordPlan{Kind: recordingdb.KindRegion, Target: "3205", Mode: recordingdb.ModeAlways}, "root"); err != nil {
		t.Fatalf("a region without cameras yet: %v", err)
	}
	if _, _, err := s.PutRecordPlan(ctx, consoledb.RecordPlan{Kind: recordingdb.KindDefault, Mode: recordingdb.ModeAlways, RetentionDays: days(30)}, "root"); err != nil {
		t.Fatal(err)
	}
	plans, err := s.RecordPlans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, p := range plans {
		kinds = append(kinds, p.Kind)
	}
	if len(kinds) != 3 || kinds[0] != recordingdb.KindDefault || kinds[1] != recordingdb.KindRegion || kinds[2] != recordingdb.KindDepartment {
		t.Errorf("plans by kind %v, want default, region, department", kinds)
	}
	gone, err := s.DeleteRecordPlan(ctx, recordingdb.KindDepartment, target)
	if err != nil || gone.Mode != recordingdb.ModeOff {
		t.Fatalf("delete: %+v, %v", gone, err)
	}
	if _, err := s.DeleteRecordPlan(ctx, recordingdb.KindDepartment, target); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete again: %v, want store.ErrNotFound", err)
	}
}
