package consoledb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// department inserts a department and returns its ID.
func department(t *testing.T, db *consoledb.DB, name string) int64 {
	t.Helper()
	var id int64
	if err := db.Pool.QueryRow(context.Background(), `INSERT INTO departments (name) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCreateGrantValidates(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	dept := department(t, db, "city")
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := at.Add(time.Hour)
	tests := []struct {
		name string
		g    consoledb.Grant
		want error
	}{
		{"region", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "region", CivilCode: "3402"}, Rights: []string{"live"}}, nil},
		{"device with all", consoledb.Grant{
			Scope: consoledb.GrantScope{Kind: "device", DeviceID: "34020000001320000001"}, Rights: []string{"live", "ptz"},
			PTZPriority: 7, ValidFrom: &at, ValidUntil: &later, Hours: "20:00-08:00",
		}, nil},
		{"channels", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "channels", ChannelIDs: []string{"a1", "a2"}}, Rights: []string{"download"}}, nil},
		{"unknown kind", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "city"}, Rights: []string{"live"}}, store.ErrInvalid},
		{"odd civil code", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "region", CivilCode: "340"}, Rights: []string{"live"}}, store.ErrInvalid},
		{"region with device", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "region", CivilCode: "34", DeviceID: "x"}, Rights: []string{"live"}}, store.ErrInvalid},
		{"empty channels", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "channels"}, Rights: []string{"live"}}, store.ErrInvalid},
		{"bad channel id", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "channels", ChannelIDs: []string{"a'--"}}, Rights: []string{"live"}}, store.ErrInvalid},
		{"no rights", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "region", CivilCode: "34"}}, store.ErrInvalid},
		{"unknown right", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "region", CivilCode: "34"}, Rights: []string{"fly"}}, store.ErrInvalid},
		{"priority 10", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "region", CivilCode: "34"}, Rights: []string{"ptz"}, PTZPriority: 10}, store.ErrInvalid},
		{"window backwards", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "region", CivilCode: "34"}, Rights: []string{"live"}, ValidFrom: &later, ValidUntil: &at}, store.ErrInvalid},
		{"bad hours", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "region", CivilCode: "34"}, Rights: []string{"live"}, Hours: "8-20"}, store.ErrInvalid},
		{"empty hours", consoledb.Grant{Scope: consoledb.GrantScope{Kind: "region", CivilCode: "34"}, Rights: []string{"live"}, Hours: "08:00-08:00"}, store.ErrInvalid},
		{"unknown department", consoledb.Grant{DepartmentID: -1, Scope: consoledb.GrantScope{Kind: "region", CivilCode: "34"}, Rights: []string{"live"}}, store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.g
			if g.DepartmentID == 0 {
				g.DepartmentID = dept
			}
			out, err := db.CreateGrant(ctx, g)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("CreateGrant: %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			if out.ID == 0 || out.Hours != g.Hours || out.Scope.Kind != g.Scope.Kind || out.PTZPriority < 1 {
				t.Errorf("stored %+v", out)
			}
		})
	}
	gs, err := db.ListGrants(ctx, dept)
	if err != nil || len(gs) != 3 {
		t.Fatalf("ListGrants: %d, %v", len(gs), err)
	}
	if gs[0].PTZPriority != consoledb.DefaultPTZPriority || gs[1].Hours != "20:00-08:00" || gs[1].ValidUntil == nil {
		t.Errorf("grants %+v", gs)
	}
	if _, err := db.DeleteGrant(ctx, gs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteGrant(ctx, gs[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

// TestOwnersAndPTZPriority checks ownership (set, replace, clear) and the
// PTZ priority: the best of the ptz grants in force, the owner's 9.
func TestOwnersAndPTZPriority(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	a, b := department(t, db, "a"), department(t, db, "b")
	var user int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, department_id)
		VALUES ('op', 'x', 'operator', $1) RETURNING id`, a).Scan(&user); err != nil {
		t.Fatal(err)
	}
	ch := store.Channel{DeviceID: "dev1", ID: "cam1", CivilCode: "34020101"}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	prio := func() int {
		t.Helper()
		p, err := db.PTZPriority(ctx, user, ch, now)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := prio(); p != 0 {
		t.Errorf("no grant: priority %d", p)
	}
	for _, g := range []consoledb.Grant{
		{DepartmentID: a, Scope: consoledb.GrantScope{Kind: "region", CivilCode: "3402"}, Rights: []string{"ptz"}, PTZPriority: 3},
		{DepartmentID: a, Scope: consoledb.GrantScope{Kind: "device", DeviceID: "dev1"}, Rights: []string{"live"}, PTZPriority: 8},
		{DepartmentID: b, Scope: consoledb.GrantScope{Kind: "channels", ChannelIDs: []string{"cam1"}}, Rights: []string{"ptz"}, PTZPriority: 7},
	} {
		if _, err := db.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if p := prio(); p != 3 {
		t.Errorf("region ptz grant 3 (the live-only 8 and b's 7 do not count): %d", p)
	}
	if err := db.SetDeviceOwner(ctx, "dev1", b, "root"); err != nil {
		t.Fatal(err)
	}
	if d, err := db.Owner(ctx, ch); err != nil || d != b {
		t.Errorf("owner %d, %v; want %d", d, err, b)
	}
	if err := db.SetChannelOwner(ctx, "cam1", a, "root"); err != nil {
		t.Fatal(err)
	}
	if d, err := db.Owner(ctx, ch); err != nil || d != a {
		t.Errorf("channel owner %d, %v; want %d", d, err, a)
	}
	if p := prio(); p != consoledb.OwnerPTZPriority {
		t.Errorf("owner's priority %d", p)
	}
	if err := db.SetChannelOwner(ctx, "cam1", 0, "root"); err != nil {
		t.Fatal(err)
	}
	if d, _ := db.Owner(ctx, ch); d != b {
		t.Errorf("after clearing the channel's owner: %d, want the device's %d", d, b)
	}
	if err := db.SetDeviceOwner(ctx, "dev1", 1<<40, "root"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown department: %v", err)
	}
}
