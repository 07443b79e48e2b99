package catalogview_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
)

// TestAll reads whole slices in one statement: what the lists' pages
// return together, for everything and for a user's grants, and the tree's
// reads (EachTreeChannel, EachTree) the same rows.
func TestAll(t *testing.T) {
	s := newScopeDB(t)
	s.exec(t, `INSERT INTO grants (department_id, scope_kind, civil_code, rights) VALUES ($1, 'region', '340201', '{live}')`, s.city)
	s.exec(t, `INSERT INTO grants (department_id, scope_kind, channel_ids, rights) VALUES ($1, 'channels', $2, '{live}')`,
		s.city, []string{camN})
	uid := s.user(t, "olga", store.RoleOperator, s.district, false)
	at := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		view     *catalogview.View
		channels []string
		devices  []string
		// counts are the devices' channel_count: the channels in the slice.
		counts []int
		// ofNVR1 are the channels of nvr1 in the slice.
		ofNVR1 []string
	}{
		{"everything", s.view, []string{camD1, camD2, camN}, []string{nvr1, nvr2}, []int{2, 1}, []string{camD1, camD2}},
		{"user", s.view.In(catalogview.UserScope(uid, "", at)), []string{camD1, camN}, []string{nvr1, nvr2}, []int{1, 1}, []string{camD1}},
		{"user without the right", s.view.In(catalogview.UserScope(uid, catalogview.RightPTZ, at)), nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chs, err := tt.view.AllChannels(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range chs {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tt.channels) {
				t.Errorf("channels %v, want %v", ids, tt.channels)
			}
			chs, err = tt.view.AllChannels(context.Background(), nvr1)
			if err != nil {
				t.Fatal(err)
			}
			ids = nil
			for _, c := range chs {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tt.ofNVR1) {
				t.Errorf("channels of %s %v, want %v", nvr1, ids, tt.ofNVR1)
			}
			devs, err := tt.view.AllDevices(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ids = nil
			var counts []int
			for _, d := range devs {
				ids = append(ids, d.ID)
				counts = append(counts, d.ChannelCount)
			}
			if !slices.Equal(counts, tt.counts) {
				t.Errorf("channel counts %v, want %v", counts, tt.counts)
			}
			if !slices.Equal(ids, tt.devices) {
				t.Errorf("devices %v, want %v", ids, tt.devices)
			}
			ids = nil
			if err := tt.view.EachTreeChannel(context.Background(), func(c catalogview.TreeChannel) error {
				ids = append(ids, c.ID)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tt.channels) {
				t.Errorf("tree channels %v, want %v", ids, tt.channels)
			}
			ids = nil
			var treeChannels []string
			if err := tt.view.EachTree(context.Background(), func(c catalogview.TreeChannel) error {
				treeChannels = append(treeChannels, c.ID)
				return nil
			}, func(d catalogview.TreeDevice) error {
				ids = append(ids, d.ID)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			slices.Sort(treeChannels)
			if !slices.Equal(treeChannels, tt.channels) {
				t.Errorf("EachTree channels %v, want %v", treeChannels, tt.channels)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tt.devices) {
				t.Errorf("tree devices %v, want %v", ids, tt.devices)
			}
		})
	}
}
