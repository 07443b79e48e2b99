package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// accountJSON is a user as the administration shows it (/users); the
// login's own view is userJSON.
type accountJSON struct {
	ID                 int64   `json:"id"`
	Username           string  `json:"username"`
	DepartmentID       *int64  `json:"department_id"`
	Role               string  `json:"role"`
	Disabled           bool    `json:"disabled"`
	DisabledReason     string  `json:"disabled_reason"`
	DisabledAt         *string `json:"disabled_at"`
	MustChangePassword bool    `json:"must_change_password"`
	LastLoginAt        *string `json:"last_login_at"`
	CreatedAt          string  `json:"created_at"`
}

// userRequest is the body of POST and PATCH /users; PATCH changes the
// fields present (a password there is a reset).
type userRequest struct {
	Username       *string    `json:"username"`
	Password       *string    `json:"password"`
	DepartmentID   optionalID `json:"department_id"`
	Role           *string    `json:"role"`
	Disabled       *bool      `json:"disabled"`
	DisabledReason *string    `json:"disabled_reason"`
}

func optRFC3339(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func toAccountJSON(u store.User) accountJSON {
	out := accountJSON{
		ID: u.ID, Username: u.Username, Role: u.Role, Disabled: u.Disabled, DisabledReason: u.DisabledReason,
		DisabledAt: optRFC3339(u.DisabledAt), MustChangePassword: u.MustChangePassword,
		LastLoginAt: optRFC3339(u.LastLoginAt), CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339),
	}
	if u.DepartmentID != 0 {
		out.DepartmentID = &u.DepartmentID
	}
	return out
}

// checkAccount refuses (403, audited) a user that sess's user, managing
// the subtree under root, may not create or make: a dept_admin makes
// operators and dept_admins of its subtree only, never an admin or an
// auditor (who reads everyone's audit).
func (a *API) checkAccount(r *http.Request, sess *auth.Session, root int64, u store.User) error {
	if root == 0 {
		return nil
	}
	if u.Role != store.RoleOperator && u.Role != store.RoleDeptAdmin {
		err := fmt.Errorf("a department admin cannot make a user of role %q: %w", u.Role, ErrForbidden)
		a.deny(r, sess, u.Username, err)
		return err
	}
	return a.checkParent(r, sess, root, u.DepartmentID)
}

// visibleUser returns user {id} when sess's user manages it: an admin
// every user, a dept_admin the operators and dept_admins of its subtree
// but itself. Any other is the 404 of an unknown user.
func (a *API) visibleUser(r *http.Request, sess *auth.Session) (store.User, int64, error) {
	root, err := a.departmentRoot(r, sess)
	if err != nil {
		return store.User{}, 0, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return store.User{}, root, err
	}
	notFound := newError(http.StatusNotFound, CodeNotFound, "no user %d", id)
	u, err := a.Store.UserByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, root, notFound
	}
	if err != nil || root == 0 {
		return u, root, err
	}
	in, err := a.manages(r, root, u.DepartmentID)
	if err != nil {
		return store.User{}, root, err
	}
	if !in || u.ID == sess.User.ID || (u.Role != store.RoleOperator && u.Role != store.RoleDeptAdmin) {
		return store.User{}, root, a.refuse(r, sess, strconv.FormatInt(id, 10), notFound,
			fmt.Errorf("user %d is not managed by a department admin of %d: %w", id, root, ErrForbidden))
	}
	return u, root, nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	root, err := a.departmentRoot(r, sess)
	if err != nil {
		return err
	}
	users, err := a.Store.ListUsers(r.Context(), root)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, users, len(users), toAccountJSON)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	u, _, err := a.visibleUser(r, sess)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, toAccountJSON(u))
	return nil
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	root, err := a.departmentRoot(r, sess)
	if err != nil {
		return err
	}
	var in userRequest
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	if in.Username == nil || in.Password == nil || in.Role == nil {
		return badRequest("username, password and role are required")
	}
	if in.Disabled != nil && *in.Disabled {
		return badRequest("a new user cannot be disabled; disable it afterwards")
	}
	u := store.User{Username: *in.Username, Role: *in.Role, DepartmentID: in.DepartmentID.ID}
	if !store.ValidRole(u.Role) {
		return badRequest("role %q: one of admin, dept_admin, operator, auditor", u.Role)
	}
	if err := a.checkAccount(r, sess, root, u); err != nil {
		return err
	}
	u, err = a.Auth.CreateUser(r.Context(), u, *in.Password)
	if err != nil {
		return err
	}
	a.note(r, sess, "user_create", u.Username, map[string]any{"id": u.ID, "role": u.Role, "department_id": u.DepartmentID})
	svcapi.WriteJSON(w, http.StatusCreated, toAccountJSON(u))
	return nil
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	u, root, err := a.visibleUser(r, sess)
	if err != nil {
		return err
	}
	var in userRequest
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	before := toAccountJSON(u)
	if in.Username != nil || in.Role != nil || in.DepartmentID.Set {
		if in.Username != nil {
			u.Username = *in.Username
		}
		if in.Role != nil {
			if !store.ValidRole(*in.Role) {
				return badRequest("role %q: one of admin, dept_admin, operator, auditor", *in.Role)
			}
			u.Role = *in.Role
		}
		if in.DepartmentID.Set {
			u.DepartmentID = in.DepartmentID.ID
		}
		if err := a.checkAccount(r, sess, root, u); err != nil {
			return err
		}
		if u, err = a.Store.UpdateUser(r.Context(), u); err != nil {
			return err
		}
	}
	if in.Disabled != nil && *in.Disabled != u.Disabled {
		reason := "disabled by " + sess.User.Username
		if in.DisabledReason != nil && *in.DisabledReason != "" {
			reason = *in.DisabledReason
		}
		if u, err = a.Store.SetDisabled(r.Context(), u.ID, *in.Disabled, reason, a.now()); err != nil {
			return err
		}
	}
	ended := 0
	if in.Password != nil {
		if ended, err = a.Auth.ResetPassword(r.Context(), u.ID, *in.Password); err != nil {
			return err
		}
		if u, err = a.Store.UserByID(r.Context(), u.ID); err != nil {
			return err
		}
	}
	a.note(r, sess, "user_update", u.Username, map[string]any{
		"id": u.ID, "before": before, "after": toAccountJSON(u), "password_reset": in.Password != nil, "sessions_ended": ended,
	})
	svcapi.WriteJSON(w, http.StatusOK, toAccountJSON(u))
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	u, _, err := a.visibleUser(r, sess)
	if err != nil {
		return err
	}
	if u.ID == sess.User.ID {
		return newError(http.StatusConflict, CodeConflict, "you cannot delete your own account")
	}
	if err := a.Store.DeleteUser(r.Context(), u.ID); err != nil {
		return err
	}
	a.note(r, sess, "user_delete", u.Username, map[string]any{"id": u.ID, "role": u.Role, "department_id": u.DepartmentID})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	u, _, err := a.visibleUser(r, sess)
	if err != nil {
		return err
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	if in.Password == "" {
		return badRequest("password is required")
	}
	ended, err := a.Auth.ResetPassword(r.Context(), u.ID, in.Password)
	if err != nil {
		return err
	}
	a.note(r, sess, "password_reset", u.Username, map[string]any{"id": u.ID, "sessions_ended": ended})
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{"sessions_ended": ended, "must_change_password": true})
	return nil
}

// revokeSessions ends every session of user {id} at once: its console
// sessions now, and its live video within mediagw's revocation interval
// (its play tokens are revoked: mediagw closes their viewers and the
// console refuses their media opens). The account stays usable: the user
// logs in again. Disabling or deleting the user, or changing its role or
// department, revokes the same way.
func (a *API) revokeSessions(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	u, _, err := a.visibleUser(r, sess)
	if err != nil {
		return err
	}
	if u.ID == sess.User.ID {
		return newError(http.StatusConflict, CodeConflict, "you cannot revoke your own sessions; log out instead")
	}
	if _, err := a.Store.RevokeUserTokens(r.Context(), u.ID, a.now()); err != nil {
		return err
	}
	a.note(r, sess, "user_sessions_revoke", u.Username, map[string]any{"id": u.ID})
	w.WriteHeader(http.StatusNoContent)
	return nil
}
