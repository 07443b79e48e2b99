package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// audit writes an audit row (WriteAudit); a failure is logged and returned.
func (s *Service) audit(ctx context.Context, e store.AuditEntry) error {
	return WriteAudit(ctx, s.Store, s.Log, e)
}

// AuditTimeout bounds one audit row's write.
const AuditTimeout = 5 * time.Second

// WriteAudit writes e to st's audit log, also when ctx's request went away
// mid-way (a detached context, bounded by AuditTimeout); a failure is
// logged on log and returned. The console's logins, its video accesses and
// the media opens mediagw reports are all written by it.
func WriteAudit(ctx context.Context, st *consoledb.DB, log *slog.Logger, e store.AuditEntry) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), AuditTimeout)
	defer cancel()
	if err := st.AddAudit(ctx, e); err != nil {
		log.Error("write audit log", "action", e.Action, "username", e.Username, "target", e.Target, "error", err)
		return err
	}
	return nil
}
