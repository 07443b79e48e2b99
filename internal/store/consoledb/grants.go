package consoledb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
)

// Kinds of a grant's camera set.
const (
	// ScopeRegion is every channel whose civil code starts with CivilCode.
	ScopeRegion = "region"
	// ScopeDevice is every channel of DeviceID.
	ScopeDevice = "device"
	// ScopeChannels is the channels ChannelIDs.
	ScopeChannels = "channels"
)

// MaxGrantChannels bounds the channel list of one grant.
const MaxGrantChannels = 1000

// GrantScope is the camera set of a grant: the field of its Kind is set.
type GrantScope struct {
	Kind       string
	CivilCode  string
	DeviceID   string
	ChannelIDs []string
}

// Grant gives a department (and its sub-departments), or a superior
// platform, rights on a camera set.
type Grant struct {
	ID           int64
	DepartmentID int64
	// PlatformID is set instead of DepartmentID in a platform's grant.
	PlatformID int64
	Scope      GrantScope
	// Rights are some of catalogview.Rights.
	Rights []string
	// PTZPriority (1–9) ranks PTZ control between users (higher takes over).
	PTZPriority int
	// ValidFrom and ValidUntil bound the grant when set.
	ValidFrom, ValidUntil *time.Time
	// Hours is the daily window "HH:MM-HH:MM" in the console's local time
	// ("20:00-08:00" wraps midnight), or "" for all day.
	Hours     string
	CreatedBy string
	CreatedAt time.Time
}

var (
	civilPrefixPattern = regexp.MustCompile(`^([0-9]{2}){1,5}$`)
	hoursPattern       = regexp.MustCompile(`^(([01][0-9]|2[0-3]):[0-5][0-9])-(([01][0-9]|2[0-3]):[0-5][0-9])$`)
	// gbIDPattern is a GB/T 28181 device or channel ID.
	gbIDPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,64}$`)
)

// DefaultPTZPriority is the priority of a grant that names none.
const DefaultPTZPriority = 5

// OwnerPTZPriority is the PTZ priority of a camera's owning department
// (user_scopes): the owner outranks the users it shares with.
const OwnerPTZPriority = 9

// validGrant checks g and fills the default priority; the error wraps
// store.ErrInvalid and says what is wrong.
func validGrant(g *Grant) (hoursFrom, hoursUntil *string, err error) {
	s := g.Scope
	switch s.Kind {
	case ScopeRegion:
		if !civilPrefixPattern.MatchString(s.CivilCode) || s.DeviceID != "" || len(s.ChannelIDs) > 0 {
			return nil, nil, fmt.Errorf("grant: a region scope needs civil_code (2–10 digits in pairs) and nothing else: %w", store.ErrInvalid)
		}
	case ScopeDevice:
		if !gbIDPattern.MatchString(s.DeviceID) || s.CivilCode != "" || len(s.ChannelIDs) > 0 {
			return nil, nil, fmt.Errorf("grant: a device scope needs device_id and nothing else: %w", store.ErrInvalid)
		}
	case ScopeChannels:
		if len(s.ChannelIDs) == 0 || len(s.ChannelIDs) > MaxGrantChannels || s.CivilCode != "" || s.DeviceID != "" {
			return nil, nil, fmt.Errorf("grant: a channels scope needs 1–%d channel_ids and nothing else: %w", MaxGrantChannels, store.ErrInvalid)
		}
		for _, id := range s.ChannelIDs {
			if !gbIDPattern.MatchString(id) {
				return nil, nil, fmt.Errorf("grant: channel id %q: %w", id, store.ErrInvalid)
			}
		}
	default:
		return nil, nil, fmt.Errorf("grant: scope kind must be region, device or channels, got %q: %w", s.Kind, store.ErrInvalid)
	}
	if len(g.Rights) == 0 {
		return nil, nil, fmt.Errorf("grant: rights are required: %w", store.ErrInvalid)
	}
	for _, r := range g.Rights {
		if !slices.Contains(catalogview.Rights, r) {
			return nil, nil, fmt.Errorf("grant: right %q is not one of %v: %w", r, catalogview.Rights, store.ErrInvalid)
		}
	}
	if g.PTZPriority == 0 {
		g.PTZPriority = DefaultPTZPriority
	}
	if g.PTZPriority < 1 || g.PTZPriority > 9 {
		return nil, nil, fmt.Errorf("grant: ptz_priority must be 1–9, got %d: %w", g.PTZPriority, store.ErrInvalid)
	}
	if g.ValidFrom != nil && g.ValidUntil != nil && !g.ValidUntil.After(*g.ValidFrom) {
		return nil, nil, fmt.Errorf("grant: valid_until must be after valid_from: %w", store.ErrInvalid)
	}
	if g.Hours != "" {
		m := hoursPattern.FindStringSubmatch(g.Hours)
		if m == nil || m[1] == m[3] {
			return nil, nil, fmt.Errorf("grant: hours must be HH:MM-HH:MM with two different times, got %q: %w", g.Hours, store.ErrInvalid)
		}
		hoursFrom, hoursUntil = &m[1], &m[3]
	}
	return hoursFrom, hoursUntil, nil
}

const grantColumns = `id, department_id, scope_kind, civil_code, device_id, channel_ids, rights, ptz_priority,
	valid_from, valid_until,
	COALESCE(to_char(hours_from, 'HH24:MI') || '-' || to_char(hours_until, 'HH24:MI'), ''), created_by, created_at`

func scanGrant(row pgx.Row) (Grant, error) {
	var g Grant
	err := row.Scan(&g.ID, &g.DepartmentID, &g.Scope.Kind, &g.Scope.CivilCode, &g.Scope.DeviceID, &g.Scope.ChannelIDs,
		&g.Rights, &g.PTZPriority, &g.ValidFrom, &g.ValidUntil, &g.Hours, &g.CreatedBy, &g.CreatedAt)
	return g, err
}

// CreateGrant stores g (its ID and CreatedAt are set by the database) and
// returns it. A bad grant is store.ErrInvalid, an unknown department
// store.ErrNotFound.
func (db *DB) CreateGrant(ctx context.Context, g Grant) (Grant, error) {
	from, until, err := validGrant(&g)
	if err != nil {
		return Grant{}, err
	}
	if g.Scope.ChannelIDs == nil {
		g.Scope.ChannelIDs = []string{}
	}
	out, err := scanGrant(db.Pool.QueryRow(ctx, `
INSERT INTO grants (department_id, scope_kind, civil_code, device_id, channel_ids, rights, ptz_priority,
	valid_from, valid_until, hours_from, hours_until, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::time, $11::text::time, $12)
RETURNING `+grantColumns,
		g.DepartmentID, g.Scope.Kind, g.Scope.CivilCode, g.Scope.DeviceID, g.Scope.ChannelIDs, g.Rights, g.PTZPriority,
		g.ValidFrom, g.ValidUntil, from, until, g.CreatedBy))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return Grant{}, fmt.Errorf("grant: department %d: %w", g.DepartmentID, store.ErrNotFound)
	}
	if err != nil {
		return Grant{}, fmt.Errorf("create grant: %w", err)
	}
	return out, nil
}

// ListGrants returns the grants given to department itself (not those it
// inherits), oldest first.
func (db *DB) ListGrants(ctx context.Context, department int64) ([]Grant, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+grantColumns+` FROM grants WHERE department_id = $1 ORDER BY id`, department)
	if err != nil {
		return nil, fmt.Errorf("list grants of department %d: %w", department, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) { return scanGrant(r) })
	if err != nil {
		return nil, fmt.Errorf("list grants of department %d: %w", department, err)
	}
	return out, nil
}

// belowCTE selects the ids of the departments strictly below department
// $root (not root itself) as "below"; root is the placeholder of its id.
func belowCTE(root string) string {
	return `WITH RECURSIVE below AS (
	SELECT id FROM departments WHERE parent_id = ` + root + `
	UNION ALL
	SELECT d.id FROM departments d JOIN below ON d.parent_id = below.id
)`
}

// DeleteGrant deletes grant id and returns what it was, or store.ErrNotFound.
// A root other than 0 (a department admin's department) deletes only a
// grant of a department strictly below it; any other is store.ErrNotFound
// too. Sessions already playing go on; the next token is refused.
func (db *DB) DeleteGrant(ctx context.Context, id, root int64) (Grant, error) {
	g, err := scanGrant(db.Pool.QueryRow(ctx, belowCTE("$2")+`
DELETE FROM grants WHERE id = $1 AND ($2 = 0 OR department_id IN (SELECT id FROM below))
RETURNING `+grantColumns, id, root))
	if errors.Is(err, pgx.ErrNoRows) {
		return Grant{}, fmt.Errorf("grant %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Grant{}, fmt.Errorf("delete grant %d: %w", id, err)
	}
	return g, nil
}

// ShareGrant stores g, a grant made by department admin user whose
// department is root, when the admin may: g's department is strictly below
// root (else store.ErrNotFound, like an unknown one), and for each of g's
// rights a grant or ownership of the admin's department in force at at
// that holds the right and share reaches g's camera set — a region prefix
// within its region, a device through that device, every listed channel —
// with no earlier valid_until than g's, no daily hours other than g's and,
// for ptz, no lower priority (else ErrNotShared). The check and the insert
// are one statement.
func (db *DB) ShareGrant(ctx context.Context, g Grant, user, root int64, at time.Time) (Grant, error) {
	from, until, err := validGrant(&g)
	if err != nil {
		return Grant{}, err
	}
	if g.Scope.ChannelIDs == nil {
		g.Scope.ChannelIDs = []string{}
	}
	var covered string
	switch g.Scope.Kind {
	case ScopeRegion:
		covered = `EXISTS (SELECT 1 FROM src WHERE src.wanted = w.wanted AND src.scope_kind = 'region'
	AND starts_with($3::text, src.civil_code))`
	case ScopeDevice:
		covered = `EXISTS (SELECT 1 FROM src WHERE src.wanted = w.wanted AND src.scope_kind = 'device' AND src.device_id = $4::text)`
	default:
		covered = `NOT EXISTS (SELECT 1 FROM unnest($5::text[]) x (id) WHERE NOT EXISTS (
	SELECT 1 FROM channels c JOIN src ON src.wanted = w.wanted AND ` + catalogview.Covers("src", "c.device_id", "c.id", "c.civil_code") + `
	WHERE c.id = x.id))`
	}
	out, err := scanGrant(db.Pool.QueryRow(ctx, belowCTE("$13::bigint")+`,
src AS (
	SELECT w.wanted, s.* FROM unnest($14::text[]) w (wanted),
		LATERAL user_scopes($15::bigint, 'share', $16::timestamptz, ($17::text)::time) s
	WHERE w.wanted = ANY (s.rights)
	  AND (s.valid_until IS NULL OR $9::timestamptz <= s.valid_until)
	  AND (w.wanted <> 'ptz' OR s.ptz_priority >= $7::smallint)
	  AND (s.hours_from IS NULL OR (s.hours_from = $10::text::time AND s.hours_until = $11::text::time))
)
INSERT INTO grants (department_id, scope_kind, civil_code, device_id, channel_ids, rights, ptz_priority,
	valid_from, valid_until, hours_from, hours_until, created_by)
SELECT $1::bigint, $2::text, $3::text, $4::text, $5::text[], $6::text[], $7::smallint,
	$8::timestamptz, $9::timestamptz, $10::text::time, $11::text::time, $12::text
WHERE $1::bigint IN (SELECT id FROM below)
  AND NOT EXISTS (SELECT 1 FROM unnest($14::text[]) w (wanted) WHERE NOT `+covered+`)
RETURNING `+grantColumns,
		g.DepartmentID, g.Scope.Kind, g.Scope.CivilCode, g.Scope.DeviceID, g.Scope.ChannelIDs, g.Rights, g.PTZPriority,
		g.ValidFrom, g.ValidUntil, from, until, g.CreatedBy,
		root, g.Rights, user, at, at.Format("15:04:05")))
	if errors.Is(err, pgx.ErrNoRows) {
		below, err := db.InSubtree(ctx, root, g.DepartmentID)
		switch {
		case err != nil:
			return Grant{}, err
		case !below || g.DepartmentID == root:
			return Grant{}, fmt.Errorf("grant: department %d is not below yours: %w", g.DepartmentID, store.ErrNotFound)
		}
		return Grant{}, fmt.Errorf("grant of %v to department %d: %w", g.Rights, g.DepartmentID, ErrNotShared)
	}
	if err != nil {
		return Grant{}, fmt.Errorf("share grant: %w", err)
	}
	return out, nil
}

// SetDeviceOwner makes department (0: none) the owner of device's channels.
// An unknown department is store.ErrNotFound.
func (db *DB) SetDeviceOwner(ctx context.Context, device string, department int64, by string) error {
	return db.setOwner(ctx, "device_owners", "device_id", device, department, by)
}

// SetChannelOwner makes department (0: none) the owner of channel,
// whichever device reports it. An unknown department is store.ErrNotFound.
func (db *DB) SetChannelOwner(ctx context.Context, channel string, department int64, by string) error {
	return db.setOwner(ctx, "channel_owners", "channel_id", channel, department, by)
}

// SetRegionOwner makes department (0: none) the owner of every channel
// whose civil code starts with code (2–10 digits in pairs), present and
// future. A bad code is store.ErrInvalid, an unknown department
// store.ErrNotFound.
func (db *DB) SetRegionOwner(ctx context.Context, code string, department int64, by string) error {
	if !civilPrefixPattern.MatchString(code) {
		return fmt.Errorf("region owner: civil code %q is not 2–10 digits in pairs: %w", code, store.ErrInvalid)
	}
	return db.setOwner(ctx, "region_owners", "civil_code", code, department, by)
}

// Kinds of an Ownership.
const (
	OwnedRegion  = "region"
	OwnedDevice  = "device"
	OwnedChannel = "channel"
)

// Ownership is one camera set's owning department (主责单位).
type Ownership struct {
	// Kind is OwnedRegion, OwnedDevice or OwnedChannel; ID the civil-code
	// prefix, device ID or channel ID.
	Kind, ID     string
	DepartmentID int64
	SetBy        string
	SetAt        time.Time
}

// ListOwners returns the ownerships of the departments in the subtree
// under root (root included; 0: all), by kind and ID.
func (db *DB) ListOwners(ctx context.Context, root int64) ([]Ownership, error) {
	rows, err := db.Pool.Query(ctx, subtreeCTE+`
SELECT kind, id, department_id, set_by, set_at FROM (
	SELECT 'region' AS kind, civil_code AS id, department_id, set_by, set_at FROM region_owners
	UNION ALL SELECT 'device', device_id, department_id, set_by, set_at FROM device_owners
	UNION ALL SELECT 'channel', channel_id, department_id, set_by, set_at FROM channel_owners
) o WHERE $1 = 0 OR department_id IN (SELECT id FROM sub)
ORDER BY kind DESC, id`, root)
	if err != nil {
		return nil, fmt.Errorf("list owners: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ownership, error) {
		var o Ownership
		err := r.Scan(&o.Kind, &o.ID, &o.DepartmentID, &o.SetBy, &o.SetAt)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("list owners: %w", err)
	}
	return out, nil
}

// setOwner writes one ownership row; table and key are constants of the callers.
func (db *DB) setOwner(ctx context.Context, table, key, id string, department int64, by string) error {
	var err error
	if department == 0 {
		_, err = db.Pool.Exec(ctx, `DELETE FROM `+table+` WHERE `+key+` = $1`, id)
	} else {
		_, err = db.Pool.Exec(ctx, `INSERT INTO `+table+` (`+key+`, department_id, set_by) VALUES ($1, $2, $3)
ON CONFLICT (`+key+`) DO UPDATE SET department_id = EXCLUDED.department_id, set_by = EXCLUDED.set_by, set_at = now()`,
			id, department, by)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return fmt.Errorf("owner of %s: department %d: %w", id, department, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("set the owner of %s: %w", id, err)
	}
	return nil
}

// Owner returns the department owning channel ch: the channel's own owner,
// else its device's, else the owner of the longest region prefix of its
// civil code, else 0.
func (db *DB) Owner(ctx context.Context, ch store.Channel) (int64, error) {
	var dept int64
	err := db.Pool.QueryRow(ctx, `SELECT COALESCE(
	(SELECT department_id FROM channel_owners WHERE channel_id = $1),
	(SELECT department_id FROM device_owners WHERE device_id = $2),
	(SELECT department_id FROM region_owners WHERE starts_with($3, civil_code) ORDER BY length(civil_code) DESC LIMIT 1),
	0)`, ch.ID, ch.DeviceID, ch.CivilCode).Scan(&dept)
	if err != nil {
		return 0, fmt.Errorf("owner of %s: %w", ch.ID, err)
	}
	return dept, nil
}

// PTZPriority is the highest PTZ priority user has on ch at at through the
// grants and ownerships in force (user_scopes with the ptz right), or 0
// when none gives the ptz right.
func (db *DB) PTZPriority(ctx context.Context, user int64, ch store.Channel, at time.Time) (int, error) {
	prio, err := db.In(catalogview.UserScope(user, "", at)).PTZPriority(ctx, ch)
	if err != nil {
		return 0, fmt.Errorf("user %d: %w", user, err)
	}
	return prio, nil
}
