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
// in one of the camera sets of user_scopes(args)". Each ARRAY(…) is an
// uncorrelated subquery, evaluated once per statement (an InitPlan), so a
// list over 100,000 channels calls user_scopes three times, not per row.
// Civil codes are digits only (checked by the grants table), so a prefix
// needs no LIKE escaping.
func channelPredicate(alias, args string) string {
	return fmt.Sprintf(`(%[1]sdevice_id = ANY (ARRAY(SELECT g.device_id FROM user_scopes(%[2]s) g WHERE g.scope_kind = 'device'))`+
		` OR %[1]sid = ANY (ARRAY(SELECT unnest(g.channel_ids) FROM user_scopes(%[2]s) g WHERE g.scope_kind = 'channels'))`+
		` OR %[1]scivil_code LIKE ANY (ARRAY(SELECT g.civil_code || '%%' FROM user_scopes(%[2]s) g WHERE g.scope_kind = 'region')))`,
		alias, args)
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
		`(id = ANY (ARRAY(SELECT g.device_id FROM user_scopes(%[1]s) g WHERE g.scope_kind = 'device'))`+
			` OR EXISTS (SELECT 1 FROM channels c WHERE c.device_id = devices.id AND %[2]s))`,
		args, channelPredicate("c.", args)))
}
