package consoledb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// MaxRetentionDays bounds a plan's retention: ten years.
const MaxRetentionDays = 3650

// RecordPlan is a row of record_plans: how the channels under a target are
// recorded and for how long. The console is the table's only writer.
type RecordPlan struct {
	// Kind is the target's kind (recordingdb.KindDefault … KindChannel).
	Kind string
	// Target is "" for the default row, a civil-code prefix, a department
	// id, a device id or a channel id.
	Target string
	// Mode is what the plan does: always, on Schedule, or off.
	Mode recordingdb.Mode
	// Schedule is the weekly template of recordingdb.ModeSchedule, empty
	// for the other modes.
	Schedule recordingdb.Schedule
	// RetentionDays is nil when the row inherits the retention.
	RetentionDays *int
	UpdatedAt     time.Time
	UpdatedBy     string
}

// idPattern is a device or channel id as the console accepts it in a path.
var idPattern = regexp.MustCompile(`^[0-9A-Za-z_.-]{1,64}$`)

// regionPattern is a region's civil-code prefix: 2–10 digits in pairs.
var regionPattern = regexp.MustCompile(`^([0-9]{2}){1,5}$`)

// validPlan checks p's target, mode, schedule and retention (store.ErrInvalid).
func validPlan(p RecordPlan) error {
	what := fmt.Sprintf("record plan %s %q", p.Kind, p.Target)
	switch p.Kind {
	case recordingdb.KindDefault:
		if p.Target != "" {
			return fmt.Errorf("%s: the default plan has no target: %w", what, store.ErrInvalid)
		}
	case recordingdb.KindRegion:
		if !regionPattern.MatchString(p.Target) {
			return fmt.Errorf("%s: a region is a civil code of 2–10 digits in pairs: %w", what, store.ErrInvalid)
		}
	case recordingdb.KindDepartment:
		if id, err := strconv.ParseInt(p.Target, 10, 64); err != nil || id <= 0 || strconv.FormatInt(id, 10) != p.Target {
			return fmt.Errorf("%s: a department is its numeric id: %w", what, store.ErrInvalid)
		}
	case recordingdb.KindDevice, recordingdb.KindChannel:
		if !idPattern.MatchString(p.Target) {
			return fmt.Errorf("%s: bad %s id: %w", what, p.Kind, store.ErrInvalid)
		}
	default:
		return fmt.Errorf("record plan: kind %q is not default, region, department, device or channel: %w", p.Kind, store.ErrInvalid)
	}
	switch p.Mode {
	case recordingdb.ModeAlways, recordingdb.ModeOff:
		if len(p.Schedule) > 0 {
			return fmt.Errorf("%s: a schedule is only for mode schedule: %w", what, store.ErrInvalid)
		}
	case recordingdb.ModeSchedule:
		if len(p.Schedule) == 0 {
			return fmt.Errorf("%s: mode schedule needs a schedule: %w", what, store.ErrInvalid)
		}
		if err := p.Schedule.Validate(); err != nil {
			return fmt.Errorf("%s: %w: %w", what, err, store.ErrInvalid)
		}
	default:
		return fmt.Errorf("%s: mode %q is not always, schedule or off: %w", what, p.Mode, store.ErrInvalid)
	}
	if r := p.RetentionDays; r != nil && (*r < 1 || *r > MaxRetentionDays) {
		return fmt.Errorf("%s: retention %d days is not 1–%d: %w", what, *r, MaxRetentionDays, store.ErrInvalid)
	}
	return nil
}

const recordPlanColumns = `target_kind, target, mode, schedule, retention_days, updated_at, updated_by`

func scanRecordPlan(row pgx.Row) (RecordPlan, error) {
	var p RecordPlan
	err := row.Scan(&p.Kind, &p.Target, &p.Mode, &p.Schedule, &p.RetentionDays, &p.UpdatedAt, &p.UpdatedBy)
	return p, err
}

// RecordPlans returns every record plan, by kind from the least specific
// (default) to the most (channel), then by target.
func (s *DB) RecordPlans(ctx context.Context) ([]RecordPlan, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+recordPlanColumns+` FROM record_plans
ORDER BY array_position(ARRAY['default','region','department','device','channel'], target_kind), target`)
	if err != nil {
		return nil, fmt.Errorf("list record plans: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RecordPlan, error) { return scanRecordPlan(r) })
	if err != nil {
		return nil, fmt.Errorf("list record plans: %w", err)
	}
	return out, nil
}

// targetExists are the queries that find a plan's target, by kind. A
// region needs none: it covers its future cameras too.
var targetExists = map[string]string{
	recordingdb.KindDepartment: `SELECT EXISTS (SELECT 1 FROM departments WHERE id = $1::bigint)`,
	recordingdb.KindDevice:     `SELECT EXISTS (SELECT 1 FROM devices WHERE id = $1)`,
	recordingdb.KindChannel:    `SELECT EXISTS (SELECT 1 FROM channels WHERE id = $1)`,
}

// PutRecordPlan writes p (by user by) over any plan of its target and
// returns the plan it replaced (nil: none) and the stored one. The target
// must exist — a department, device or channel of the catalog — except a
// region, whose cameras may come later (store.ErrInvalid otherwise).
func (s *DB) PutRecordPlan(ctx context.Context, p RecordPlan, by string) (before *RecordPlan, after RecordPlan, err error) {
	if err := validPlan(p); err != nil {
		return nil, RecordPlan{}, err
	}
	if p.Schedule == nil {
		// pgx writes a nil slice as NULL; the column wants [].
		p.Schedule = recordingdb.Schedule{}
	}
	what := fmt.Sprintf("put record plan %s %q", p.Kind, p.Target)
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if q, ok := targetExists[p.Kind]; ok {
			var exists bool
			if err := tx.QueryRow(ctx, q, p.Target).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return fmt.Errorf("record plan: no %s %s: %w", p.Kind, p.Target, store.ErrInvalid)
			}
		}
		old, err := scanRecordPlan(tx.QueryRow(ctx, `SELECT `+recordPlanColumns+` FROM record_plans
WHERE target_kind = $1 AND target = $2 FOR UPDATE`, p.Kind, p.Target))
		switch {
		case err == nil:
			before = &old
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		after, err = scanRecordPlan(tx.QueryRow(ctx, `
INSERT INTO record_plans (target_kind, target, mode, schedule, retention_days, updated_at, updated_by)
VALUES ($1, $2, $3, $4, $5, now(), $6)
ON CONFLICT (target_kind, target) DO UPDATE SET mode = EXCLUDED.mode, schedule = EXCLUDED.schedule,
	retention_days = EXCLUDED.retention_days, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
RETURNING `+recordPlanColumns, p.Kind, p.Target, p.Mode, p.Schedule, p.RetentionDays, by))
		return err
	})
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, store.ErrInvalid):
		return nil, RecordPlan{}, err
	case errors.As(err, &pgErr) && (pgErr.Code == "23514" || pgErr.Code == "22P02"):
		// The table's own checks (record_schedule_valid, the target's shape)
		// behind ours: still the caller's bad input.
		return nil, RecordPlan{}, fmt.Errorf("%s: %s: %w", what, pgErr.Message, store.ErrInvalid)
	case err != nil:
		return nil, RecordPlan{}, fmt.Errorf("%s: %w", what, err)
	}
	return before, after, nil
}

// DeleteRecordPlan removes the plan of kind and target and returns it:
// store.ErrNotFound when there is none. The target's cameras then follow
// the next plan up.
func (s *DB) DeleteRecordPlan(ctx context.Context, kind, target string) (RecordPlan, error) {
	p, err := scanRecordPlan(s.Pool.QueryRow(ctx, `DELETE FROM record_plans WHERE target_kind = $1 AND target = $2
RETURNING `+recordPlanColumns, kind, target))
	if errors.Is(err, pgx.ErrNoRows) {
		return RecordPlan{}, fmt.Errorf("record plan %s %q: %w", kind, target, store.ErrNotFound)
	}
	if err != nil {
		return RecordPlan{}, fmt.Errorf("delete record plan %s %q: %w", kind, target, err)
	}
	return p, nil
}
