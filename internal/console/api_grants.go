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
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// scope is what sess's user reaches with right ("" any) now: everything
// for an admin, the user's grants otherwise (user_scopes in SQL: an
// auditor, a disabled user or one without a department reach nothing).
func (a *API) scope(sess *auth.Session, right string) catalogview.Scope {
	if sess.User.Role == store.RoleAdmin {
		return catalogview.Everything()
	}
	return catalogview.UserScope(sess.User.ID, right, a.now())
}

// catalog is the read model as sess's user sees it with right: every list,
// count and lookup of a console route reads through it.
func (a *API) catalog(sess *auth.Session, right string) *catalogview.View {
	return a.Store.In(a.scope(sess, right))
}

// grantedChannel returns the channel of the {id} path parameter when sess's
// user holds right on it (see grantedChannelID).
func (a *API) grantedChannel(r *http.Request, sess *auth.Session, right string) (store.Channel, error) {
	return a.grantedChannelID(r, sess, r.PathValue("id"), right)
}

// grantedChannelID returns channel id when sess's user holds right on it
// now. A channel the user cannot see at all is the 404 of an unknown one
// (nothing of its existence leaks); one the user sees but without right is
// 403 forbidden. Both are audited as denied.
func (a *API) grantedChannelID(r *http.Request, sess *auth.Session, id, right string) (store.Channel, error) {
	if id == "" || len(id) > 64 {
		return store.Channel{}, badRequest("bad channel id %q", id)
	}
	ch, err := a.catalog(sess, right).FindChannel(r.Context(), id)
	if !errors.Is(err, store.ErrNotFound) || right == "" {
		if errors.Is(err, store.ErrNotFound) {
			a.deny(r, sess, id, err)
		}
		return ch, err
	}
	if _, seen := a.catalog(sess, "").FindChannel(r.Context(), id); seen != nil {
		a.deny(r, sess, id, err)
		return store.Channel{}, err
	}
	err = fmt.Errorf("channel %s: no %s right: %w", id, right, ErrForbidden)
	a.deny(r, sess, id, err)
	return store.Channel{}, err
}

// stillGranted refuses (see grantedChannelID) a session or download of
// channel id whose user no longer holds right on it: the grants now count,
// not those it was started under. An admin holds every right. A session
// without a channel (none comes from sipserver; the tests' fakes make
// them) has nothing to check.
func (a *API) stillGranted(r *http.Request, sess *auth.Session, id, right string) error {
	if sess.User.Role == store.RoleAdmin || id == "" {
		return nil
	}
	_, err := a.grantedChannelID(r, sess, id, right)
	return err
}

// requireAdmin refuses (403, audited) a user who is not an admin: camera
// ownership is the admins'.
func (a *API) requireAdmin(r *http.Request, sess *auth.Session, target string) error {
	if sess.User.Role == store.RoleAdmin {
		return nil
	}
	err := fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, ErrForbidden)
	a.deny(r, sess, target, err)
	return err
}

// grantRoot is the subtree whose grants sess's user manages: 0 (all) for
// an admin, the own department for a dept_admin, who re-grants strictly
// below it what its department may share. Others manage none (403,
// audited).
func (a *API) grantRoot(r *http.Request, sess *auth.Session) (int64, error) {
	if sess.User.Role == store.RoleDeptAdmin && sess.User.DepartmentID != 0 {
		return sess.User.DepartmentID, nil
	}
	return 0, a.requireAdmin(r, sess, r.PathValue("id"))
}

// grantScopeJSON is a grant's camera set.
type grantScopeJSON struct {
	Kind       string   `json:"kind"`
	CivilCode  string   `json:"civil_code,omitempty"`
	DeviceID   string   `json:"device_id,omitempty"`
	ChannelIDs []string `json:"channel_ids,omitempty"`
}

// grantJSON is a grant as the API shows it.
type grantJSON struct {
	ID           int64          `json:"id"`
	DepartmentID int64          `json:"department_id"`
	Scope        grantScopeJSON `json:"scope"`
	Rights       []string       `json:"rights"`
	PTZPriority  int            `json:"ptz_priority"`
	ValidFrom    *time.Time     `json:"valid_from,omitempty"`
	ValidUntil   *time.Time     `json:"valid_until,omitempty"`
	Hours        string         `json:"hours,omitempty"`
	CreatedBy    string         `json:"created_by"`
	CreatedAt    time.Time      `json:"created_at"`
}

func toGrantJSON(g consoledb.Grant) grantJSON {
	return grantJSON{
		ID: g.ID, DepartmentID: g.DepartmentID,
		Scope: grantScopeJSON{
			Kind: g.Scope.Kind, CivilCode: g.Scope.CivilCode, DeviceID: g.Scope.DeviceID, ChannelIDs: g.Scope.ChannelIDs,
		},
		Rights: g.Rights, PTZPriority: g.PTZPriority, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil, Hours: g.Hours,
		CreatedBy: g.CreatedBy, CreatedAt: g.CreatedAt,
	}
}

// grantBody is the body of POST /departments/{id}/grants.
type grantBody struct {
	Scope       grantScopeJSON `json:"scope"`
	Rights      []string       `json:"rights"`
	PTZPriority int            `json:"ptz_priority"`
	ValidFrom   *string        `json:"valid_from"`
	ValidUntil  *string        `json:"valid_until"`
	Hours       string         `json:"hours"`
}

// grant is the grant the body describes, made by user; its grantee is the
// caller's to set.
func (in grantBody) grant(user string) (consoledb.Grant, error) {
	g := consoledb.Grant{
		Scope: consoledb.GrantScope{
			Kind: in.Scope.Kind, CivilCode: in.Scope.CivilCode, DeviceID: in.Scope.DeviceID, ChannelIDs: in.Scope.ChannelIDs,
		},
		Rights: in.Rights, PTZPriority: in.PTZPriority, Hours: in.Hours, CreatedBy: user,
	}
	var err error
	if g.ValidFrom, err = optTime("valid_from", in.ValidFrom); err != nil {
		return g, err
	}
	g.ValidUntil, err = optTime("valid_until", in.ValidUntil)
	return g, err
}

// pathID parses the positive integer path parameter name.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("bad %s %q: a positive integer", name, v)
	}
	return id, nil
}

// optTime parses an optional RFC 3339 time of the body.
func optTime(name string, v *string) (*time.Time, error) {
	if v == nil || *v == "" {
		return nil, nil
	}
	t, err := svcapi.ParseTime(name, *v, true)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (a *API) listGrants(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	dept, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// A dept_admin reads its own department's grants too: what it may share.
	root, err := a.grantRoot(r, sess)
	if err != nil {
		return err
	}
	if err := a.grantDepartment(r, sess, root, dept, true); err != nil {
		return err
	}
	gs, err := a.Store.ListGrants(r.Context(), dept)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, gs, len(gs), toGrantJSON)
	return nil
}

// grantDepartment refuses a department outside the subtree under root
// (0: all) with the 404 of an unknown one, audited; root itself is inside
// when withRoot.
func (a *API) grantDepartment(r *http.Request, sess *auth.Session, root, dept int64, withRoot bool) error {
	if root == 0 || (withRoot && dept == root) {
		return nil
	}
	in, err := a.Store.InSubtree(r.Context(), root, dept)
	if err != nil {
		return err
	}
	if !in || dept == root {
		err := newError(http.StatusNotFound, CodeNotFound, "no department %d below yours", dept)
		a.deny(r, sess, strconv.FormatInt(dept, 10), err)
		return err
	}
	return nil
}

// grantRefusal is the answer to a refused grant: a department admin's
// re-grant beyond what it may share is 403 forbidden, one naming a device
// or channel it cannot see the 404 of an unknown one, a department outside
// its subtree 404; all three audited.
func (a *API) grantRefusal(r *http.Request, sess *auth.Session, g consoledb.Grant, err error) error {
	target := strconv.FormatInt(g.DepartmentID, 10)
	switch {
	case errors.Is(err, consoledb.ErrNotShared):
		cat := a.catalog(sess, "")
		for _, id := range g.Scope.ChannelIDs {
			if _, seen := cat.FindChannel(r.Context(), id); seen != nil {
				err = fmt.Errorf("grant: channel %s: %w", id, store.ErrNotFound)
				break
			}
		}
		if g.Scope.Kind == consoledb.ScopeDevice {
			if _, seen := cat.GetDevice(r.Context(), g.Scope.DeviceID); seen != nil {
				err = fmt.Errorf("grant: device %s: %w", g.Scope.DeviceID, store.ErrNotFound)
			}
		}
		if errors.Is(err, consoledb.ErrNotShared) {
			err = fmt.Errorf("%w: %w", err, ErrForbidden)
		}
		a.deny(r, sess, target, err)
		return err
	case errors.Is(err, store.ErrNotFound) && sess.User.Role != store.RoleAdmin:
		a.deny(r, sess, target, err)
		return err
	}
	return err
}

func (a *API) createGrant(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	dept, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in grantBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	root, err := a.grantRoot(r, sess)
	if err != nil {
		return err
	}
	g, err := in.grant(sess.User.Username)
	if err != nil {
		return err
	}
	g.DepartmentID = dept
	var out consoledb.Grant
	if root == 0 {
		out, err = a.Store.CreateGrant(r.Context(), g)
	} else {
		out, err = a.Store.ShareGrant(r.Context(), g, sess.User.ID, root, a.now())
	}
	if err != nil {
		return a.grantRefusal(r, sess, g, err)
	}
	g = out
	a.note(r, sess, "grant_create", strconv.FormatInt(g.ID, 10), map[string]any{
		"department_id": g.DepartmentID, "scope": toGrantJSON(g).Scope, "rights": g.Rights, "ptz_priority": g.PTZPriority,
		"valid_from": g.ValidFrom, "valid_until": g.ValidUntil, "hours": g.Hours,
	})
	svcapi.WriteJSON(w, http.StatusCreated, toGrantJSON(g))
	return nil
}

func (a *API) deleteGrant(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	root, err := a.grantRoot(r, sess)
	if err != nil {
		return err
	}
	g, err := a.Store.DeleteGrant(r.Context(), id, root)
	if err != nil {
		if root != 0 && errors.Is(err, store.ErrNotFound) {
			a.deny(r, sess, r.PathValue("id"), err)
		}
		return err
	}
	a.note(r, sess, "grant_delete", strconv.FormatInt(id, 10), map[string]any{
		"department_id": g.DepartmentID, "scope": toGrantJSON(g).Scope, "rights": g.Rights,
	})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ownerBody is the body of the owner routes; a null department_id clears
// the ownership.
type ownerBody struct {
	DepartmentID *int64 `json:"department_id"`
}

// ownerJSON is the answer of the owner routes.
type ownerJSON struct {
	ID           string `json:"id"`
	DepartmentID *int64 `json:"department_id"`
}

func (a *API) setChannelOwner(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	return a.setOwner(w, r, sess, "channel")
}

func (a *API) setDeviceOwner(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	return a.setOwner(w, r, sess, "device")
}

func (a *API) setRegionOwner(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	return a.setOwner(w, r, sess, "region")
}

// ownershipJSON is one ownership of GET /owners.
type ownershipJSON struct {
	Kind         string    `json:"kind"`
	ID           string    `json:"id"`
	DepartmentID int64     `json:"department_id"`
	SetBy        string    `json:"set_by"`
	SetAt        time.Time `json:"set_at"`
}

func toOwnershipJSON(o consoledb.Ownership) ownershipJSON {
	return ownershipJSON{Kind: o.Kind, ID: o.ID, DepartmentID: o.DepartmentID, SetBy: o.SetBy, SetAt: o.SetAt}
}

// listOwners lists the camera ownerships: an admin's all, a dept_admin's
// those of its subtree.
func (a *API) listOwners(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	root, err := a.grantRoot(r, sess)
	if err != nil {
		return err
	}
	owners, err := a.Store.ListOwners(r.Context(), root)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, owners, len(owners), toOwnershipJSON)
	return nil
}

// setOwner sets the owning department of the channel or device {id}, or
// of the region {code}.
func (a *API) setOwner(w http.ResponseWriter, r *http.Request, sess *auth.Session, kind string) error {
	var in ownerBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	if in.DepartmentID != nil && *in.DepartmentID <= 0 {
		return badRequest("department_id must be a positive integer or null")
	}
	id := r.PathValue("id")
	if kind == "region" {
		id = r.PathValue("code")
	}
	if err := a.requireAdmin(r, sess, id); err != nil {
		return err
	}
	var dept int64
	if in.DepartmentID != nil {
		dept = *in.DepartmentID
	}
	var err error
	switch kind {
	case "channel":
		var ch store.Channel
		if ch, err = a.grantedChannel(r, sess, ""); err == nil {
			err = a.Store.SetChannelOwner(r.Context(), ch.ID, dept, sess.User.Username)
		}
	case "device":
		if _, err = a.Store.GetDevice(r.Context(), id); err == nil {
			err = a.Store.SetDeviceOwner(r.Context(), id, dept, sess.User.Username)
		}
	default:
		// A region needs no camera yet: it owns the future ones too.
		err = a.Store.SetRegionOwner(r.Context(), id, dept, sess.User.Username)
	}
	if err != nil {
		return err
	}
	a.note(r, sess, kind+"_owner", id, map[string]any{"department_id": in.DepartmentID})
	svcapi.WriteJSON(w, http.StatusOK, ownerJSON{ID: id, DepartmentID: in.DepartmentID})
	return nil
}
