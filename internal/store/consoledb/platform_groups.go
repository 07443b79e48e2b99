package consoledb

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/cascadeview"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

// VirtualOrg is a superior platform's virtual organisation.
type VirtualOrg = cascadeview.VirtualOrg

// Group is a group of a virtual organisation.
type Group = cascadeview.Group

// GroupChannel places a channel under a group of a virtual organisation.
type GroupChannel = cascadeview.GroupChannel

// Limits of one platform's virtual organisation.
const (
	maxGroups        = 10_000
	maxGroupChannels = 100_000
)

// PlatformVirtualOrg returns platform's virtual organisation; an unknown
// platform is store.ErrNotFound.
func (db *DB) PlatformVirtualOrg(ctx context.Context, platform int64) (VirtualOrg, error) {
	if err := db.platformExists(ctx, platform); err != nil {
		return VirtualOrg{}, err
	}
	return cascadeview.New(db.Store).VirtualOrg(ctx, platform)
}

// ValidVirtualOrg checks a virtual organisation: group IDs of 20 digits of
// type 215 (business group, no parent) or 216 (virtual organisation, under
// a group of the list), names of 1–128 characters, no ID twice, no loop;
// channel IDs of 1–64 bytes, each under one group of the list. The error
// wraps store.ErrInvalid and names the entry.
func ValidVirtualOrg(vo VirtualOrg) error {
	if len(vo.Groups) > maxGroups || len(vo.Channels) > maxGroupChannels {
		return fmt.Errorf("virtual organisation: at most %d groups and %d channels: %w", maxGroups, maxGroupChannels,
			store.ErrInvalid)
	}
	parent := make(map[string]string, len(vo.Groups))
	for i, g := range vo.Groups {
		id, err := ids.Parse(g.ID)
		switch {
		case err != nil || id.Nonstandard:
			return fmt.Errorf("groups[%d]: id %q must be 20 digits: %w", i, g.ID, store.ErrInvalid)
		case !id.Type.IsBusinessGroup() && !id.Type.IsVirtualOrg():
			return fmt.Errorf("groups[%d]: id %s must be of type 215 (business group) or 216 (virtual organisation), not %d: %w",
				i, g.ID, id.Type, store.ErrInvalid)
		case g.Name == "" || utf8.RuneCountInString(g.Name) > 128 || !utf8.ValidString(g.Name):
			return fmt.Errorf("groups[%d]: name must be 1–128 characters of UTF-8: %w", i, store.ErrInvalid)
		case id.Type.IsBusinessGroup() && g.ParentID != "":
			return fmt.Errorf("groups[%d]: business group %s takes no parent_id: %w", i, g.ID, store.ErrInvalid)
		case id.Type.IsVirtualOrg() && g.ParentID == "":
			return fmt.Errorf("groups[%d]: virtual organisation %s needs a parent_id (a 215 or 216 group): %w", i, g.ID,
				store.ErrInvalid)
		}
		if _, dup := parent[g.ID]; dup {
			return fmt.Errorf("groups[%d]: id %s given twice: %w", i, g.ID, store.ErrInvalid)
		}
		parent[g.ID] = g.ParentID
	}
	for i, g := range vo.Groups {
		// Up to a business group, within as many steps as there are groups.
		at := g.ID
		for range len(vo.Groups) + 1 {
			if at == "" {
				break
			}
			p, ok := parent[at]
			if !ok {
				return fmt.Errorf("groups[%d]: parent_id %s is not a group of the list: %w", i, at, store.ErrInvalid)
			}
			at = p
		}
		if at != "" {
			return fmt.Errorf("groups[%d]: %s is in a loop of parents: %w", i, g.ID, store.ErrInvalid)
		}
	}
	placed := make(map[string]bool, len(vo.Channels))
	for i, c := range vo.Channels {
		switch {
		case c.ChannelID == "" || len(c.ChannelID) > 64:
			return fmt.Errorf("channels[%d]: channel_id must be 1–64 bytes: %w", i, store.ErrInvalid)
		case placed[c.ChannelID]:
			return fmt.Errorf("channels[%d]: channel %s placed twice: %w", i, c.ChannelID, store.ErrInvalid)
		}
		if _, ok := parent[c.GroupID]; !ok {
			return fmt.Errorf("channels[%d]: group_id %q is not a group of the list: %w", i, c.GroupID, store.ErrInvalid)
		}
		placed[c.ChannelID] = true
	}
	return nil
}

// SetPlatformVirtualOrg replaces platform's virtual organisation with vo
// (checked by ValidVirtualOrg) in one transaction. A group ID may not be
// the platform's or our SIP ID, one of our channels' IDs, nor an ID the
// platform knows one of our channels by. An unknown platform is
// store.ErrNotFound.
func (db *DB) SetPlatformVirtualOrg(ctx context.Context, platform int64, vo VirtualOrg) error {
	if err := ValidVirtualOrg(vo); err != nil {
		return err
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("set the virtual organisation of platform %d: %w", platform, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	serverID, localID, err := lockPlatform(ctx, tx, platform)
	if err != nil {
		return fmt.Errorf("set the virtual organisation: %w", err)
	}
	gids, names, parents := make([]string, len(vo.Groups)), make([]string, len(vo.Groups)), make([]string, len(vo.Groups))
	for i, g := range vo.Groups {
		gids[i], names[i], parents[i] = g.ID, g.Name, g.ParentID
		if g.ID == serverID || g.ID == localID {
			return fmt.Errorf("groups[%d]: id %s is the platform's or our own SIP ID: %w", i, g.ID, store.ErrInvalid)
		}
	}
	var clash string
	err = tx.QueryRow(ctx, `SELECT id FROM channels WHERE id = ANY ($1::text[])
UNION ALL SELECT exposed_id FROM platform_channel_names WHERE platform_id = $2 AND exposed_id = ANY ($1::text[]) LIMIT 1`,
		gids, platform).Scan(&clash)
	switch {
	case err == nil:
		return fmt.Errorf("groups: id %s is one of our channels' or the ID the platform knows one by: %w", clash, store.ErrInvalid)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("set the virtual organisation of platform %d: %w", platform, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM platform_groups WHERE platform_id = $1`, platform); err != nil {
		return fmt.Errorf("set the virtual organisation of platform %d: %w", platform, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO platform_groups (platform_id, group_id, name, parent_id)
SELECT $1, g, n, p FROM unnest($2::text[], $3::text[], $4::text[]) AS t(g, n, p)`, platform, gids, names, parents); err != nil {
		return fmt.Errorf("set the virtual organisation of platform %d: %w", platform, err)
	}
	chans, groups := make([]string, len(vo.Channels)), make([]string, len(vo.Channels))
	for i, c := range vo.Channels {
		chans[i], groups[i] = c.ChannelID, c.GroupID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO platform_group_channels (platform_id, channel_id, group_id)
SELECT $1, c, g FROM unnest($2::text[], $3::text[]) AS t(c, g)`, platform, chans, groups); err != nil {
		return fmt.Errorf("set the virtual organisation of platform %d: %w", platform, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("set the virtual organisation of platform %d: %w", platform, err)
	}
	return nil
}

// lockPlatform locks platform's row for the rest of tx (its renumbering
// and virtual organisation are checked against its IDs) and returns its
// server ID and our ID as it knows us ("" for our own).
func lockPlatform(ctx context.Context, tx pgx.Tx, platform int64) (serverID, localID string, err error) {
	err = tx.QueryRow(ctx, `SELECT server_id, local_id FROM cascade_platforms WHERE id = $1 FOR UPDATE`, platform).
		Scan(&serverID, &localID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", fmt.Errorf("platform %d: %w", platform, store.ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("platform %d: %w", platform, err)
	}
	return serverID, localID, nil
}
