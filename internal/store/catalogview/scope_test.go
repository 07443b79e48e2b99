package catalogview_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

// The scope tests' catalog: nvr1 has a camera in district 340201 and one in
// 340202; nvr2 has one camera without a civil code.
const (
	nvr1  = "34020000001110000011"
	nvr2  = "34020000001110000012"
	camD1 = "34020000001310000021" // civil code 34020101
	camD2 = "34020000001310000022" // civil code 34020201
	camN  = "34020000001310000023" // no civil code, on nvr2
)

// scopeDB is a catalog with a department tree city → district, and one
// user per case.
type scopeDB struct {
	view           *catalogview.View
	st             *store.Store
	city, district int64
}

func newScopeDB(t *testing.T) *scopeDB {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, pgtest.NewDB(t), 4)
	db := sipdb.New(st)
	for _, d := range []struct {
		id  string
		chs []store.Channel
	}{
		{nvr1, []store.Channel{{ID: camD1, CivilCode: "34020101"}, {ID: camD2, CivilCode: "34020201"}}},
		{nvr2, []store.Channel{{ID: camN}}},
	} {
		if err := db.UpsertDevice(ctx, store.Device{ID: d.id}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SyncCatalog(ctx, d.id, d.chs); err != nil {
			t.Fatal(err)
		}
	}
	s := &scopeDB{view: catalogview.New(st), st: st}
	if err := st.Pool.QueryRow(ctx, `INSERT INTO departments (name) VALUES ('city') RETURNING id`).Scan(&s.city); err != nil {
		t.Fatal(err)
	}
	if err := st.Pool.QueryRow(ctx, `INSERT INTO departments (name, parent_id) VALUES ('district', $1) RETURNING id`,
		s.city).Scan(&s.district); err != nil {
		t.Fatal(err)
	}
	return s
}

// user creates a user of dept (0: none) with role and returns its ID.
func (s *scopeDB) user(t *testing.T, name, role string, dept int64, disabled bool) int64 {
	t.Helper()
	var id int64
	var d *int64
	if dept != 0 {
		d = &dept
	}
	if err := s.st.Pool.QueryRow(context.Background(),
		`INSERT INTO users (username, password_hash, role, department_id, disabled) VALUES ($1, 'x', $2, $3, $4) RETURNING id`,
		name, role, d, disabled).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (s *scopeDB) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := s.st.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestScope checks the one predicate over every kind of camera set, the
// inheritance from ancestors, rights, validity, hours, ownership and roles:
// what ListChannels, ListDevices, FindChannel and GetDevice return in a
// user's scope.
func TestScope(t *testing.T) {
	// noon on a fixed day, in UTC (the hours are in At's location).
	noon := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		// setup grants or owns; city and district are the departments' IDs.
		setup      func(t *testing.T, s *scopeDB)
		role       string
		inDistrict bool // the user belongs to the district (else the city)
		disabled   bool
		right      string
		at         time.Time
		channels   []string
		devices    []string
	}{
		{name: "no grant", channels: nil},
		{
			name: "region prefix, present and future",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, civil_code, rights) VALUES ($1, 'region', '340201', '{live}')`, s.city)
			},
			channels: []string{camD1}, devices: []string{nvr1},
		},
		{
			name: "device grant covers its channels",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights) VALUES ($1, 'device', $2, '{live}')`, s.city, nvr2)
			},
			channels: []string{camN}, devices: []string{nvr2},
		},
		{
			name: "channel list",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, channel_ids, rights) VALUES ($1, 'channels', $2, '{playback}')`,
					s.city, []string{camD2, camN})
			},
			channels: []string{camD2, camN}, devices: []string{nvr1, nvr2},
		},
		{
			name: "inherited from the parent department",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, civil_code, rights) VALUES ($1, 'region', '3402', '{live}')`, s.city)
			},
			inDistrict: true, channels: []string{camD1, camD2}, devices: []string{nvr1},
		},
		{
			// The sets are read disjoint (catalogview's channelSet): each
			// channel once, whichever sets hold it.
			name: "overlapping sets, each channel once",
			setup: func(t *testing.T, s *scopeDB) {
				for _, d := range []int64{s.city, s.district} {
					s.exec(t, `INSERT INTO grants (department_id, scope_kind, civil_code, rights) VALUES ($1, 'region', '3402', '{live}')`, d)
				}
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, civil_code, rights) VALUES ($1, 'region', '340201', '{live}')`, s.district)
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights) VALUES ($1, 'device', $2, '{live}')`, s.district, nvr1)
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, channel_ids, rights) VALUES ($1, 'channels', $2, '{live}')`,
					s.city, []string{camD1, camN, camN})
				s.exec(t, `INSERT INTO channel_owners (channel_id, department_id) VALUES ($1, $2)`, camD2, s.district)
			},
			inDistrict: true, channels: []string{camD1, camD2, camN}, devices: []string{nvr1, nvr2},
		},
		{
			name: "a child's grant does not reach the parent",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, civil_code, rights) VALUES ($1, 'region', '3402', '{live}')`, s.district)
			},
			channels: nil,
		},
		{
			name: "right present",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights) VALUES ($1, 'device', $2, '{live,ptz}')`, s.city, nvr2)
			},
			right: catalogview.RightPTZ, channels: []string{camN}, devices: []string{nvr2},
		},
		{
			name: "right missing",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights) VALUES ($1, 'device', $2, '{live}')`, s.city, nvr2)
			},
			right: catalogview.RightDownload, channels: nil,
		},
		{
			name: "inside the validity window",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights, valid_from, valid_until)
					VALUES ($1, 'device', $2, '{live}', $3, $4)`, s.city, nvr2, noon.Add(-time.Hour), noon.Add(time.Hour))
			},
			channels: []string{camN}, devices: []string{nvr2},
		},
		{
			name: "expired",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights, valid_until)
					VALUES ($1, 'device', $2, '{live}', $3)`, s.city, nvr2, noon)
			},
			channels: nil,
		},
		{
			name: "not yet valid",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights, valid_from)
					VALUES ($1, 'device', $2, '{live}', $3)`, s.city, nvr2, noon.Add(time.Second))
			},
			channels: nil,
		},
		{
			name: "inside daily hours",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights, hours_from, hours_until)
					VALUES ($1, 'device', $2, '{live}', '08:00', '20:00')`, s.city, nvr2)
			},
			channels: []string{camN}, devices: []string{nvr2},
		},
		{
			name: "outside daily hours",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights, hours_from, hours_until)
					VALUES ($1, 'device', $2, '{live}', '08:00', '20:00')`, s.city, nvr2)
			},
			at: noon.Add(9 * time.Hour), channels: nil,
		},
		{
			name: "night hours wrap midnight",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO grants (department_id, scope_kind, device_id, rights, hours_from, hours_until)
					VALUES ($1, 'device', $2, '{live}', '20:00', '08:00')`, s.city, nvr2)
			},
			at: noon.Add(14 * time.Hour), channels: []string{camN}, devices: []string{nvr2},
		},
		{
			name: "device owner has every right",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO device_owners (device_id, department_id) VALUES ($1, $2)`, nvr2, s.city)
			},
			right: catalogview.RightDownload, channels: []string{camN}, devices: []string{nvr2},
		},
		{
			name: "channel owner",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO channel_owners (channel_id, department_id) VALUES ($1, $2)`, camD1, s.city)
			},
			right: catalogview.RightPTZ, channels: []string{camD1}, devices: []string{nvr1},
		},
		{
			name: "auditor watches nothing",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO device_owners (device_id, department_id) VALUES ($1, $2)`, nvr2, s.city)
			},
			role: store.RoleAuditor, channels: nil,
		},
		{
			name: "disabled user sees nothing",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO device_owners (device_id, department_id) VALUES ($1, $2)`, nvr2, s.city)
			},
			disabled: true, channels: nil,
		},
		{
			name: "dept admin sees as granted",
			setup: func(t *testing.T, s *scopeDB) {
				s.exec(t, `INSERT INTO device_owners (device_id, department_id) VALUES ($1, $2)`, nvr2, s.city)
			},
			role: store.RoleDeptAdmin, channels: []string{camN}, devices: []string{nvr2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newScopeDB(t)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			role, dept := tt.role, s.city
			if role == "" {
				role = store.RoleOperator
			}
			if tt.inDistrict {
				dept = s.district
			}
			at := tt.at
			if at.IsZero() {
				at = noon
			}
			v := s.view.In(catalogview.UserScope(s.user(t, "u", role, dept, tt.disabled), tt.right, at))
			chs, total, err := v.ListChannels(ctx, store.ChannelFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range chs {
				ids = append(ids, c.ID)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tt.channels) || total != len(tt.channels) {
				t.Errorf("channels %v (total %d), want %v", ids, total, tt.channels)
			}
			for _, id := range []string{camD1, camD2, camN} {
				_, err := v.FindChannel(ctx, id)
				if want := slices.Contains(tt.channels, id); (err == nil) != want || (err != nil && !errors.Is(err, store.ErrNotFound)) {
					t.Errorf("FindChannel %s: %v, want found %v", id, err, want)
				}
			}
			devs, total, err := v.ListDevices(ctx, store.DeviceFilter{})
			if err != nil {
				t.Fatal(err)
			}
			ids = nil
			counted := 0 // every channel of the slice counts once on its device
			for _, d := range devs {
				ids = append(ids, d.ID)
				counted += d.ChannelCount
			}
			if counted != len(tt.channels) {
				t.Errorf("devices' channel_count sum to %d, want %d", counted, len(tt.channels))
			}
			if !slices.Equal(ids, tt.devices) || total != len(tt.devices) {
				t.Errorf("devices %v (total %d), want %v", ids, total, tt.devices)
			}
			for _, id := range []string{nvr1, nvr2} {
				_, err := v.GetDevice(ctx, id)
				if want := slices.Contains(tt.devices, id); (err == nil) != want {
					t.Errorf("GetDevice %s: %v, want found %v", id, err, want)
				}
			}
		})
	}
}

// TestScopeEverythingAndNothing checks the two ends: New sees every
// channel, the zero Scope none, and a user with no department none.
func TestScopeEverythingAndNothing(t *testing.T) {
	ctx := context.Background()
	s := newScopeDB(t)
	s.exec(t, `INSERT INTO grants (department_id, scope_kind, civil_code, rights) VALUES ($1, 'region', '34', '{live}')`, s.city)
	nobody := s.user(t, "nodept", store.RoleOperator, 0, false)
	for _, tt := range []struct {
		name string
		v    *catalogview.View
		want int
	}{
		{"everything", s.view, 3},
		{"everything by In", s.view.In(catalogview.Everything()), 3},
		{"zero scope", s.view.In(catalogview.Scope{}), 0},
		{"no department", s.view.In(catalogview.UserScope(nobody, "", time.Now())), 0},
	} {
		_, total, err := tt.v.ListChannels(ctx, store.ChannelFilter{})
		if err != nil || total != tt.want {
			t.Errorf("%s: %d channels, %v; want %d", tt.name, total, err, tt.want)
		}
	}
}
