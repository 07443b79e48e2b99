package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// AuditLog is where audit rows go: a *consoledb.AuditWriter (group commit,
// the console's) or a *consoledb.DB (a transaction per row). Either returns
// only once the row is committed.
type AuditLog interface {
	AddAudit(ctx context.Context, e store.AuditEntry) error
}

// auditLog is s.Audit, or s.Store without one.
func (s *Service) auditLog() AuditLog {
	if s.Audit != nil {
		return s.Audit
	}
	return s.Store
}

// audit writes an audit row (WriteAudit); a failure is logged and returned.
func (s *Service) audit(ctx context.Context, e store.AuditEntry) error {
	return WriteAudit(ctx, s.auditLog(), s.Log, e)
}

// AuditTimeout bounds one audit row's write.
const AuditTimeout = 5 * time.Second

type userAgentKey struct{}

// WithUserAgent returns ctx carrying the client's User-Agent, which
// WriteAudit records in the rows written under it that name none.
func WithUserAgent(ctx context.Context, userAgent string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, userAgent)
}

// AuditedBy returns e with who did it: u's name, department and role.
func AuditedBy(e store.AuditEntry, u store.User) store.AuditEntry {
	e.Username, e.DepartmentID, e.Role = u.Username, u.DepartmentID, u.Role
	return e
}

// Refused returns e as a refused attempt for reason.
func Refused(e store.AuditEntry, reason string) store.AuditEntry {
	e.Result, e.Reason = store.AuditRefused, reason
	return e
}

// WriteAudit writes e to the audit log al, also when ctx's request went
// away mid-way (a detached context, bounded by AuditTimeout); a failure is
// logged on log and returned. The console's logins, its video accesses and
// the media opens mediagw reports are all written by it.
func WriteAudit(ctx context.Context, al AuditLog, log *slog.Logger, e store.AuditEntry) error {
	if ua, ok := ctx.Value(userAgentKey{}).(string); ok && e.UserAgent == "" {
		e.UserAgent = ua
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), AuditTimeout)
	defer cancel()
	if err := al.AddAudit(ctx, e); err != nil {
		log.Error("write audit log", "action", e.Action, "username", e.Username, "target", e.Target, "error", err)
		return err
	}
	return nil
}
