package console

import (
	"mime"
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// userJSON is a user as the API shows it.
type userJSON struct {
	ID                 int64  `json:"id"`
	Username           string `json:"username"`
	Role               string `json:"role"`
	DepartmentID       *int64 `json:"department_id"`
	MustChangePassword bool   `json:"must_change_password"`
}

func toUserJSON(u store.User) userJSON {
	out := userJSON{ID: u.ID, Username: u.Username, Role: u.Role, MustChangePassword: u.MustChangePassword}
	if u.DepartmentID != 0 {
		out.DepartmentID = &u.DepartmentID
	}
	return out
}

func (a *API) login(w http.ResponseWriter, r *http.Request, _ *auth.Session) error {
	// Only a JSON body: a cross-site HTML form cannot send one without CORS,
	// so no other site can log a browser in (login CSRF).
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return newError(http.StatusUnsupportedMediaType, CodeBadRequest, "Content-Type must be application/json")
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	raw, err := input.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if a.Auth == nil {
		return auth.ErrInvalidCredentials
	}
	// DecodeJSON fills in even when it refuses the text, so that a refused
	// username is audited; every refused body is a failed login of the
	// address, and one from a blocked address is answered like its other
	// logins (429).
	err = input.DecodeJSON(raw, &in)
	if err == nil && (in.Username == "" || in.Password == "") {
		err = badRequest("username and password are required")
	}
	if err != nil {
		// A blocked address gets its 429 whatever it sends, and no audit row.
		if rerr := a.Auth.RefuseLogin(r.Context(), in.Username, a.remote(r), "refused body: "+err.Error()); rerr != nil {
			return rerr
		}
		return err
	}
	// Over-long usernames and passwords go the whole way too: they fail like
	// an unknown user or a wrong password (a password over
	// auth.MaxPasswordLen is refused without hashing, whoever the user).
	res, err := a.Auth.Login(r.Context(), in.Username, in.Password, a.remote(r))
	if err != nil {
		return err
	}
	auth.SetCookie(w, a.Proxies.Secure(r), res.Token, res.Session.ExpiresAt)
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{
		"token":                res.Token,
		"must_change_password": res.Session.User.MustChangePassword,
		"csrf_token":           res.Session.CSRFToken,
		"expires":              res.Session.ExpiresAt.UTC().Format(time.RFC3339),
		"user":                 toUserJSON(res.Session.User),
	})
	return nil
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.Auth.Logout(r.Context(), *sess, a.remote(r)); err != nil {
		return err
	}
	auth.ClearCookie(w, a.Proxies.Secure(r))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	var in struct {
		OldPassword string `json:"old_password"`
		NewPassword string `json:"new_password"`
	}
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	if in.OldPassword == "" || in.NewPassword == "" {
		return badRequest("old_password and new_password are required")
	}
	if err := a.Auth.ChangePassword(r.Context(), *sess, in.OldPassword, in.NewPassword, a.remote(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) me(w http.ResponseWriter, _ *http.Request, sess *auth.Session) error {
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{
		"user":       toUserJSON(sess.User),
		"csrf_token": sess.CSRFToken,
		"expires":    sess.ExpiresAt.UTC().Format(time.RFC3339),
	})
	return nil
}
