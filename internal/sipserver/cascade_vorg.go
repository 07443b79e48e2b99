package sipserver

import (
	"reflect"

	"github.com/sharpeyes/sharpeyes/internal/store/cascadeview"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// virtualOrg is the virtual organisation one superior sees our channels in
// (platform_groups): its groups and the group of each channel placed.
type virtualOrg struct {
	src cascadeview.VirtualOrg
	// groupOf is the group a channel hangs under, by our channel ID.
	groupOf map[string]string
	// business is the business group (215) above each group.
	business map[string]string
}

func newVirtualOrg(vo cascadeview.VirtualOrg) *virtualOrg {
	v := &virtualOrg{
		src: vo, groupOf: make(map[string]string, len(vo.Channels)), business: make(map[string]string, len(vo.Groups)),
	}
	parent := make(map[string]string, len(vo.Groups))
	for _, g := range vo.Groups {
		parent[g.ID] = g.ParentID
	}
	for _, g := range vo.Groups {
		// The console checked the tree: a 215 at the top of each chain.
		at := g.ID
		for range len(vo.Groups) {
			if parent[at] == "" {
				break
			}
			at = parent[at]
		}
		v.business[g.ID] = at
	}
	for _, c := range vo.Channels {
		v.groupOf[c.ChannelID] = c.GroupID
	}
	return v
}

// setVirtualOrg replaces rl's virtual organisation and reports whether it
// changed.
func (rl *runningLink) setVirtualOrg(vo cascadeview.VirtualOrg) bool {
	v := newVirtualOrg(vo)
	rl.mu.Lock()
	defer rl.mu.Unlock()
	changed := rl.vorg == nil || !reflect.DeepEqual(rl.vorg.src, v.src)
	rl.vorg = v
	return changed
}

// virtualOrgNow is rl's virtual organisation, nil when it has none (it
// sees our own tree).
func (rl *runningLink) virtualOrgNow() *virtualOrg {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.vorg == nil || len(rl.vorg.src.Groups) == 0 {
		return nil
	}
	return rl.vorg
}

// groupItems are the catalog items of v's groups: a business group under
// us (local), a virtual organisation under its parent, with its business
// group.
func (v *virtualOrg) groupItems(local string) []manscdp.CatalogItem {
	items := make([]manscdp.CatalogItem, 0, len(v.src.Groups))
	for _, g := range v.src.Groups {
		it := manscdp.CatalogItem{DeviceID: g.ID, Name: g.Name, ParentID: local}
		if g.ParentID != "" {
			it.ParentID, it.BusinessGroupID = g.ParentID, v.business[g.ID]
		}
		items = append(items, it)
	}
	return items
}

// place hangs a shared channel's item under its group of v (under us,
// local, when it is placed in none), its business group with it.
func (v *virtualOrg) place(it *manscdp.CatalogItem, channelID, local string) {
	g, ok := v.groupOf[channelID]
	if !ok {
		it.ParentID, it.BusinessGroupID = local, ""
		return
	}
	it.ParentID, it.BusinessGroupID = g, v.business[g]
}

// isGroup reports whether id is a business group or virtual organisation:
// our own tree's, left out where a platform has a virtual organisation of
// its own.
func isGroup(id string) bool {
	p, err := ids.Parse(id)
	return err == nil && (p.Type.IsBusinessGroup() || p.Type.IsVirtualOrg())
}
