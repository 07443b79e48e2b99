package consoledb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/cascadeview"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
)

var (
	sipIDPattern  = regexp.MustCompile(`^[0-9]{20}$`)
	domainPattern = regexp.MustCompile(`^[0-9A-Za-z.-]{1,64}$`)
)

// PlatformRights are the rights a grant may give a superior platform:
// share (onward grants) is a department admin's right, not a platform's.
var PlatformRights = []string{
	catalogview.RightLive, catalogview.RightPlayback, catalogview.RightDownload,
	catalogview.RightPTZ, catalogview.RightLocation,
}

// ValidPlatform checks the configuration of p and fills the defaults of
// what it leaves zero; the error wraps store.ErrInvalid and names the field.
func ValidPlatform(p *cascadeview.Platform) error {
	if p.Transport == "" {
		p.Transport = "udp"
	}
	if p.GBVersion == "" {
		p.GBVersion = "2016"
	}
	if p.Charset == "" {
		p.Charset = "GB2312"
	}
	if p.Expires == 0 {
		p.Expires = 3600
	}
	if p.KeepaliveInterval == 0 {
		p.KeepaliveInterval = 60
	}
	if p.KeepaliveCount == 0 {
		p.KeepaliveCount = 3
	}
	if p.Domain == "" && len(p.ServerID) >= 10 {
		p.Domain = p.ServerID[:10]
	}
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("platform: %s: %s: %w", field, fmt.Sprintf(format, a...), store.ErrInvalid)
	}
	switch {
	case p.Name == "" || len(p.Name) > 128:
		return bad("name", "1–128 bytes")
	case !sipIDPattern.MatchString(p.ServerID):
		return bad("server_id", "20 digits, got %q", p.ServerID)
	case !domainPattern.MatchString(p.Domain):
		return bad("domain", "letters, digits, dots and dashes, got %q", p.Domain)
	case p.Host == "" || len(p.Host) > 255:
		return bad("host", "a host name or IP address")
	case p.Port < 1 || p.Port > 65535:
		return bad("port", "1–65535, got %d", p.Port)
	case p.Transport != "udp" && p.Transport != "tcp":
		return bad("transport", "udp or tcp, got %q", p.Transport)
	case p.LocalID != "" && !sipIDPattern.MatchString(p.LocalID):
		return bad("local_id", "20 digits or empty (our own ID), got %q", p.LocalID)
	case p.GBVersion != "2016" && p.GBVersion != "2022":
		return bad("gb_version", "2016 or 2022, got %q", p.GBVersion)
	case p.Charset != "GB2312" && p.Charset != "UTF-8":
		return bad("charset", "GB2312 or UTF-8, got %q", p.Charset)
	case p.Expires < 60 || p.Expires > 86400:
		return bad("expires", "60–86400 seconds, got %d", p.Expires)
	case p.KeepaliveInterval < 5 || p.KeepaliveInterval > 3600:
		return bad("keepalive_interval", "5–3600 seconds, got %d", p.KeepaliveInterval)
	case p.KeepaliveCount < 1 || p.KeepaliveCount > 100:
		return bad("keepalive_count", "1–100, got %d", p.KeepaliveCount)
	}
	return nil
}

// platformConflict maps the unique (server_id, host, port) violation.
func platformConflict(p cascadeview.Platform, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("platform %s at %s:%d exists already: %w", p.ServerID, p.Host, p.Port, store.ErrExists)
	}
	return err
}

// CreatePlatform stores a superior platform (ValidPlatform first) and
// returns it as stored; the sipserver starts its link at once.
func (db *DB) CreatePlatform(ctx context.Context, p cascadeview.Platform) (cascadeview.Platform, error) {
	if err := ValidPlatform(&p); err != nil {
		return cascadeview.Platform{}, err
	}
	var id int64
	err := db.Pool.QueryRow(ctx, `INSERT INTO cascade_platforms (name, server_id, domain, host, port, transport,
	password, local_id, gb_version, charset, expires, keepalive_interval, keepalive_count, enabled, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		p.Name, p.ServerID, p.Domain, p.Host, p.Port, p.Transport, p.Password, p.LocalID, p.GBVersion, p.Charset,
		p.Expires, p.KeepaliveInterval, p.KeepaliveCount, p.Enabled, p.CreatedBy).Scan(&id)
	if err != nil {
		return cascadeview.Platform{}, fmt.Errorf("create platform: %w", platformConflict(p, err))
	}
	return cascadeview.New(db.Store).Platform(ctx, id)
}

// UpdatePlatform replaces the configuration of platform p.ID (ValidPlatform
// first) and returns it; an unknown one is store.ErrNotFound.
func (db *DB) UpdatePlatform(ctx context.Context, p cascadeview.Platform) (cascadeview.Platform, error) {
	if err := ValidPlatform(&p); err != nil {
		return cascadeview.Platform{}, err
	}
	tag, err := db.Pool.Exec(ctx, `UPDATE cascade_platforms SET name = $2, server_id = $3, domain = $4, host = $5,
	port = $6, transport = $7, password = $8, local_id = $9, gb_version = $10, charset = $11, expires = $12,
	keepalive_interval = $13, keepalive_count = $14, enabled = $15, updated_at = now() WHERE id = $1`,
		p.ID, p.Name, p.ServerID, p.Domain, p.Host, p.Port, p.Transport, p.Password, p.LocalID, p.GBVersion, p.Charset,
		p.Expires, p.KeepaliveInterval, p.KeepaliveCount, p.Enabled)
	if err != nil {
		return cascadeview.Platform{}, fmt.Errorf("update platform %d: %w", p.ID, platformConflict(p, err))
	}
	if tag.RowsAffected() == 0 {
		return cascadeview.Platform{}, fmt.Errorf("platform %d: %w", p.ID, store.ErrNotFound)
	}
	return cascadeview.New(db.Store).Platform(ctx, p.ID)
}

// DeletePlatform deletes platform id with its grants and link state and
// returns what it was; the sipserver unregisters from it.
func (db *DB) DeletePlatform(ctx context.Context, id int64) (cascadeview.Platform, error) {
	p, err := cascadeview.ScanPlatform(db.Pool.QueryRow(ctx, `WITH d AS (DELETE FROM cascade_platforms WHERE id = $1 RETURNING *)
SELECT `+cascadeview.Columns+` FROM d p LEFT JOIN cascade_platform_status s ON s.platform_id = p.id`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return cascadeview.Platform{}, fmt.Errorf("platform %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return cascadeview.Platform{}, fmt.Errorf("delete platform %d: %w", id, err)
	}
	return p, nil
}

const platformGrantColumns = `id, platform_id, scope_kind, civil_code, device_id, channel_ids, rights, ptz_priority,
	valid_from, valid_until,
	COALESCE(to_char(hours_from, 'HH24:MI') || '-' || to_char(hours_until, 'HH24:MI'), ''), created_by, created_at`

func scanPlatformGrant(row pgx.Row) (Grant, error) {
	var g Grant
	err := row.Scan(&g.ID, &g.PlatformID, &g.Scope.Kind, &g.Scope.CivilCode, &g.Scope.DeviceID, &g.Scope.ChannelIDs,
		&g.Rights, &g.PTZPriority, &g.ValidFrom, &g.ValidUntil, &g.Hours, &g.CreatedBy, &g.CreatedAt)
	return g, err
}

// CreatePlatformGrant stores g, a grant to superior platform g.PlatformID,
// checked like a department's grant but for its rights (PlatformRights).
// An unknown platform is store.ErrNotFound.
func (db *DB) CreatePlatformGrant(ctx context.Context, g Grant) (Grant, error) {
	from, until, err := validGrant(&g)
	if err != nil {
		return Grant{}, err
	}
	for _, r := range g.Rights {
		if !slices.Contains(PlatformRights, r) {
			return Grant{}, fmt.Errorf("grant: right %q cannot be given to a platform (one of %v): %w", r, PlatformRights, store.ErrInvalid)
		}
	}
	if g.Scope.ChannelIDs == nil {
		g.Scope.ChannelIDs = []string{}
	}
	out, err := scanPlatformGrant(db.Pool.QueryRow(ctx, `
INSERT INTO platform_grants (platform_id, scope_kind, civil_code, device_id, channel_ids, rights, ptz_priority,
	valid_from, valid_until, hours_from, hours_until, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::time, $11::text::time, $12)
RETURNING `+platformGrantColumns,
		g.PlatformID, g.Scope.Kind, g.Scope.CivilCode, g.Scope.DeviceID, g.Scope.ChannelIDs, g.Rights, g.PTZPriority,
		g.ValidFrom, g.ValidUntil, from, until, g.CreatedBy))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return Grant{}, fmt.Errorf("grant: platform %d: %w", g.PlatformID, store.ErrNotFound)
	}
	if err != nil {
		return Grant{}, fmt.Errorf("create platform grant: %w", err)
	}
	return out, nil
}

// ListPlatformGrants returns the grants of platform, oldest first.
func (db *DB) ListPlatformGrants(ctx context.Context, platform int64) ([]Grant, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+platformGrantColumns+` FROM platform_grants WHERE platform_id = $1 ORDER BY id`, platform)
	if err != nil {
		return nil, fmt.Errorf("list grants of platform %d: %w", platform, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) { return scanPlatformGrant(r) })
	if err != nil {
		return nil, fmt.Errorf("list grants of platform %d: %w", platform, err)
	}
	return out, nil
}

// DeletePlatformGrant deletes platform grant id and returns what it was,
// or store.ErrNotFound.
func (db *DB) DeletePlatformGrant(ctx context.Context, id int64) (Grant, error) {
	g, err := scanPlatformGrant(db.Pool.QueryRow(ctx, `DELETE FROM platform_grants WHERE id = $1 RETURNING `+platformGrantColumns, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Grant{}, fmt.Errorf("platform grant %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Grant{}, fmt.Errorf("delete platform grant %d: %w", id, err)
	}
	return g, nil
}

// ExposedName is the ID (and name) a superior platform knows one of our
// channels by.
type ExposedName = cascadeview.ExposedName

// maxExposedNames bounds one platform's renumbering.
const maxExposedNames = 100_000

// PlatformNames returns platform's exposed IDs and names, by channel ID;
// an unknown platform is store.ErrNotFound.
func (db *DB) PlatformNames(ctx context.Context, platform int64) ([]ExposedName, error) {
	if err := db.platformExists(ctx, platform); err != nil {
		return nil, err
	}
	return cascadeview.New(db.Store).Names(ctx, platform)
}

func (db *DB) platformExists(ctx context.Context, platform int64) error {
	var ok bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM cascade_platforms WHERE id = $1)`, platform).Scan(&ok); err != nil {
		return fmt.Errorf("platform %d: %w", platform, err)
	}
	if !ok {
		return fmt.Errorf("platform %d: %w", platform, store.ErrNotFound)
	}
	return nil
}

// ValidNames checks a platform's renumbering: channel IDs of 1–64 bytes,
// exposed IDs of 20 digits, names of at most 128 bytes of UTF-8, no channel
// and no exposed ID twice; the error wraps store.ErrInvalid and names the
// entry.
func ValidNames(names []ExposedName) error {
	if len(names) > maxExposedNames {
		return fmt.Errorf("names: %d entries, at most %d: %w", len(names), maxExposedNames, store.ErrInvalid)
	}
	channels := make(map[string]bool, len(names))
	exposed := make(map[string]bool, len(names))
	for i, n := range names {
		switch {
		case n.ChannelID == "" || len(n.ChannelID) > 64:
			return fmt.Errorf("names[%d]: channel_id must be 1–64 bytes: %w", i, store.ErrInvalid)
		case !sipIDPattern.MatchString(n.ExposedID):
			return fmt.Errorf("names[%d]: exposed_id %q must be 20 digits: %w", i, n.ExposedID, store.ErrInvalid)
		case utf8.RuneCountInString(n.Name) > 128 || !utf8.ValidString(n.Name):
			return fmt.Errorf("names[%d]: name must be at most 128 characters of UTF-8: %w", i, store.ErrInvalid)
		case channels[n.ChannelID]:
			return fmt.Errorf("names[%d]: channel %s named twice: %w", i, n.ChannelID, store.ErrInvalid)
		case exposed[n.ExposedID]:
			return fmt.Errorf("names[%d]: exposed_id %s given twice: %w", i, n.ExposedID, store.ErrInvalid)
		}
		channels[n.ChannelID], exposed[n.ExposedID] = true, true
	}
	return nil
}

// SetPlatformNames replaces platform's renumbering with names (checked by
// ValidNames) in one transaction; an unknown platform is store.ErrNotFound.
func (db *DB) SetPlatformNames(ctx context.Context, platform int64, names []ExposedName) error {
	if err := ValidNames(names); err != nil {
		return err
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("set names of platform %d: %w", platform, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	serverID, localID, err := lockPlatform(ctx, tx, platform)
	if err != nil {
		return fmt.Errorf("set names: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM platform_channel_names WHERE platform_id = $1`, platform); err != nil {
		return fmt.Errorf("set names of platform %d: %w", platform, err)
	}
	chans, exposed, named := make([]string, len(names)), make([]string, len(names)), make([]string, len(names))
	for i, n := range names {
		chans[i], exposed[i], named[i] = n.ChannelID, n.ExposedID, n.Name
		if n.ExposedID == serverID || n.ExposedID == localID {
			return fmt.Errorf("names[%d]: exposed_id %s is the platform's or our own SIP ID: %w", i, n.ExposedID, store.ErrInvalid)
		}
	}
	// An exposed ID that is another channel's own ID (one not renumbered)
	// would show two channels by one ID.
	var clash string
	err = tx.QueryRow(ctx, `SELECT id FROM channels WHERE id = ANY ($1::text[]) AND NOT id = ANY ($2::text[])
UNION ALL SELECT group_id FROM platform_groups WHERE platform_id = $3 AND group_id = ANY ($1::text[]) LIMIT 1`,
		exposed, chans, platform).Scan(&clash)
	switch {
	case err == nil:
		return fmt.Errorf("names: exposed_id %s is the ID of one of our channels that is not renumbered, "+
			"or of a group of the platform's virtual organisation: %w", clash, store.ErrInvalid)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("set names of platform %d: %w", platform, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO platform_channel_names (platform_id, channel_id, exposed_id, exposed_name)
SELECT $1, c, e, n FROM unnest($2::text[], $3::text[], $4::text[]) AS t(c, e, n)`, platform, chans, exposed, named); err != nil {
		return fmt.Errorf("set names of platform %d: %w", platform, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("set names of platform %d: %w", platform, err)
	}
	return nil
}
