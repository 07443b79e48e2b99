package console

import (
	"bytes"
	"encoding/json"
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

// departmentJSON is a department as the API shows it.
type departmentJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	ParentID  *int64 `json:"parent_id"`
	Level     string `json:"level"`
	CivilCode string `json:"civil_code"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// optionalID is a nullable id of a body, told apart from an absent one:
// Set when the field was there, ID 0 when it was null (no department, the
// root).
type optionalID struct {
	Set bool
	ID  int64
}

// UnmarshalJSON implements json.Unmarshaler; it is called for null too.
func (o *optionalID) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(b, []byte("null")) {
		o.ID = 0
		return nil
	}
	if err := json.Unmarshal(b, &o.ID); err != nil || o.ID < 0 {
		return fmt.Errorf("want a positive integer id or null, got %s", b)
	}
	return nil
}

// departmentRequest is the body of POST and PATCH /departments; PATCH
// changes the fields present.
type departmentRequest struct {
	Name      *string    `json:"name"`
	ParentID  optionalID `json:"parent_id"`
	Level     *string    `json:"level"`
	CivilCode *string    `json:"civil_code"`
}

func toDepartmentJSON(d store.Department) departmentJSON {
	out := departmentJSON{
		ID: d.ID, Name: d.Name, Level: d.Level, CivilCode: d.CivilCode,
		CreatedAt: d.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: d.UpdatedAt.UTC().Format(time.RFC3339),
	}
	if d.ParentID != 0 {
		out.ParentID = &d.ParentID
	}
	return out
}

// departmentRoot is the subtree sess's user manages: 0 (everything) for an
// admin, the own department for a dept_admin. Others manage nothing
// (ErrForbidden, audited).
func (a *API) departmentRoot(r *http.Request, sess *auth.Session) (int64, error) {
	switch {
	case sess.User.Role == store.RoleAdmin:
		return 0, nil
	case sess.User.Role == store.RoleDeptAdmin && sess.User.DepartmentID != 0:
		return sess.User.DepartmentID, nil
	}
	err := fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, ErrForbidden)
	a.deny(r, sess, r.PathValue("id"), err)
	return 0, err
}

// manages reports whether department id is in the subtree under root
// (0: everything, an admin's).
func (a *API) manages(r *http.Request, root, id int64) (bool, error) {
	if root == 0 {
		return true, nil
	}
	return a.Store.InSubtree(r.Context(), root, id)
}

// visibleDepartment returns department {id} when sess's user manages it
// (or reads them all: an auditor filters the audit log by department);
// any other is the 404 of an unknown one.
func (a *API) visibleDepartment(r *http.Request, sess *auth.Session) (store.Department, int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Department{}, 0, err
	}
	root := int64(0)
	if sess.User.Role != store.RoleAuditor {
		if root, err = a.departmentRoot(r, sess); err != nil {
			return store.Department{}, 0, err
		}
	}
	notFound := newError(http.StatusNotFound, CodeNotFound, "no department %d", id)
	if in, err := a.manages(r, root, id); err != nil {
		return store.Department{}, root, err
	} else if !in {
		return store.Department{}, root, a.refuse(r, sess, strconv.FormatInt(id, 10), notFound,
			fmt.Errorf("department %d outside the user's subtree: %w", id, ErrForbidden))
	}
	d, err := a.Store.DepartmentByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Department{}, root, notFound
	}
	return d, root, err
}

func (a *API) listDepartments(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	root := int64(0)
	if sess.User.Role != store.RoleAuditor {
		var err error
		if root, err = a.departmentRoot(r, sess); err != nil {
			return err
		}
	}
	ds, err := a.Store.ListDepartments(r.Context(), root)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, ds, len(ds), toDepartmentJSON)
	return nil
}

func (a *API) getDepartment(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	d, _, err := a.visibleDepartment(r, sess)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, toDepartmentJSON(d))
	return nil
}

// checkParent refuses (403, audited) a parent outside the subtree the user
// manages; a dept_admin's departments always have a parent in it.
func (a *API) checkParent(r *http.Request, sess *auth.Session, root, parent int64) error {
	if root == 0 {
		return nil
	}
	in, err := a.manages(r, root, parent)
	if err != nil {
		return err
	}
	if parent == 0 || !in {
		err := fmt.Errorf("parent department %d is outside your department: %w", parent, ErrForbidden)
		a.deny(r, sess, strconv.FormatInt(parent, 10), err)
		return err
	}
	return nil
}

func (a *API) createDepartment(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	root, err := a.departmentRoot(r, sess)
	if err != nil {
		return err
	}
	var in departmentRequest
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	if in.Name == nil {
		return badRequest("name is required")
	}
	d := store.Department{Name: *in.Name, ParentID: in.ParentID.ID, Level: store.LevelUnit}
	if in.Level != nil {
		d.Level = *in.Level
	}
	if in.CivilCode != nil {
		d.CivilCode = *in.CivilCode
	}
	if err := a.checkParent(r, sess, root, d.ParentID); err != nil {
		return err
	}
	d, err = a.Store.CreateDepartment(r.Context(), d)
	if err != nil {
		return err
	}
	a.note(r, sess, "department_create", strconv.FormatInt(d.ID, 10), map[string]any{
		"name": d.Name, "parent_id": d.ParentID, "level": d.Level, "civil_code": d.CivilCode,
	})
	svcapi.WriteJSON(w, http.StatusCreated, toDepartmentJSON(d))
	return nil
}

func (a *API) updateDepartment(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	d, root, err := a.changeableDepartment(r, sess)
	if err != nil {
		return err
	}
	moveUsers, err := boolQuery(r, "move_users")
	if err != nil {
		return err
	}
	var in departmentRequest
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	before := d
	if in.Name != nil {
		d.Name = *in.Name
	}
	if in.Level != nil {
		d.Level = *in.Level
	}
	if in.CivilCode != nil {
		d.CivilCode = *in.CivilCode
	}
	if in.ParentID.Set {
		d.ParentID = in.ParentID.ID
		if err := a.checkParent(r, sess, root, d.ParentID); err != nil {
			return err
		}
	}
	d, err = a.Store.UpdateDepartment(r.Context(), d, moveUsers)
	if err != nil {
		return err
	}
	a.note(r, sess, "department_update", strconv.FormatInt(d.ID, 10), map[string]any{
		"before": toDepartmentJSON(before), "after": toDepartmentJSON(d),
	})
	svcapi.WriteJSON(w, http.StatusOK, toDepartmentJSON(d))
	return nil
}

func (a *API) deleteDepartment(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	d, _, err := a.changeableDepartment(r, sess)
	if err != nil {
		return err
	}
	if err := a.Store.DeleteDepartment(r.Context(), d.ID); err != nil {
		return err
	}
	a.note(r, sess, "department_delete", strconv.FormatInt(d.ID, 10), map[string]any{"name": d.Name})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// changeableDepartment is visibleDepartment for a change: an auditor
// changes nothing, a dept_admin not its own department.
func (a *API) changeableDepartment(r *http.Request, sess *auth.Session) (store.Department, int64, error) {
	root, err := a.departmentRoot(r, sess)
	if err != nil {
		return store.Department{}, 0, err
	}
	d, _, err := a.visibleDepartment(r, sess)
	if err != nil {
		return d, root, err
	}
	if root != 0 && d.ID == root {
		err := fmt.Errorf("department %d is your own: its changes are an admin's: %w", d.ID, ErrForbidden)
		a.deny(r, sess, strconv.FormatInt(d.ID, 10), err)
		return store.Department{}, root, err
	}
	return d, root, nil
}

// boolQuery parses the optional boolean query parameter name.
func boolQuery(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("bad %s %q: true or false", name, v)
	}
	return b, nil
}
