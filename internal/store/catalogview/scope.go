package catalogview

import (
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Rights a grant gives on its cameras (table grants). Live, playback and
// download are also the rights of play tokens (internal/playtoken).
const (
	RightLive     = "live"
	RightPlayback = "playback"
	RightDownload = "download"
	RightPTZ      = "ptz"
	// RightShare lets a department admin grant onward.
	RightShare = "share"
	// RightLocation shows the camera's coordinates.
	RightLocation = "location"
)

// Rights are every right, in the order the API lists them.
var Rights = []string{RightLive, RightPlayback, RightDownload, RightPTZ, RightShare, RightLocation}

// Scope is whose slice of the catalog a read sees: everything (an admin,
// the sipserver), or the channels a user's grants reach with a right at a
// time. The zero Scope sees nothing: a reader that forgot to say who asks
// gets no camera.
type Scope struct {
	all bool
	// UserID is whose grants apply; a user without grants (an auditor, a
	// disabled user, one without a department) sees nothing.
	UserID int64
	// PlatformID, when set, makes the grants those of a superior platform
	// (platform_scopes) instead of a user's.
	PlatformID int64
	// Right is the right needed; "" accepts any right (lists, the tree).
	Right string
	// At is the time validity windows and daily hours are checked at; its
	// location is the one the hours are in.
	At time.Time
}

// Everything is the scope of an admin and of the sipserver.
func Everything() Scope { return Scope{all: true} }

// UserScope is the slice of user userID with right ("" any) at at.
func UserScope(userID int64, right string, at time.Time) Scope {
	return Scope{UserID: userID, Right: right, At: at}
}

// PlatformScope is the slice a superior platform's grants give it with
// right ("" any) at at; a disabled platform sees nothing.
func PlatformScope(platformID int64, right string, at time.Time) Scope {
	return Scope{PlatformID: platformID, Right: right, At: at}
}

// with is s asking for right instead.
func (s Scope) with(right string) Scope {
	s.Right = right
	return s
}

// All reports whether s sees everything.
func (s Scope) All() bool { return s.all }

// scopes appends the arguments of the grantee's scopes function
// (user_scopes, or platform_scopes for a platform) to c and returns the
// call in SQL.
func (s Scope) scopes(c *store.Conds) string {
	p := len(c.Args) + 1
	fn, id := "user_scopes", s.UserID
	if s.PlatformID != 0 {
		fn, id = "platform_scopes", s.PlatformID
	}
	c.Args = append(c.Args, id, s.Right, s.At, s.At.Format("15:04:05"))
	return fmt.Sprintf("%s($%d::bigint, $%d::text, $%d::timestamptz, ($%d::text)::time)", fn, p, p+1, p+2, p+3)
}

// Covers is the SQL condition "the row g of user_scopes (or
// platform_scopes) reaches the channel whose device, id and civil code are
// the given expressions".
func Covers(g, device, id, civil string) string {
	return `((` + g + `.scope_kind = 'device' AND ` + g + `.device_id = ` + device + `)
	OR (` + g + `.scope_kind = 'channels' AND ` + id + ` = ANY (` + g + `.channel_ids))
	OR (` + g + `.scope_kind = 'region' AND starts_with(` + civil + `, ` + g + `.civil_code)))`
}

// channelSet selects the rows of table (channels, or the view
// channel_state) in the camera sets of the scopes call (Scope.scopes), with the device
// grants' channels when withDevices, each row once: the sets are made
// disjoint here rather than de-duplicated after (a hash of every row of a
// 30,000-channel slice and a join back to the catalog cost more than
// finding the slice). user_scopes runs once (the CTE) and each kind of set
// is read through an index: a device's channels by the primary key, listed
// channels by channels_id_idx less those of granted devices, a region's by
// the range of civil codes it prefixes on channels_civil_code_c_idx
// (migration 00011) less listed channels and granted devices. A region
// inside another of the sets is dropped, so the ranges do not overlap.
// Region codes are digits only (checked by the grants and region_owners
// tables), so the codes starting with p are those in [p, p with its last
// digit plus one) in byte order (COLLATE "C": '9' + 1 is ':'), whatever the
// database's collation. The exclusions are NOT IN (a hashed subplan): a
// text comparison with every listed channel per row of a region cost 40 ms
// for 30,000 channels.
func channelSet(scopes, table string, withDevices bool) string {
	// Without the device grants, k's device list is empty: the sets of
	// the other kinds keep the channels of granted devices.
	devices, q := "false", ""
	if withDevices {
		devices = "s.device_id IS NOT NULL"
		q = ` SELECT sc.* FROM ` + table + ` sc WHERE sc.device_id = ANY ((SELECT devices FROM k)::text[]) UNION ALL`
	}
	return `WITH s AS MATERIALIZED (SELECT g.scope_kind, g.civil_code, g.device_id, g.channel_ids FROM ` + scopes + ` g),` +
		` k AS MATERIALIZED (SELECT ARRAY(SELECT s.device_id FROM s WHERE s.scope_kind = 'device' AND ` + devices + `) AS devices,` +
		` ARRAY(SELECT x FROM s, unnest(s.channel_ids) x WHERE s.scope_kind = 'channels' AND x IS NOT NULL) AS ids),` +
		` r AS (SELECT DISTINCT s.civil_code FROM s WHERE s.scope_kind = 'region' AND NOT EXISTS (SELECT FROM s p` +
		` WHERE p.scope_kind = 'region' AND p.civil_code <> s.civil_code AND starts_with(s.civil_code, p.civil_code)))` +
		q +
		` SELECT sc.* FROM ` + table + ` sc WHERE sc.id = ANY ((SELECT ids FROM k)::text[])` +
		` AND sc.device_id NOT IN (SELECT unnest(devices) FROM k)` +
		` UNION ALL SELECT sc.* FROM r CROSS JOIN LATERAL (SELECT sc.* FROM ` + table + ` sc` +
		` WHERE sc.civil_code COLLATE "C" >= r.civil_code` +
		` AND sc.civil_code COLLATE "C" < left(r.civil_code, -1) || chr(ascii(right(r.civil_code, 1)) + 1)) sc` +
		` WHERE sc.id NOT IN (SELECT unnest(ids) FROM k) AND sc.device_id NOT IN (SELECT unnest(devices) FROM k)`
}

// devices adds the condition "the device (a row of devices) is in s" to c:
// the device is granted whole, or one of its channels is in s.
func (s Scope) devices(c *store.Conds) {
	if s.all {
		return
	}
	scopes := s.scopes(c)
	c.Where = append(c.Where, fmt.Sprintf(
		`(id IN (SELECT g.device_id FROM %[1]s g WHERE g.scope_kind = 'device')`+
			` OR id IN (%[2]s))`,
		scopes, "SELECT device_id FROM ("+channelSet(scopes, "channels", false)+") sc"))
}

// FilterChannels adds to c the condition "column (a channel ID) is in s":
// nothing for Everything. Tables that name a channel outside the catalog
// (exports, recordings) are filtered by it in SQL like the catalog's own
// reads.
func (s Scope) FilterChannels(c *store.Conds, column string) {
	if s.all {
		return
	}
	c.Where = append(c.Where, column+" IN (SELECT sc.id FROM ("+channelSet(s.scopes(c), "channels", true)+") sc)")
}
