package recordingdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Mode is what a record plan does.
type Mode string

// Record plan modes (record_plans.mode).
const (
	ModeAlways   Mode = "always"
	ModeSchedule Mode = "schedule"
	ModeOff      Mode = "off"
)

// Kinds of record plan rows (record_plans.target_kind), from least to most
// specific, and SourceBuiltin for a plan no row decided.
const (
	KindDefault    = "default"
	KindRegion     = "region"
	KindDepartment = "department"
	KindDevice     = "device"
	KindChannel    = "channel"
	SourceBuiltin  = "builtin"
)

// Defaults are the retention days of a channel no plan row gives them:
// StandardDays for retention class standard, KeyDays for class key
// (recorder config; 30 and 90 by GB/T 33200 §10.2 b).
type Defaults struct {
	StandardDays int
	KeyDays      int
}

func (d Defaults) validate() error {
	if d.StandardDays < 1 || d.KeyDays < 1 {
		return fmt.Errorf("retention defaults %d/%d days: %w", d.StandardDays, d.KeyDays, store.ErrInvalid)
	}
	return nil
}

// Plan is a channel's effective record plan (effective_record_plans).
type Plan struct {
	ChannelID string
	DeviceID  string
	Mode      Mode
	// Schedule is empty unless Mode is ModeSchedule.
	Schedule      Schedule
	RetentionDays int
	// Source is the kind of row that decided Mode and Schedule
	// (KindChannel … KindDefault, or SourceBuiltin), SourceTarget its
	// target.
	Source       string
	SourceTarget string
	// RetentionSource and RetentionTarget name the row that decided
	// RetentionDays (SourceBuiltin: the retention class's default).
	RetentionSource string
	RetentionTarget string
}

// Active reports whether the plan records at at, its schedule read in loc
// (the recorder's time zone).
func (p Plan) Active(at time.Time, loc *time.Location) bool {
	switch p.Mode {
	case ModeAlways:
		return true
	case ModeSchedule:
		return p.Schedule.Active(at, loc)
	default:
		return false
	}
}

const planColumns = `channel_id, device_id, mode, schedule, retention_days, source, source_target,
	retention_source, retention_target`

func scanPlan(row pgx.CollectableRow) (Plan, error) {
	var p Plan
	var sched []byte
	if err := row.Scan(&p.ChannelID, &p.DeviceID, &p.Mode, &sched, &p.RetentionDays, &p.Source, &p.SourceTarget,
		&p.RetentionSource, &p.RetentionTarget); err != nil {
		return p, err
	}
	if err := json.Unmarshal(sched, &p.Schedule); err != nil {
		return p, fmt.Errorf("plan of %s: schedule: %w", p.ChannelID, err)
	}
	return p, nil
}

// EffectivePlans returns the effective plan of every video channel.
func (db *DB) EffectivePlans(ctx context.Context, d Defaults) ([]Plan, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+planColumns+` FROM effective_record_plans($1, $2)`,
		d.StandardDays, d.KeyDays)
	if err != nil {
		return nil, fmt.Errorf("effective record plans: %w", err)
	}
	plans, err := pgx.CollectRows(rows, scanPlan)
	if err != nil {
		return nil, fmt.Errorf("effective record plans: %w", err)
	}
	return plans, nil
}

// EffectivePlan returns the effective plan of one channel, or
// store.ErrNotFound when no video channel has that ID.
func (db *DB) EffectivePlan(ctx context.Context, channel string, d Defaults) (Plan, error) {
	if err := d.validate(); err != nil {
		return Plan{}, err
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+planColumns+` FROM effective_record_plans($1, $2)
WHERE channel_id = $3 ORDER BY device_id LIMIT 1`, d.StandardDays, d.KeyDays, channel)
	if err != nil {
		return Plan{}, fmt.Errorf("effective record plan of %s: %w", channel, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPlan)
	if errors.Is(err, pgx.ErrNoRows) {
		return Plan{}, fmt.Errorf("effective record plan of %s: %w", channel, store.ErrNotFound)
	}
	if err != nil {
		return Plan{}, fmt.Errorf("effective record plan of %s: %w", channel, err)
	}
	return p, nil
}

// zoneName is loc's IANA name, which the database applies; "Local" has
// none.
func zoneName(loc *time.Location) (string, error) {
	if loc == nil {
		return "UTC", nil
	}
	name := loc.String()
	if name == "Local" || name == "" {
		return "", ErrTimeZone
	}
	return name, nil
}
