package console

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
)

// shape is a tree as "id(kind,online/count)[children…]" for comparisons.
func shape(nodes []*Node) []any {
	out := []any{}
	for _, n := range nodes {
		m := map[string]any{"id": n.ID, "kind": n.Kind}
		if n.Kind != NodeChannel {
			m["count"] = []int{n.OnlineCount, n.ChannelCount}
			m["children"] = shape(n.Children)
		}
		out = append(out, m)
	}
	return out
}

// TestDeviceTreeOrganisation: a lower platform's catalog shows as its
// organisation — virtual organisation → business group → channels, an NVR
// sub-device with its cameras, a ParentID path — with the counts of each
// group; a flat device stays flat; an empty group, a cycle and an unknown
// parent do not hide a channel.
func TestDeviceTreeOrganisation(t *testing.T) {
	const (
		plat = "34020200002000000001" // a lower platform (200)
		org  = "34020200002160000001" // virtual organisation (216)
		grp  = "34020200002150000001" // business group (215)
		nvr  = "34020200001180000001" // an NVR (118) in its catalog
		flat = "34020000001320000001"
	)
	ch := func(dev, id, parent string, online bool) catalogview.TreeChannel {
		return catalogview.TreeChannel{DeviceID: dev, ID: id, Name: "n" + id[len(id)-4:], ParentID: parent, Online: online}
	}
	tr := newDeviceTree()
	for _, c := range []catalogview.TreeChannel{
		ch(plat, org, plat, true),
		ch(plat, grp, org, true),
		ch(plat, "34020200002150000009", plat, true), // a group with nothing below: left out
		ch(plat, "34020200001310000001", grp, true),
		ch(plat, "34020200001310000002", org+"/"+grp, false), // a ParentID path
		ch(plat, nvr, plat, true),
		ch(plat, "34020200001310000003", nvr, true),
		ch(plat, "34020200001310000004", "34029999992160000001", true), // parent outside the slice
		ch(plat, "3402020000", plat, true),                             // a civil-code entry, empty
		ch(flat, "34020000001310000001", flat, true),
		ch(flat, "34020000001310000002", "", false),
	} {
		if err := tr.add(c); err != nil {
			t.Fatal(err)
		}
	}
	tr.devices = []catalogview.TreeDevice{{ID: plat, Name: "县平台", Online: true}, {ID: flat, Name: "cam", Online: true}}
	got, _ := json.Marshal(shape(tr.nodes()))
	want, _ := json.Marshal([]any{
		map[string]any{"id": flat, "kind": NodeDevice, "count": []int{1, 2}, "children": []any{
			map[string]any{"id": "34020000001310000001", "kind": NodeChannel},
			map[string]any{"id": "34020000001310000002", "kind": NodeChannel},
		}},
		map[string]any{"id": plat, "kind": NodeDevice, "count": []int{3, 4}, "children": []any{
			map[string]any{"id": nvr, "kind": NodeGroup, "count": []int{1, 1}, "children": []any{
				map[string]any{"id": "34020200001310000003", "kind": NodeChannel},
			}},
			map[string]any{"id": org, "kind": NodeGroup, "count": []int{1, 2}, "children": []any{
				map[string]any{"id": grp, "kind": NodeGroup, "count": []int{1, 2}, "children": []any{
					map[string]any{"id": "34020200001310000001", "kind": NodeChannel},
					map[string]any{"id": "34020200001310000002", "kind": NodeChannel},
				}},
			}},
			map[string]any{"id": "34020200001310000004", "kind": NodeChannel},
		}},
	})
	if string(got) != string(want) {
		t.Fatalf("tree\n got %s\nwant %s", got, want)
	}

	// A cycle of parents hangs under the device instead of vanishing.
	tr = newDeviceTree()
	for _, c := range []catalogview.TreeChannel{
		ch(plat, org, grp, true), ch(plat, grp, org, true), ch(plat, "34020200001310000001", grp, true),
	} {
		_ = tr.add(c)
	}
	tr.devices = []catalogview.TreeDevice{{ID: plat}}
	nodes := tr.nodes()
	if len(nodes) != 1 || nodes[0].ChannelCount != 1 {
		t.Fatalf("cycle: %s", mustJSON(shape(nodes)))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDeviceTreeDeepOrganisation: a lower platform controls its catalog's
// shape. A chain of 3 000 groups and a cycle of 3 000 are laid out once
// each: the channel at the chain's bottom counts in every group above it,
// and the cycle's groups hang under the device.
func TestDeviceTreeDeepOrganisation(t *testing.T) {
	const plat, n = "34020200002000000001", 3000
	id := func(kind string, i int) string { return fmt.Sprintf("3402020000%s%07d", kind, i) }
	tr := newDeviceTree()
	for i := range n {
		parent := plat
		if i > 0 {
			parent = id("216", i-1)
		}
		_ = tr.add(catalogview.TreeChannel{DeviceID: plat, ID: id("216", i), ParentID: parent})
		// The cycle: each group's parent is the next, the last's the first.
		_ = tr.add(catalogview.TreeChannel{DeviceID: plat, ID: id("215", i), ParentID: id("215", (i+1)%n)})
	}
	_ = tr.add(catalogview.TreeChannel{DeviceID: plat, ID: id("131", 1), ParentID: id("216", n-1), Online: true})
	_ = tr.add(catalogview.TreeChannel{DeviceID: plat, ID: id("131", 2), ParentID: id("215", 7)})
	tr.devices = []catalogview.TreeDevice{{ID: plat}}
	nodes := tr.nodes()
	if len(nodes) != 1 || nodes[0].ChannelCount != 2 || nodes[0].OnlineCount != 1 {
		t.Fatalf("device %+v", nodes)
	}
	// The cycle's groups hang under the device, beside the chain's top
	// (the one with the channel is kept, the others are left out).
	var top *Node
	for _, c := range nodes[0].Children {
		switch {
		case c.ID == id("216", 0):
			top = c
		case c.ID != id("215", 7):
			t.Fatalf("device child %s", c.ID)
		}
	}
	if top == nil || len(nodes[0].Children) != 2 {
		t.Fatalf("device children %s", mustJSON(shape(nodes)[:0]))
	}
	depth, g := 1, top
	for len(g.Children) > 0 && g.Children[0].Kind == NodeGroup {
		g = g.Children[0]
		depth++
		if g.ChannelCount != 1 || g.OnlineCount != 1 || !g.Online {
			t.Fatalf("group %s at depth %d: %+v", g.ID, depth, g)
		}
	}
	if depth != n || len(g.Children) != 1 || g.Children[0].ID != id("131", 1) {
		t.Fatalf("chain of %d groups, want %d, ending in the channel", depth, n)
	}
}
