package consoledb_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

func newDepartment(t *testing.T, s *consoledb.DB, parent int64, name, level, code string) store.Department {
	t.Helper()
	d, err := s.CreateDepartment(context.Background(), store.Department{ParentID: parent, Name: name, Level: level, CivilCode: code})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDepartments(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	prov := newDepartment(t, s, 0, "江苏省", store.LevelProvince, "32")
	city := newDepartment(t, s, prov.ID, "苏州市", store.LevelCity, "3205")
	police := newDepartment(t, s, city.ID, "公安分局", store.LevelUnit, "")
	other := newDepartment(t, s, 0, "浙江省", store.LevelProvince, "33")
	if city.ParentID != prov.ID || prov.ParentID != 0 || city.CivilCode != "3205" {
		t.Fatalf("created %+v %+v", prov, city)
	}

	for _, tc := range []struct {
		name string
		d    store.Department
		want error
	}{
		{"empty name", store.Department{Name: " ", Level: store.LevelUnit}, store.ErrInvalid},
		{"control character", store.Department{Name: "a\x01", Level: store.LevelUnit}, store.ErrInvalid},
		{"unknown level", store.Department{Name: "x", Level: "planet"}, store.ErrInvalid},
		{"odd civil code", store.Department{Name: "x", Level: store.LevelCity, CivilCode: "320"}, store.ErrInvalid},
		{"letters in civil code", store.Department{Name: "x", Level: store.LevelCity, CivilCode: "32ab"}, store.ErrInvalid},
		{"missing parent", store.Department{ParentID: 99999, Name: "x", Level: store.LevelUnit}, store.ErrInvalid},
		{"sibling name taken", store.Department{ParentID: prov.ID, Name: "苏州市", Level: store.LevelCity}, store.ErrExists},
		{"root name taken", store.Department{Name: "江苏省", Level: store.LevelProvince}, store.ErrExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.CreateDepartment(ctx, tc.d); !errors.Is(err, tc.want) {
				t.Fatalf("CreateDepartment(%+v) = %v, want %v", tc.d, err, tc.want)
			}
		})
	}

	all, err := s.ListDepartments(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range all {
		names = append(names, d.Name)
	}
	if want := []string{"江苏省", "苏州市", "公安分局", "浙江省"}; !slices.Equal(names, want) {
		t.Fatalf("tree order %v, want %v", names, want)
	}
	sub, err := s.ListDepartments(ctx, city.ID)
	if err != nil || len(sub) != 2 || sub[0].ID != city.ID || sub[1].ID != police.ID {
		t.Fatalf("subtree of the city: %+v %v", sub, err)
	}
	for _, tc := range []struct {
		root, id int64
		want     bool
	}{
		{prov.ID, police.ID, true}, {prov.ID, prov.ID, true}, {city.ID, prov.ID, false}, {other.ID, police.ID, false}, {0, city.ID, false},
	} {
		if in, err := s.InSubtree(ctx, tc.root, tc.id); err != nil || in != tc.want {
			t.Errorf("InSubtree(%d, %d) = %v %v, want %v", tc.root, tc.id, in, err, tc.want)
		}
	}

	// Moves: never under its own subtree; with users only when asked.
	prov.ParentID = police.ID
	if _, err := s.UpdateDepartment(ctx, prov, true); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("move under own descendant: %v, want ErrInUse", err)
	}
	if _, err := s.CreateUser(ctx, store.User{Username: "cop", PasswordHash: "x", Role: store.RoleOperator, DepartmentID: police.ID}); err != nil {
		t.Fatal(err)
	}
	city.ParentID = other.ID
	if _, err := s.UpdateDepartment(ctx, city, false); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("move of a subtree with users: %v, want ErrInUse", err)
	}
	city.Name = "苏州"
	city.ParentID = prov.ID
	if got, err := s.UpdateDepartment(ctx, city, false); err != nil || got.Name != "苏州" {
		t.Fatalf("rename without a move: %+v %v", got, err)
	}
	city.ParentID = other.ID
	if got, err := s.UpdateDepartment(ctx, city, true); err != nil || got.ParentID != other.ID {
		t.Fatalf("explicit move: %+v %v", got, err)
	}
	if _, err := s.UpdateDepartment(ctx, store.Department{ID: 99999, Name: "x", Level: store.LevelUnit}, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}

	// Deletes: refused while children or users refer to it.
	for _, id := range []int64{city.ID, police.ID} {
		if err := s.DeleteDepartment(ctx, id); !errors.Is(err, store.ErrInUse) {
			t.Fatalf("delete %d in use: %v, want ErrInUse", id, err)
		}
	}
	if err := s.DeleteDepartment(ctx, prov.ID); err != nil {
		t.Fatalf("delete the emptied province: %v", err)
	}
	if err := s.DeleteDepartment(ctx, prov.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestUsersInDepartments(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	root := newDepartment(t, s, 0, "市局", store.LevelCity, "3205")
	branch := newDepartment(t, s, root.ID, "分局", store.LevelUnit, "")
	elsewhere := newDepartment(t, s, 0, "城管", store.LevelUnit, "")
	for _, u := range []store.User{
		{Username: "a", Role: store.RoleDeptAdmin, DepartmentID: root.ID},
		{Username: "b", Role: store.RoleOperator, DepartmentID: branch.ID},
		{Username: "c", Role: store.RoleAuditor, DepartmentID: elsewhere.ID},
		{Username: "d", Role: store.RoleAdmin},
	} {
		u.PasswordHash = "x"
		if _, err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateUser(ctx, store.User{Username: "e", PasswordHash: "x", Role: store.RoleOperator, DepartmentID: 99999}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown department: %v, want ErrInvalid", err)
	}
	for _, tc := range []struct {
		root int64
		want []string
	}{{0, []string{"a", "b", "c", "d"}}, {root.ID, []string{"a", "b"}}, {branch.ID, []string{"b"}}, {elsewhere.ID, []string{"c"}}} {
		users, err := s.ListUsers(ctx, tc.root)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range users {
			names = append(names, u.Username)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("ListUsers(%d) = %v, want %v", tc.root, names, tc.want)
		}
	}
	b, err := s.UserByName(ctx, "b")
	if err != nil || b.DepartmentID != branch.ID || b.Role != store.RoleOperator {
		t.Fatalf("b: %+v %v", b, err)
	}
	b.Username, b.DepartmentID = "b2", elsewhere.ID
	if got, err := s.UpdateUser(ctx, b); err != nil || got.Username != "b2" || got.DepartmentID != elsewhere.ID {
		t.Fatalf("update: %+v %v", got, err)
	}
	b.Username = "a"
	if _, err := s.UpdateUser(ctx, b); !errors.Is(err, store.ErrExists) {
		t.Fatalf("rename onto a taken username: %v", err)
	}
}

func TestLastAdminStays(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	admin := newUser(t, s, "root", store.RoleAdmin)
	second := newUser(t, s, "root2", store.RoleAdmin)
	if _, err := s.SetDisabled(ctx, second.ID, true, "left", now); err != nil {
		t.Fatal(err)
	}
	demoted := admin
	demoted.Role = store.RoleOperator
	for name, f := range map[string]func() error{
		"demote":  func() error { _, err := s.UpdateUser(ctx, demoted); return err },
		"disable": func() error { _, err := s.SetDisabled(ctx, admin.ID, true, "test", now); return err },
		"delete":  func() error { return s.DeleteUser(ctx, admin.ID) },
	} {
		if err := f(); !errors.Is(err, store.ErrLastAdmin) {
			t.Errorf("%s the last enabled admin: %v, want ErrLastAdmin", name, err)
		}
	}
	if _, err := s.SetDisabled(ctx, second.ID, false, "", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled(ctx, admin.ID, true, "test", now); err != nil {
		t.Fatalf("disable one of two admins: %v", err)
	}
}

func TestSetDisabledEndsSessions(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := newUser(t, s, "op", store.RoleOperator)
	tok := []byte("0123456789abcdef0123456789abcdef")
	if err := s.CreateUserSession(ctx, store.UserSession{TokenHash: tok, UserID: u.ID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled(ctx, u.ID, true, "", now); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("disable without a reason: %v", err)
	}
	got, err := s.SetDisabled(ctx, u.ID, true, "left the unit", now)
	if err != nil || !got.Disabled || got.DisabledReason != "left the unit" || got.DisabledAt == nil || !got.DisabledAt.Equal(now) {
		t.Fatalf("disabled: %+v %v", got, err)
	}
	if _, _, err := s.UserSessionByToken(ctx, tok, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of a disabled user: %v, want ErrNotFound", err)
	}
	later := now.Add(time.Hour)
	got, err = s.SetDisabled(ctx, u.ID, false, "", later)
	if err != nil || got.Disabled || got.DisabledReason != "" || got.DisabledAt != nil || got.EnabledAt == nil || !got.EnabledAt.Equal(later) {
		t.Fatalf("enabled: %+v %v", got, err)
	}
}

func TestDisableDormantUsers(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Now()
	old := now.Add(-3 * 365 * 24 * time.Hour)
	since := now.Add(-2 * 365 * 24 * time.Hour)
	mk := func(name, role string, created time.Time, lastLogin, enabled *time.Time) {
		t.Helper()
		u := newUser(t, s, name, role)
		if _, err := s.Pool.Exec(ctx, `UPDATE users SET created_at = $2, last_login_at = $3, enabled_at = $4 WHERE id = $1`,
			u.ID, created, lastLogin, enabled); err != nil {
			t.Fatal(err)
		}
	}
	recent := now.Add(-time.Hour)
	mk("dormant-op", store.RoleOperator, old, &old, nil)
	mk("never-logged-in", store.RoleAuditor, old, nil, nil)
	mk("active-op", store.RoleOperator, old, &recent, nil)
	mk("re-enabled", store.RoleOperator, old, &old, &recent)
	mk("new-op", store.RoleOperator, recent, nil, nil)
	mk("dormant-admin", store.RoleAdmin, old, &old, nil)
	got, err := s.DisableDormantUsers(ctx, since, now, "dormant")
	if err != nil {
		t.Fatal(err)
	}
	// The only admin is dormant too but stays: someone must be able to log in.
	if want := []string{"dormant-op", "never-logged-in"}; !slices.Equal(got, want) {
		t.Fatalf("disabled %v, want %v", got, want)
	}
	mk("active-admin", store.RoleAdmin, old, &recent, nil)
	if got, err = s.DisableDormantUsers(ctx, since, now, "dormant"); err != nil || !slices.Equal(got, []string{"dormant-admin"}) {
		t.Fatalf("with an active admin: %v %v", got, err)
	}
	u, err := s.UserByName(ctx, "dormant-op")
	if err != nil || !u.Disabled || u.DisabledReason != "dormant" {
		t.Fatalf("dormant-op: %+v %v", u, err)
	}
}

func TestPasswordHistory(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	u := newUser(t, s, "op", store.RoleOperator)
	for _, h := range []string{"h1", "h2", "h3", "h4"} {
		if err := s.SetPassword(ctx, u.ID, h, false, 2); err != nil {
			t.Fatal(err)
		}
	}
	// The current hash is h4; the history keeps the newest two replaced ones.
	got, err := s.PasswordHistory(ctx, u.ID)
	if err != nil || !slices.Equal(got, []string{"h3", "h2"}) {
		t.Fatalf("history %v %v, want [h3 h2]", got, err)
	}
	if err := s.SetPassword(ctx, u.ID, "h5", false, 0); err != nil {
		t.Fatal(err)
	}
	if got, err = s.PasswordHistory(ctx, u.ID); err != nil || len(got) != 0 {
		t.Fatalf("history kept with keep 0: %v %v", got, err)
	}
}

// TestConcurrentChangesKeepTheRules runs two changes that are each allowed
// alone but not together, at once: whichever goes first, exactly one
// passes — two admins disabling each other leave one, two crossed moves
// make no cycle.
func TestConcurrentChangesKeepTheRules(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := newUser(t, s, "a", store.RoleAdmin)
	b := newUser(t, s, "b", store.RoleAdmin)
	x := newDepartment(t, s, 0, "x", store.LevelUnit, "")
	y := newDepartment(t, s, 0, "y", store.LevelUnit, "")
	xUnderY, yUnderX := x, y
	xUnderY.ParentID, yUnderX.ParentID = y.ID, x.ID
	for _, tc := range []struct {
		name string
		want error
		f    [2]func() error
	}{
		{"admins disable each other", store.ErrLastAdmin, [2]func() error{
			func() error { _, err := s.SetDisabled(ctx, a.ID, true, "by b", now); return err },
			func() error { _, err := s.SetDisabled(ctx, b.ID, true, "by a", now); return err },
		}},
		{"crossed moves", store.ErrInUse, [2]func() error{
			func() error { _, err := s.UpdateDepartment(ctx, xUnderY, false); return err },
			func() error { _, err := s.UpdateDepartment(ctx, yUnderX, false); return err },
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errs [2]error
			var wg sync.WaitGroup
			for i, f := range tc.f {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = f()
				}()
			}
			wg.Wait()
			ok, refused := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, tc.want):
					refused++
				default:
					t.Fatalf("unexpected error: %v", err)
				}
			}
			if ok != 1 || refused != 1 {
				t.Fatalf("errors %v, want one success and one %v", errs, tc.want)
			}
		})
	}
}
