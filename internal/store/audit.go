package store

import (
	"time"
)

// AuditEntry is one row of the audit log: who did what to which target, from where.
type AuditEntry struct {
	ID int64
	// At is when it happened; zero means now.
	At       time.Time
	Username string
	// Action names what was done: login, login_failed, logout, password_change, play, playback, download, …
	Action string
	// Target is what it was done to: a channel ID, a session ID, a username.
	Target string
	// Remote is the client address.
	Remote string
	// Detail holds action-specific fields.
	Detail map[string]any
}

// AuditFilter selects audit entries for ListAudit. Zero values select everything.
type AuditFilter struct {
	Username string
	Action   string
	Target   string
	// From and To bound At (inclusive, exclusive) when set.
	From, To time.Time
	// Limit bounds the page (default 100, at most 1000); Offset skips rows.
	Limit, Offset int
}
