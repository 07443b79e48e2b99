package consoledb_test

import (
	"context"
	"errors"
	"slices"
	"strings"
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
	if _, err := db.DeleteGrant(ctx, gs[0].ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteGrant(ctx, gs[0].ID, 0); !errors.Is(err, store.ErrNotFound) {
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

// TestShareGrant checks a department admin's re-grant: only strictly below
// its department, only rights it holds with share, on a camera set its
// grants or ownerships reach, never longer, at other hours or with a higher
// PTZ priority than they allow.
func TestShareGrant(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	top, other := department(t, db, "top"), department(t, db, "other")
	var below, deeper int64
	for _, d := range []struct {
		id     *int64
		name   string
		parent int64
	}{{&below, "below", top}, {&deeper, "deeper", 0}} {
		if d.parent == 0 {
			d.parent = below
		}
		if err := db.Pool.QueryRow(ctx, `INSERT INTO departments (name, parent_id) VALUES ($1, $2) RETURNING id`,
			d.name, d.parent).Scan(d.id); err != nil {
			t.Fatal(err)
		}
	}
	var admin int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, department_id)
		VALUES ('da', 'x', 'dept_admin', $1) RETURNING id`, top).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO devices (id) VALUES ('dev1'), ('dev2'), ('dev3');
INSERT INTO channels (device_id, id, civil_code) VALUES ('dev1', 'cam1', '34020101'), ('dev1', 'cam2', '34020101'),
	('dev2', 'cam3', '34030101'), ('dev3', 'cam4', '11010101')`); err != nil {
		t.Fatal(err)
	}
	until := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, g := range []consoledb.Grant{
		{
			DepartmentID: top, Scope: consoledb.GrantScope{Kind: "region", CivilCode: "3402"},
			Rights: []string{"live", "playback", "share"}, ValidUntil: &until,
		},
		{DepartmentID: top, Scope: consoledb.GrantScope{Kind: "device", DeviceID: "dev2"}, Rights: []string{"live", "ptz", "share"}, PTZPriority: 4},
		{DepartmentID: top, Scope: consoledb.GrantScope{Kind: "channels", ChannelIDs: []string{"cam4"}}, Rights: []string{"live"}},
		{DepartmentID: top, Scope: consoledb.GrantScope{Kind: "region", CivilCode: "35"}, Rights: []string{"live", "share"}, Hours: "08:00-20:00"},
	} {
		if _, err := db.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetRegionOwner(ctx, "36", top, "root"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	early := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	late := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	region := func(code string) consoledb.GrantScope { return consoledb.GrantScope{Kind: "region", CivilCode: code} }
	channels := func(ids ...string) consoledb.GrantScope {
		return consoledb.GrantScope{Kind: "channels", ChannelIDs: ids}
	}
	device := func(id string) consoledb.GrantScope { return consoledb.GrantScope{Kind: "device", DeviceID: id} }
	for _, tt := range []struct {
		name   string
		dept   int64
		scope  consoledb.GrantScope
		rights []string
		prio   int
		until  *time.Time
		hours  string
		want   error
	}{
		{"a region within", below, region("340201"), []string{"live"}, 0, &early, "", nil},
		{"the same region, until the end", deeper, region("3402"), []string{"live", "playback", "share"}, 0, &until, "", nil},
		{"longer than the source", below, region("3402"), []string{"live"}, 0, &late, "", consoledb.ErrNotShared},
		{"no end while the source ends", below, region("3402"), []string{"live"}, 0, nil, "", consoledb.ErrNotShared},
		{"a right not held", below, region("3402"), []string{"download"}, 0, &early, "", consoledb.ErrNotShared},
		{"a wider region", below, region("34"), []string{"live"}, 0, &early, "", consoledb.ErrNotShared},
		{"channels of the region", below, channels("cam1", "cam2"), []string{"playback"}, 0, &early, "", nil},
		{"a channel outside", below, channels("cam1", "cam3"), []string{"playback"}, 0, &early, "", consoledb.ErrNotShared},
		{"a channel without share", below, channels("cam4"), []string{"live"}, 0, nil, "", consoledb.ErrNotShared},
		{"an unknown channel", below, channels("nope"), []string{"live"}, 0, nil, "", consoledb.ErrNotShared},
		{"the device", below, device("dev2"), []string{"live", "ptz"}, 4, nil, "", nil},
		{"a higher PTZ priority", below, device("dev2"), []string{"ptz"}, 5, nil, "", consoledb.ErrNotShared},
		{"a device its region holds", below, device("dev1"), []string{"live"}, 0, &early, "", consoledb.ErrNotShared},
		{"other hours than the source", below, region("35"), []string{"live"}, 0, nil, "", consoledb.ErrNotShared},
		{"the source's hours", below, region("35"), []string{"live"}, 0, nil, "08:00-20:00", nil},
		{"an owned region: every right", below, region("3601"), []string{"download", "location", "share"}, 9, nil, "", nil},
		{"its own department", top, region("3402"), []string{"live"}, 0, &early, "", store.ErrNotFound},
		{"another department", other, region("3402"), []string{"live"}, 0, &early, "", store.ErrNotFound},
		{"an invalid grant", below, region("3"), []string{"live"}, 0, nil, "", store.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := consoledb.Grant{
				DepartmentID: tt.dept, Scope: tt.scope, Rights: tt.rights, PTZPriority: tt.prio,
				ValidUntil: tt.until, Hours: tt.hours, CreatedBy: "da",
			}
			out, err := db.ShareGrant(ctx, g, admin, top, now)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("ShareGrant: %v, want %v", err, tt.want)
			}
			if err == nil && (out.ID == 0 || out.DepartmentID != tt.dept) {
				t.Errorf("stored %+v", out)
			}
		})
	}
	// Deleting: a grant below the admin's department, none of its own.
	own, err := db.ListGrants(ctx, top)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteGrant(ctx, own[0].ID, top); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting its own department's grant: %v", err)
	}
	shared, err := db.ListGrants(ctx, deeper)
	if err != nil || len(shared) != 1 {
		t.Fatalf("grants of deeper: %v, %v", shared, err)
	}
	if _, err := db.DeleteGrant(ctx, shared[0].ID, top); err != nil {
		t.Errorf("deleting a grant below: %v", err)
	}
}

// TestRegionOwners checks region ownership: the longest owned prefix owns
// a channel without an owner of its own or of its device; ListOwners lists
// a subtree's.
func TestRegionOwners(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	a, b := department(t, db, "a"), department(t, db, "b")
	ch := store.Channel{DeviceID: "dev1", ID: "cam1", CivilCode: "34020101"}
	for _, o := range []struct {
		code string
		dept int64
	}{{"34", a}, {"3402", b}, {"35", a}} {
		if err := db.SetRegionOwner(ctx, o.code, o.dept, "root"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetRegionOwner(ctx, "340", a, "root"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("odd code: %v", err)
	}
	if d, err := db.Owner(ctx, ch); err != nil || d != b {
		t.Errorf("owner %d, %v; want the longest prefix's %d", d, err, b)
	}
	if err := db.SetDeviceOwner(ctx, "dev1", a, "root"); err != nil {
		t.Fatal(err)
	}
	if d, _ := db.Owner(ctx, ch); d != a {
		t.Errorf("owner %d; want the device's %d", d, a)
	}
	owners, err := db.ListOwners(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range owners {
		got = append(got, o.Kind+":"+o.ID)
	}
	if want := []string{"region:34", "region:35", "device:dev1"}; !slices.Equal(got, want) {
		t.Errorf("owners of a: %v, want %v", got, want)
	}
	if err := db.SetRegionOwner(ctx, "3402", 0, "root"); err != nil {
		t.Fatal(err)
	}
	if all, _ := db.ListOwners(ctx, 0); len(all) != 3 {
		t.Errorf("after clearing 3402: %v", all)
	}
}

// TestDeleteDepartmentWithGrants checks that a department still granted or
// owning cameras is not deleted (store.ErrInUse, naming the table).
func TestDeleteDepartmentWithGrants(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	for _, tt := range []struct {
		table string
		refer func(dept int64) error
	}{
		{"grants", func(dept int64) error {
			_, err := db.CreateGrant(ctx, consoledb.Grant{DepartmentID: dept, Scope: consoledb.GrantScope{Kind: "device", DeviceID: "dev1"}, Rights: []string{"live"}})
			return err
		}},
		{"region_owners", func(dept int64) error { return db.SetRegionOwner(ctx, "34", dept, "root") }},
		{"device_owners", func(dept int64) error { return db.SetDeviceOwner(ctx, "dev1", dept, "root") }},
		{"channel_owners", func(dept int64) error { return db.SetChannelOwner(ctx, "cam1", dept, "root") }},
	} {
		t.Run(tt.table, func(t *testing.T) {
			dept := department(t, db, tt.table)
			if err := tt.refer(dept); err != nil {
				t.Fatal(err)
			}
			err := db.DeleteDepartment(ctx, dept)
			if !errors.Is(err, store.ErrInUse) || !strings.Contains(err.Error(), tt.table) {
				t.Errorf("delete: %v, want in use by %s", err, tt.table)
			}
		})
	}
}
