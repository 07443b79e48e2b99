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

// All reports whether s sees everything.
func (s Scope) All() bool { return s.all }

// args appends the arguments of user_scopes to c and returns its argument
// list in SQL.
func (s Scope) args(c *store.Conds) string {
	p := len(c.Args) + 1
	c.Args = append(c.Args, s.UserID, s.Right, s.At, s.At.Format("15:04:05"))
	return fmt.Sprintf("$%d::bigint, $%d::text, $%d::timestamptz, ($%d::text)::time", p, p+1, p+2, p+3)
}

// channelPredicate is "the channel whose columns are prefixed by alias is
// in one of the camera sets of user_scopes(args)": its (device_id, id) is in
// the slice's rows, which channelSet finds through indexes, so the cost
// follows the size of the slice, not of the catalog.
func channelPredicate(alias, args string) string {
	return fmt.Sprintf(`((%[1]sdevice_id, %[1]sid) IN (%[2]s))`, alias, channelSet(args, "sc.device_id, sc.id", true))
}

// channelSet selects cols of the channels (alias sc) in the camera sets of
// user_scopes(args), with the device grants' channels when withDevices. A
// channel in several sets comes once per set. user_scopes runs once (the
// CTE) and each kind of set is read through an index: a device's channels
// by the primary key, listed channels by channels_id_idx, a region's by
// the range of civil codes it prefixes on channels_civil_code_c_idx
// (migration 00011). Region codes are digits only (checked by the grants
// and region_owners tables), so the codes starting with p are those in
// [p, p with its last digit plus one) in byte order (COLLATE "C": '9' + 1 is
// ':'), whatever the database's collation.
func channelSet(args, cols string, withDevices bool) string {
	q := `WITH s AS MATERIALIZED (SELECT g.scope_kind, g.civil_code, g.device_id, g.channel_ids FROM user_scopes(` + args + `) g) `
	if withDevices {
		q += `SELECT ` + cols + ` FROM channels sc WHERE sc.device_id = ANY (ARRAY(SELECT s.device_id FROM s WHERE s.scope_kind = 'device')) UNION ALL `
	}
	return q + `SELECT ` + cols + ` FROM channels sc WHERE sc.id = ANY (ARRAY(SELECT unnest(s.channel_ids) FROM s WHERE s.scope_kind = 'channels'))` +
		` UNION ALL SELECT ` + cols + ` FROM s CROSS JOIN LATERAL (SELECT sc.* FROM channels sc` +
		` WHERE sc.civil_code COLLATE "C" >= s.civil_code` +
		` AND sc.civil_code COLLATE "C" < left(s.civil_code, -1) || chr(ascii(right(s.civil_code, 1)) + 1)) sc` +
		` WHERE s.scope_kind = 'region'`
}

// channels adds the condition "the channel (a row of channel_state) is in
// s" to c.
func (s Scope) channels(c *store.Conds) {
	if s.all {
		return
	}
	c.Where = append(c.Where, channelPredicate("", s.args(c)))
}

// devices adds the condition "the device (a row of devices) is in s" to c:
// the device is granted whole, or one of its channels is in s.
func (s Scope) devices(c *store.Conds) {
	if s.all {
		return
	}
	args := s.args(c)
	c.Where = append(c.Where, fmt.Sprintf(
		`(id IN (SELECT g.device_id FROM user_scopes(%[1]s) g WHERE g.scope_kind = 'device')`+
			` OR id IN (%[2]s))`,
		args, channelSet(args, "sc.device_id", false)))
}
