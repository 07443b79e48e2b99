package store

import (
	"time"
)

// Results of an audited action (AuditEntry.Result).
const (
	// AuditOK is an action that was done (or an access granted).
	AuditOK = "ok"
	// AuditRefused is an attempt refused; AuditEntry.Reason says why.
	AuditRefused = "refused"
)

// AuditEntry is one row of the audit log: who (user, department, role) did
// what to which target, when, from where (address, user agent), and with
// what result.
type AuditEntry struct {
	ID int64
	// At is when it happened; zero means now.
	At       time.Time
	Username string
	// DepartmentID and Role are the user's at the time (0 and "" when
	// unknown: a failed login of no such user, a media open mediagw reports).
	DepartmentID int64
	Role         string
	// Action names what was done: login, login_failed, logout, password_change, play, playback, download, …
	Action string
	// Target is what it was done to: a channel ID, a session ID, a username.
	Target string
	// Remote is the client address; UserAgent its User-Agent header.
	Remote    string
	UserAgent string
	// Result is AuditOK or AuditRefused; empty means AuditOK.
	Result string
	// Reason says why an attempt was refused (empty when it was not).
	Reason string
	// Detail holds action-specific fields.
	Detail map[string]any
}

// AuditFilter selects audit entries for ListAudit. Zero values select everything.
type AuditFilter struct {
	Username string
	// DepartmentID selects the rows of users of that department or of one
	// below it (its subtree as the tree is now), department recorded at
	// the time of the row.
	DepartmentID int64
	Action       string
	Target       string
	// From and To bound At (inclusive, exclusive) when set.
	From, To time.Time
	// Limit bounds the page (default 100, at most 1000); Offset skips rows.
	Limit, Offset int
}
