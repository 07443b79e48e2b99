package consoledb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sharpeyes/sharpeyes/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const departmentColumns = `id, COALESCE(parent_id, 0), name, level, civil_code, created_at, updated_at`

// civilCodePattern is a region code: 2–10 digits in pairs, or none.
var civilCodePattern = regexp.MustCompile(`^([0-9]{2}){0,5}$`)

func scanDepartment(row pgx.Row) (store.Department, error) {
	var d store.Department
	err := row.Scan(&d.ID, &d.ParentID, &d.Name, &d.Level, &d.CivilCode, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

func validDepartment(d store.Department) error {
	switch {
	case strings.TrimSpace(d.Name) == "":
		return fmt.Errorf("department: name is required: %w", store.ErrInvalid)
	case !utf8.ValidString(d.Name) || strings.IndexFunc(d.Name, unicode.IsControl) >= 0:
		return fmt.Errorf("department: name has invalid characters: %w", store.ErrInvalid)
	case utf8.RuneCountInString(d.Name) > store.MaxDepartmentNameLen:
		return fmt.Errorf("department: name is longer than %d characters: %w", store.MaxDepartmentNameLen, store.ErrInvalid)
	case !store.ValidLevel(d.Level):
		return fmt.Errorf("department %s: level %q: %w", d.Name, d.Level, store.ErrInvalid)
	case !civilCodePattern.MatchString(d.CivilCode):
		return fmt.Errorf("department %s: civil code %q is not 2–10 digits in pairs: %w", d.Name, d.CivilCode, store.ErrInvalid)
	case d.ParentID < 0 || (d.ID != 0 && d.ParentID == d.ID):
		return fmt.Errorf("department %s: parent %d: %w", d.Name, d.ParentID, store.ErrInvalid)
	}
	return nil
}

// departmentErr maps the constraint violations of a department write. A
// foreign key violation is a missing parent when writing (insert, update:
// nothing else of a department refers to another row) and a department
// still referred to when deleting.
func departmentErr(what string, deleting bool, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505":
			return fmt.Errorf("%s: a sibling has that name: %w", what, store.ErrExists)
		case pgErr.Code == "23503" && deleting:
			return fmt.Errorf("%s: sub-departments, users or grants still refer to it (%s): %w", what, pgErr.TableName, store.ErrInUse)
		case pgErr.Code == "23503":
			return fmt.Errorf("%s: the parent department does not exist: %w", what, store.ErrInvalid)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// nullID is id as a nullable column: 0 is NULL.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// CreateDepartment adds a department and returns it as stored:
// store.ErrExists when a sibling has its name, store.ErrInvalid when its
// parent does not exist.
func (s *DB) CreateDepartment(ctx context.Context, d store.Department) (store.Department, error) {
	if err := validDepartment(d); err != nil {
		return store.Department{}, err
	}
	out, err := scanDepartment(s.Pool.QueryRow(ctx, `
INSERT INTO departments (parent_id, name, level, civil_code) VALUES ($1, $2, $3, $4)
RETURNING `+departmentColumns, nullID(d.ParentID), d.Name, d.Level, d.CivilCode))
	if err != nil {
		return store.Department{}, departmentErr("create department "+d.Name, false, err)
	}
	return out, nil
}

// DepartmentByID returns a department, or store.ErrNotFound.
func (s *DB) DepartmentByID(ctx context.Context, id int64) (store.Department, error) {
	d, err := scanDepartment(s.Pool.QueryRow(ctx, `SELECT `+departmentColumns+` FROM departments WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Department{}, fmt.Errorf("department %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Department{}, fmt.Errorf("get department %d: %w", id, err)
	}
	return d, nil
}

// subtreeCTE selects the ids of department $1 and its descendants as "sub".
const subtreeCTE = `WITH RECURSIVE sub AS (
	SELECT id FROM departments WHERE id = $1
	UNION ALL
	SELECT d.id FROM departments d JOIN sub ON d.parent_id = sub.id
)`

// ListDepartments returns the departments of the subtree under root
// (root included; 0: every department), parents before children, siblings
// by name.
func (s *DB) ListDepartments(ctx context.Context, root int64) ([]store.Department, error) {
	rows, err := s.Pool.Query(ctx, `
WITH RECURSIVE tree AS (
	SELECT id, ARRAY[name] AS path FROM departments WHERE ($1 = 0 AND parent_id IS NULL) OR id = $1
	UNION ALL
	SELECT d.id, tree.path || d.name FROM departments d JOIN tree ON d.parent_id = tree.id
)
SELECT `+departmentColumns+` FROM departments JOIN tree USING (id) ORDER BY tree.path`, root)
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Department, error) { return scanDepartment(r) })
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	return out, nil
}

// InSubtree reports whether department id is root or one of its descendants.
func (s *DB) InSubtree(ctx context.Context, root, id int64) (bool, error) {
	if root == 0 || id == 0 {
		return false, nil
	}
	var in bool
	err := s.Pool.QueryRow(ctx, subtreeCTE+` SELECT EXISTS (SELECT 1 FROM sub WHERE id = $2)`, root, id).Scan(&in)
	if err != nil {
		return false, fmt.Errorf("department %d under %d: %w", id, root, err)
	}
	return in, nil
}

// UpdateDepartment writes the name, level, civil code and parent of d.
// A move under d itself or one of its descendants is store.ErrInUse, and so
// is a move of a subtree with users unless moveUsers: a department inherits
// its ancestors' grants, so a move changes what its users see. The checks
// run under a lock that orders them with every other write of the tree, so
// that two concurrent moves cannot make a cycle.
func (s *DB) UpdateDepartment(ctx context.Context, d store.Department, moveUsers bool) (store.Department, error) {
	if err := validDepartment(d); err != nil {
		return store.Department{}, err
	}
	what := fmt.Sprintf("update department %d", d.ID)
	var out store.Department
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE departments IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		if d.ParentID != 0 {
			var cycle bool
			err := tx.QueryRow(ctx, subtreeCTE+` SELECT EXISTS (SELECT 1 FROM sub WHERE id = $2)`, d.ID, d.ParentID).Scan(&cycle)
			if err != nil {
				return err
			}
			if cycle {
				return fmt.Errorf("department %d cannot move under its own subtree: %w", d.ID, store.ErrInUse)
			}
		}
		if !moveUsers {
			var users bool
			err := tx.QueryRow(ctx, subtreeCTE+`
SELECT EXISTS (SELECT 1 FROM users WHERE department_id IN (SELECT id FROM sub))
	AND (SELECT COALESCE(parent_id, 0) FROM departments WHERE id = $1) <> $2`, d.ID, d.ParentID).Scan(&users)
			if err != nil {
				return err
			}
			if users {
				return fmt.Errorf("department %d has users in its subtree, whose grants a move changes; move it explicitly: %w", d.ID, store.ErrInUse)
			}
		}
		var err error
		out, err = scanDepartment(tx.QueryRow(ctx, `
UPDATE departments SET parent_id = $2, name = $3, level = $4, civil_code = $5, updated_at = now()
WHERE id = $1 RETURNING `+departmentColumns, d.ID, nullID(d.ParentID), d.Name, d.Level, d.CivilCode))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("department %d: %w", d.ID, store.ErrNotFound)
		}
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInUse):
		return store.Department{}, err
	case err != nil:
		return store.Department{}, departmentErr(what, false, err)
	}
	return out, nil
}

// DeleteDepartment removes department id: store.ErrInUse while
// sub-departments, users or grants refer to it, store.ErrNotFound when
// there is none.
func (s *DB) DeleteDepartment(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM departments WHERE id = $1`, id)
	if err != nil {
		return departmentErr(fmt.Sprintf("delete department %d", id), true, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("department %d: %w", id, store.ErrNotFound)
	}
	return nil
}
