package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// ActionDenied is the audit action of a refused attempt by a logged-in
// user: a role that may not (force stop), someone else's playback or
// download, a missing CSRF token, a password change still pending.
const ActionDenied = "access_denied"

// writeAudit writes an audit row of r (see auth.WriteAudit); a failure is
// logged and returned.
func (a *API) writeAudit(r *http.Request, sess *auth.Session, action, target string, detail map[string]any) error {
	e := store.AuditEntry{Action: action, Target: target, Remote: a.remote(r), Detail: detail}
	if sess != nil {
		e.Username = sess.User.Username
	}
	return auth.WriteAudit(r.Context(), a.Store, a.logger(), e)
}

// audit writes the row of an access before it is granted. A failed write
// refuses the access (auth.ErrAuditUnavailable, 503) unless AuditFailOpen.
func (a *API) audit(r *http.Request, sess *auth.Session, action, target string, detail map[string]any) error {
	if err := a.writeAudit(r, sess, action, target, detail); err != nil && !a.AuditFailOpen {
		return fmt.Errorf("%s %s: %w", action, target, auth.ErrAuditUnavailable)
	}
	return nil
}

// note writes a row whose failure never changes the answer: stops (they
// end access) and refusals (refused either way).
func (a *API) note(r *http.Request, sess *auth.Session, action, target string, detail map[string]any) {
	_ = a.writeAudit(r, sess, action, target, detail)
}

// deny writes the row of a refused attempt: the route, why, and the answer.
func (a *API) deny(r *http.Request, sess *auth.Session, target string, why error) {
	status, code, _ := classify(why)
	a.note(r, sess, ActionDenied, target, map[string]any{
		"route": r.Pattern, "method": r.Method, "reason": why.Error(), "status": status, "code": code,
	})
}

var sessionIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// ownSession returns the sipserver session {session} of the path when it is
// of kind and belongs to sess's user. An admin may act on anyone's session
// when adminMay (a force stop: forced is then true). Anything else is the
// same 404 as an unknown session, so that nobody learns which sessions
// exist; a session that exists but is someone else's is audited as denied.
func (a *API) ownSession(r *http.Request, sess *auth.Session, kind string, adminMay bool) (s sipapi.Session, forced bool, err error) {
	id := r.PathValue("session")
	if !sessionIDPattern.MatchString(id) {
		return sipapi.Session{}, false, badRequest("bad session id %q", id)
	}
	notFound := newError(http.StatusNotFound, CodeNotFound, "no %s session %s", kind, id)
	s, err = a.Sip.GetSession(r.Context(), id)
	switch {
	case errors.Is(err, svcapi.ErrNotFound):
		return sipapi.Session{}, false, notFound
	case err != nil:
		return sipapi.Session{}, false, err
	case s.Kind != kind:
		return sipapi.Session{}, false, notFound
	case s.Owner != "" && s.Owner == sess.User.Username:
		return s, false, nil
	case adminMay && sess.User.Role == store.RoleAdmin:
		return s, true, nil
	}
	a.deny(r, sess, id, fmt.Errorf("%s session %s belongs to another user: %w", kind, id, ErrNotOwner))
	return sipapi.Session{}, false, notFound
}

// ownDownload returns the download {id} of the path when it belongs to
// sess's user. A download without an owner (its file predates owners) is
// the admins'. An admin may act on anyone's when adminMay (forced). Like
// ownSession, anything else is the 404 of an unknown download.
func (a *API) ownDownload(r *http.Request, sess *auth.Session, adminMay bool) (st DownloadStatus, forced bool, err error) {
	id := r.PathValue("id")
	notFound := newError(http.StatusNotFound, CodeNotFound, "no download %s", id)
	if a.Downloads == nil {
		return DownloadStatus{}, false, notFound
	}
	st, err = a.Downloads.Status(id)
	admin := sess.User.Role == store.RoleAdmin
	switch {
	case errors.Is(err, store.ErrNotFound):
		return DownloadStatus{}, false, notFound
	case err != nil:
		return DownloadStatus{}, false, err
	case st.User != "" && st.User == sess.User.Username:
		return st, false, nil
	case st.User == "" && admin:
		return st, false, nil
	case adminMay && admin:
		return st, true, nil
	}
	a.deny(r, sess, id, fmt.Errorf("download %s belongs to another user: %w", id, ErrNotOwner))
	return DownloadStatus{}, false, notFound
}

// retryAfter is the Retry-After (seconds) of an answer to err, or 0.
func retryAfter(err error, now time.Time) int {
	var many *auth.TooManyAttemptsError
	if !errors.As(err, &many) {
		return 0
	}
	return max(1, int(many.Until.Sub(now).Round(time.Second)/time.Second))
}

// endSessionTimeout bounds the BYE of a session nobody will use.
const endSessionTimeout = 10 * time.Second

// endSession ends a session nobody will use any more (BYE: a playback
// whose answer failed, a download that finished or failed) and waits for
// sipserver's answer, within endSessionTimeout even when ctx is done (the
// request that made the session is gone, the console is closing). A
// session that already ended (not_found: the device hung up first) is no
// error; any other failure is logged.
func endSession(ctx context.Context, sip *sipapi.Client, id string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endSessionTimeout)
	defer cancel()
	if err := sip.DeleteSession(ctx, id); err != nil && !errors.Is(err, svcapi.ErrNotFound) {
		log.Warn("end session", "session_id", id, "error", err)
	}
}
