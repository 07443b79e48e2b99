package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// CodePTZLocked is the code of the 409 answer to a PTZ command while
// another user controls the camera (PTZLockedBody).
const CodePTZLocked = "ptz_locked"

// DefaultPTZPriority is every non-admin's PTZ priority when the API has no
// PTZPriorities: the middle of the priorities' range (1–9).
const DefaultPTZPriority = 5

// PTZPriorities tells with which priority (1 to
// catalogview.MaxPTZPriority) a user controls a channel's PTZ at a time: the grants'
// ptz_priority (consoledb.DB's PTZPriority). 0 means no PTZ right: the
// command is refused (403 forbidden).
type PTZPriorities interface {
	PTZPriority(ctx context.Context, user int64, ch store.Channel, at time.Time) (int, error)
}

// The grants in the console's database are the priorities Run wires in.
var _ PTZPriorities = (*consoledb.DB)(nil)

// PTZLockedBody is the answer (409 ptz_locked) to a PTZ command while
// another user controls the camera with a priority at least the caller's.
type PTZLockedBody struct {
	ErrorBody
	// Holder is the username of the user controlling the camera.
	Holder string `json:"holder"`
	// Until is when the holder's control ends unless they send another command.
	Until time.Time `json:"until"`
}

func (a *API) ptz(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	// The request is sipserver's (sipapi.PTZRequest); sipserver checks
	// its values, the console its text and the action.
	var req sipapi.PTZRequest
	if err := input.ReadJSON(r.Body, &req, false); err != nil {
		return err
	}
	if req.Action == "" {
		return badRequest("action is required, e.g. {\"action\":\"move\",\"directions\":[\"left\"],\"speed\":128}")
	}
	// A camera the user may not see is the 404 of an unknown one; one seen
	// without the ptz right is 403 (both audited by grantedChannel).
	ch, err := a.grantedChannel(r, sess, catalogview.RightPTZ)
	if err != nil {
		return err
	}
	prio, err := a.ptzPriority(r.Context(), sess.User, ch)
	if err != nil {
		return err
	}
	if prio == 0 {
		// The ptz right without a priority (or the grant ended since the
		// check above): no control either.
		err := fmt.Errorf("PTZ of %s: no ptz priority: %w", ch.ID, ErrForbidden)
		a.deny(r, sess, ch.ID, err)
		return err
	}
	// The lock is taken before the audit row: a refused command is
	// audited as a refusal, not as a command. The locks are sipserver's,
	// which superior platforms' PTZ passes too.
	lock, err := a.Sip.LockPTZ(r.Context(), sipapi.PTZLockRequest{
		DeviceID: ch.DeviceID, ChannelID: ch.ID,
		Controller: sipapi.PTZController{ID: "user:" + strconv.FormatInt(sess.User.ID, 10), Name: sess.User.Username, Priority: prio},
	})
	if err != nil {
		return err
	}
	if !lock.Granted {
		a.refusePTZ(w, r, sess, ch.ID, lock)
		return nil
	}
	detail := map[string]any{"action": req.Action, "priority": prio}
	if lock.TookOver != nil {
		// Who lost the camera to whom is the question asked afterwards.
		detail["took_over_from"] = lock.TookOver.Name
		a.logger().Info("PTZ control taken over", "channel_id", ch.ID, "user", sess.User.Username,
			"priority", prio, "from", lock.TookOver.Name, "from_priority", lock.TookOver.Priority)
	}
	if err := a.audit(r, sess, "ptz", ch.ID, detail); err != nil {
		return err
	}
	out, err := a.Sip.PTZ(r.Context(), ch.DeviceID, ch.ID, req)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// ptzPriority is u's PTZ priority on ch now (0: no PTZ right). Admins
// have every right without grants, so the grants are not asked: they
// control with the top priority, the one a camera's owners have.
func (a *API) ptzPriority(ctx context.Context, u store.User, ch store.Channel) (int, error) {
	switch {
	case u.Role == store.RoleAdmin:
		return catalogview.MaxPTZPriority, nil
	case a.PTZPriorities == nil:
		return DefaultPTZPriority, nil
	}
	return a.PTZPriorities.PTZPriority(ctx, u.ID, ch, a.now())
}

// refusePTZ answers a command refused by another user's lock: 409 with the
// holder and the end of their lock (Retry-After says when to try again),
// a log line and an access_denied audit row, like every refusal.
func (a *API) refusePTZ(w http.ResponseWriter, r *http.Request, sess *auth.Session, channel string, lock sipapi.PTZLock) {
	holder, until := lock.Holder.Name, lock.Until.UTC()
	reason := fmt.Sprintf("PTZ controlled by %s (priority %d) until %s", holder, lock.Holder.Priority, until.Format(time.RFC3339))
	a.logger().Info("API refused", "method", r.Method, "path", strconv.QuoteToASCII(r.URL.Path), "remote", a.remote(r),
		"status", http.StatusConflict, "code", CodePTZLocked, "error", reason)
	a.note(r, sess, ActionDenied, channel, map[string]any{
		"route": r.Pattern, "method": r.Method, "reason": reason, "status": http.StatusConflict,
		"code": CodePTZLocked, "holder": holder, "until": until,
	})
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(until.Sub(a.now()).Round(time.Second)/time.Second))))
	svcapi.WriteJSON(w, http.StatusConflict, PTZLockedBody{
		ErrorBody: ErrorBody{
			Error: "PTZ of this camera is controlled by " + holder + " until " + until.Format(time.RFC3339),
			Code:  CodePTZLocked,
		},
		Holder: holder,
		Until:  until,
	})
}
