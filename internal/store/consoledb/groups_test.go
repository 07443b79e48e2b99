package consoledb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/cascadeview"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// TestValidVirtualOrg: the checks of a virtual organisation.
func TestValidVirtualOrg(t *testing.T) {
	const (
		bg  = "34020000002150000001" // 业务分组
		vo1 = "34020000002160000001" // 虚拟组织
		vo2 = "34020000002160000002"
		ch  = "34020000001310000001"
	)
	groups := []cascadeview.Group{{ID: bg, Name: "治安监控"}, {ID: vo1, Name: "城区", ParentID: bg}, {ID: vo2, Name: "路口", ParentID: vo1}}
	with := func(gs []cascadeview.Group, cs ...cascadeview.GroupChannel) consoledb.VirtualOrg {
		return consoledb.VirtualOrg{Groups: gs, Channels: cs}
	}
	for _, tc := range []struct {
		name  string
		vo    consoledb.VirtualOrg
		valid bool
	}{
		{"none", with(nil), true},
		{"tree", with(groups, cascadeview.GroupChannel{ChannelID: ch, GroupID: vo2}), true},
		{"channel under a business group", with(groups, cascadeview.GroupChannel{ChannelID: ch, GroupID: bg}), true},
		{"not a group type", with([]cascadeview.Group{{ID: ch, Name: "x"}}), false},
		{"short ID", with([]cascadeview.Group{{ID: "3402000000215", Name: "x"}}), false},
		{"no name", with([]cascadeview.Group{{ID: bg}}), false},
		{"long name", with([]cascadeview.Group{{ID: bg, Name: strings.Repeat("组", 129)}}), false},
		{"business group with a parent", with([]cascadeview.Group{{ID: bg, Name: "x", ParentID: vo1}, {ID: vo1, Name: "y", ParentID: bg}}), false},
		{"virtual organisation without a parent", with([]cascadeview.Group{{ID: vo1, Name: "x"}}), false},
		{"unknown parent", with([]cascadeview.Group{{ID: bg, Name: "x"}, {ID: vo1, Name: "y", ParentID: "34020000002160000009"}}), false},
		{"loop", with([]cascadeview.Group{{ID: vo1, Name: "x", ParentID: vo2}, {ID: vo2, Name: "y", ParentID: vo1}}), false},
		{"group twice", with([]cascadeview.Group{{ID: bg, Name: "x"}, {ID: bg, Name: "y"}}), false},
		{"channel twice", with(groups, cascadeview.GroupChannel{ChannelID: ch, GroupID: vo1}, cascadeview.GroupChannel{ChannelID: ch, GroupID: vo2}), false},
		{"channel in no group of the list", with(groups, cascadeview.GroupChannel{ChannelID: ch, GroupID: "34020000002160000009"}), false},
		{"empty channel", with(groups, cascadeview.GroupChannel{GroupID: vo1}), false},
	} {
		err := consoledb.ValidVirtualOrg(tc.vo)
		if (err == nil) != tc.valid || (err != nil && !errors.Is(err, store.ErrInvalid)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
