// Package cascadeview is the read model of cascade: the superior platforms
// this platform registers to, the state of each link and the grants that
// make each one's slice of the catalog. The console writes the
// configuration and the grants (store/consoledb), the sipserver the link
// state (store/sipdb); both read them here.
package cascadeview

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Link states (cascade_platform_status.status).
const (
	StatusRegistered = "registered"
	StatusFailing    = "failing"
	StatusDisabled   = "disabled"
)

// Platform is a superior platform and the state of our link to it.
type Platform struct {
	ID   int64
	Name string
	// ServerID and Domain are the superior's SIP ID and domain (realm).
	ServerID, Domain string
	Host             string
	Port             int
	// Transport is "udp" or "tcp".
	Transport string
	// Password is the digest password it gave us; never shown by the API.
	Password string
	// LocalID is our SIP ID as the superior knows us; "" is our own.
	LocalID string
	// GBVersion is "2016" or "2022"; Charset "GB2312" or "UTF-8".
	GBVersion, Charset string
	// Expires, KeepaliveInterval (seconds) and KeepaliveCount: the
	// registration asked for and the link's keepalive.
	Expires, KeepaliveInterval, KeepaliveCount int
	Enabled                                    bool
	CreatedBy                                  string
	CreatedAt, UpdatedAt                       time.Time

	// Status is the link's state, "" when the sipserver never tried it.
	Status string
	// LinkID is the SIP ID the link registers with, as the sipserver
	// reported it (LocalID, or the sipserver's own ID).
	LinkID        string
	LastError     string
	RegisteredAt  *time.Time
	LastKeepalive *time.Time
	UpwardStreams int
}

// Columns of cascade_platforms (p) joined with cascade_platform_status (s).
const columns = `p.id, p.name, p.server_id, p.domain, p.host, p.port, p.transport, p.password, p.local_id,
	p.gb_version, p.charset, p.expires, p.keepalive_interval, p.keepalive_count, p.enabled, p.created_by,
	p.created_at, p.updated_at, COALESCE(s.status, ''), COALESCE(s.local_id, ''), COALESCE(s.last_error, ''), s.registered_at,
	s.last_keepalive, COALESCE(s.upward_streams, 0)`

const from = ` FROM cascade_platforms p LEFT JOIN cascade_platform_status s ON s.platform_id = p.id`

// Scan reads a row of Columns.
func scan(row pgx.Row) (Platform, error) {
	var p Platform
	err := row.Scan(&p.ID, &p.Name, &p.ServerID, &p.Domain, &p.Host, &p.Port, &p.Transport, &p.Password, &p.LocalID,
		&p.GBVersion, &p.Charset, &p.Expires, &p.KeepaliveInterval, &p.KeepaliveCount, &p.Enabled, &p.CreatedBy,
		&p.CreatedAt, &p.UpdatedAt, &p.Status, &p.LinkID, &p.LastError, &p.RegisteredAt, &p.LastKeepalive, &p.UpwardStreams)
	return p, err
}

// View reads platforms and their grants.
type View struct {
	*store.Store
}

// New returns the view over st.
func New(st *store.Store) *View { return &View{Store: st} }

// Platforms returns every platform, by ID.
func (v *View) Platforms(ctx context.Context) ([]Platform, error) {
	rows, err := v.Pool.Query(ctx, `SELECT `+columns+from+` ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("list platforms: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Platform, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("list platforms: %w", err)
	}
	return out, nil
}

// Platform returns platform id, or store.ErrNotFound.
func (v *View) Platform(ctx context.Context, id int64) (Platform, error) {
	p, err := scan(v.Pool.QueryRow(ctx, `SELECT `+columns+from+` WHERE p.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Platform{}, fmt.Errorf("platform %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Platform{}, fmt.Errorf("platform %d: %w", id, err)
	}
	return p, nil
}

// ScanPlatform reads a row selected with Columns and From, for the writers
// that return the row they wrote.
func ScanPlatform(row pgx.Row) (Platform, error) { return scan(row) }

// Columns and From select a platform with its link state (aliases p and s).
const (
	Columns = columns
	From    = from
)

// ExposedName is the ID (and name, "" for ours) a superior platform knows
// one of our channels by (platform_channel_names).
type ExposedName struct {
	ChannelID, ExposedID, Name string
}

// Names returns platform's exposed IDs and names by channel ID (none for
// an unknown platform).
func (v *View) Names(ctx context.Context, platform int64) ([]ExposedName, error) {
	rows, err := v.Pool.Query(ctx, `SELECT channel_id, exposed_id, exposed_name FROM platform_channel_names
WHERE platform_id = $1 ORDER BY channel_id`, platform)
	if err != nil {
		return nil, fmt.Errorf("names of platform %d: %w", platform, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ExposedName, error) {
		var n ExposedName
		err := r.Scan(&n.ChannelID, &n.ExposedID, &n.Name)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("names of platform %d: %w", platform, err)
	}
	return out, nil
}

// Group is a business group (type 215) or virtual organisation (216) of a
// superior platform's virtual organisation (platform_groups).
type Group struct {
	ID, Name string
	// ParentID is "" for a business group, the group above for a virtual
	// organisation.
	ParentID string
}

// GroupChannel places one of our channels under a group of a platform's
// virtual organisation (platform_group_channels).
type GroupChannel struct {
	ChannelID, GroupID string
}

// VirtualOrg is the virtual organisation a superior platform sees our
// channels in instead of our own tree; none when Groups is empty.
type VirtualOrg struct {
	Groups   []Group
	Channels []GroupChannel
}

// VirtualOrg returns platform's virtual organisation (empty for an
// unknown platform), groups and channels ordered by ID.
func (v *View) VirtualOrg(ctx context.Context, platform int64) (VirtualOrg, error) {
	var vo VirtualOrg
	rows, err := v.Pool.Query(ctx, `SELECT group_id, name, parent_id FROM platform_groups WHERE platform_id = $1
ORDER BY group_id`, platform)
	if err != nil {
		return vo, fmt.Errorf("virtual organisation of platform %d: %w", platform, err)
	}
	vo.Groups, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Group, error) {
		var g Group
		err := r.Scan(&g.ID, &g.Name, &g.ParentID)
		return g, err
	})
	if err != nil {
		return vo, fmt.Errorf("virtual organisation of platform %d: %w", platform, err)
	}
	rows, err = v.Pool.Query(ctx, `SELECT channel_id, group_id FROM platform_group_channels WHERE platform_id = $1
ORDER BY channel_id`, platform)
	if err != nil {
		return vo, fmt.Errorf("virtual organisation of platform %d: %w", platform, err)
	}
	vo.Channels, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (GroupChannel, error) {
		var c GroupChannel
		err := r.Scan(&c.ChannelID, &c.GroupID)
		return c, err
	})
	if err != nil {
		return vo, fmt.Errorf("virtual organisation of platform %d: %w", platform, err)
	}
	return vo, nil
}
