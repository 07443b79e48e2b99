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
// export, a missing CSRF token, a password change still pending.
const ActionDenied = "access_denied"

// auditLog is where the API's audit rows go: the auth service's (the
// console's AuditWriter), else the store, a transaction per row.
func (a *API) auditLog() auth.AuditLog {
	if a.Auth != nil && a.Auth.Audit != nil {
		return a.Auth.Audit
	}
	return a.Store
}

// writeAudit writes e, an action of sess's user (nil: nobody logged in)
// on r, with who did it (user, department, role) and from where (address,
// user agent); see auth.WriteAudit. A failure is logged and returned.
func (a *API) writeAudit(r *http.Request, sess *auth.Session, e store.AuditEntry) error {
	e.Remote, e.UserAgent = a.remote(r), r.UserAgent()
	if sess != nil {
		e = auth.AuditedBy(e, sess.User)
	}
	return auth.WriteAudit(r.Context(), a.auditLog(), a.logger(), e)
}

// audit writes the row of an access before it is granted. A failed write
// refuses the access (auth.ErrAuditUnavailable, 503) unless AuditFailOpen.
func (a *API) audit(r *http.Request, sess *auth.Session, action, target string, detail map[string]any) error {
	e := store.AuditEntry{Action: action, Target: target, Detail: detail}
	if err := a.writeAudit(r, sess, e); err != nil && !a.AuditFailOpen {
		return fmt.Errorf("%s %s: %w", action, target, auth.ErrAuditUnavailable)
	}
	return nil
}

// note writes a row whose failure never changes the answer: stops (they
// end access) and refusals (refused either way). A row of ActionDenied is
// a refusal: its detail's reason, if any, is its reason.
func (a *API) note(r *http.Request, sess *auth.Session, action, target string, detail map[string]any) {
	e := store.AuditEntry{Action: action, Target: target, Detail: detail}
	if action == ActionDenied {
		reason, _ := detail["reason"].(string)
		e = auth.Refused(e, reason)
	}
	_ = a.writeAudit(r, sess, e)
}

// deny writes the row of an attempt refused with why, which is also the
// answer the client gets (see refuse).
func (a *API) deny(r *http.Request, sess *auth.Session, target string, why error) {
	_ = a.refuse(r, sess, target, why, why)
}

// refuse writes the row of an attempt refused for why and answered with
// answer (a 404 that hides what exists, say, for a refusal that is a 403
// or someone else's session), and returns answer. The row's status and
// code are answer's, by the one mapping the answer itself takes
// (classify): the log says what the client got, the reason why.
func (a *API) refuse(r *http.Request, sess *auth.Session, target string, answer, why error) error {
	status, code, _ := classify(answer)
	e := store.AuditEntry{Action: ActionDenied, Target: target, Detail: map[string]any{
		"route": r.Pattern, "method": r.Method, "reason": why.Error(), "status": status, "code": code,
	}}
	_ = a.writeAudit(r, sess, auth.Refused(e, why.Error()))
	return answer
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
	return sipapi.Session{}, false, a.refuse(r, sess, id, notFound,
		fmt.Errorf("%s session %s belongs to another user: %w", kind, id, ErrNotOwner))
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
// whose answer failed) and waits for sipserver's answer, within
// endSessionTimeout even when ctx is done (the request that made the
// session is gone, the console is closing). A
// session that already ended (not_found: the device hung up first) is no
// error; any other failure is logged.
func endSession(ctx context.Context, sip *sipapi.Client, id string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endSessionTimeout)
	defer cancel()
	if err := sip.DeleteSession(ctx, id); err != nil && !errors.Is(err, svcapi.ErrNotFound) {
		log.Warn("end session", "session_id", id, "error", err)
	}
}
