package console

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/regions"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
)

// Node kinds of the tree.
const (
	NodeRegion  = "region"
	NodeDevice  = "device"
	NodeChannel = "channel"
	// NodeGroup is an organisation entry of a device's catalog — a lower
	// platform's or an NVR's virtual organisation (216), business group
	// (215), civil-code entry or sub-device — with the entries whose
	// ParentID it is below it.
	NodeGroup = "group"
)

// unassignedRegion holds the channels without a civil code in the region tree.
const unassignedRegion = "unassigned"

// Node is one entry of the device tree.
type Node struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is region, device, group or channel.
	Kind string `json:"kind"`
	// Online is the entry's own state for devices and channels, and "any
	// channel below is online" for regions.
	Online bool `json:"online"`
	// DeviceID and PTZType are set on channels.
	DeviceID string `json:"device_id,omitempty"`
	PTZType  int    `json:"ptz_type,omitempty"`
	// Code is a region's civil code (its ID), beside its name.
	Code string `json:"code,omitempty"`
	// ChannelCount and OnlineCount count the channels below a region,
	// device or group.
	ChannelCount int     `json:"channel_count,omitempty"`
	OnlineCount  int     `json:"online_count,omitempty"`
	Children     []*Node `json:"children,omitempty"`
}

func (a *API) tree(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	by := r.URL.Query().Get("by")
	if by == "" {
		by = NodeDevice
	}
	if by != NodeDevice && by != NodeRegion {
		return badRequest("by must be device or region, got %q", by)
	}
	// The user's slice only: the tree shows what its lists show. The
	// channels are added as the statement returns them (a slice of
	// 30,000 channels held first cost more than the query).
	cat := a.catalog(sess, "")
	var t treeBuilder
	var err error
	if by == NodeDevice {
		d := newDeviceTree()
		err = d.read(r.Context(), cat)
		t = d
	} else {
		rt := newRegionTree()
		err = cat.EachTreeChannel(r.Context(), func(c catalogview.TreeChannel) error {
			rt.add(c)
			return nil
		})
		t = rt
	}
	if err != nil {
		return err
	}
	nodes := t.nodes()
	if nodes == nil {
		nodes = []*Node{}
	}
	// The status is sent: a failed write is the client gone.
	if err := writeTree(w, nodes); err != nil {
		a.Log.Debug("tree not written", "user", sess.User.Username, "err", err)
	}
	return nil
}

// treeBuilder builds a tree from channels added in any order.
type treeBuilder interface {
	// nodes returns the tree's roots, every level sorted.
	nodes() []*Node
}

// nodeSlab allocates channel nodes a block at a time: one allocation per
// node was 8 % of a large tree's CPU profile, more in the collector.
type nodeSlab []Node

const slabSize = 512

func (s *nodeSlab) channel(c catalogview.TreeChannel) *Node {
	if len(*s) == cap(*s) {
		*s = make([]Node, 0, slabSize)
	}
	name := c.Name
	if name == "" {
		name = c.ID
	}
	*s = append(*s, Node{ID: c.ID, Name: name, Kind: NodeChannel, Online: c.Online, DeviceID: c.DeviceID, PTZType: c.PTZType})
	return &(*s)[len(*s)-1]
}

// isVideoChannel tells video sources from the catalog's organisation entries
// (civil codes, business groups, virtual organisations), which only name
// the tree's branches. GB/T 28181 IDs carry their type in digits 11–13.
func isVideoChannel(c catalogview.TreeChannel) bool {
	if len(c.ID) != 20 {
		return false
	}
	switch c.ID[10:13] {
	case "215", "216":
		return false
	}
	return true
}

// isDeviceID reports whether a 20-digit ID is of a device type that has
// channels of its own: DVR to NVR (111–118) or a platform (200).
func isDeviceID(id string) bool {
	if len(id) != 20 {
		return false
	}
	t := id[10:13]
	return (t >= "111" && t <= "118") || t == "200"
}

// deviceTree is device → channels, both ordered by ID; a device whose
// catalog has an organisation (a lower platform, an NVR with groups) shows
// it: device → groups → channels, by the entries' ParentID.
type deviceTree struct {
	devices []catalogview.TreeDevice
	// byDevice holds each device's channels (a device node without name
	// until the devices are joined in nodes).
	byDevice map[string]*Node
	// nested holds, for the devices whose catalog has an organisation,
	// every entry with its parent (organisation entries included).
	nested map[string][]treeEntry
	slab   nodeSlab
}

// treeEntry is a catalog entry of a device with an organisation.
type treeEntry struct {
	node   *Node
	parent string
}

func newDeviceTree() *deviceTree {
	return &deviceTree{byDevice: map[string]*Node{}, nested: map[string][]treeEntry{}}
}

// read reads the channels and devices of cat.
func (t *deviceTree) read(ctx context.Context, cat *catalogview.View) error {
	return cat.EachTree(ctx, t.add, func(d catalogview.TreeDevice) error {
		t.devices = append(t.devices, d)
		return nil
	})
}

func (t *deviceTree) add(c catalogview.TreeChannel) error {
	d := t.byDevice[c.DeviceID]
	if d == nil {
		d = &Node{ID: c.DeviceID, Kind: NodeDevice}
		t.byDevice[c.DeviceID] = d
	}
	parent := parentOf(c)
	if !isVideoChannel(c) {
		name := c.Name
		if name == "" {
			name = c.ID
		}
		t.nested[c.DeviceID] = append(t.nested[c.DeviceID], treeEntry{&Node{ID: c.ID, Name: name, Kind: NodeGroup}, parent})
		return nil
	}
	n := t.slab.channel(c)
	d.Children = append(d.Children, n)
	d.ChannelCount++
	if c.Online {
		d.OnlineCount++
	}
	if parent != "" && parent != c.DeviceID {
		t.nested[c.DeviceID] = append(t.nested[c.DeviceID], treeEntry{n, parent})
	}
	return nil
}

// parentOf is an entry's parent in its device's catalog: the last ID of a
// ParentID path ("a/b/c", as some platforms send it).
func parentOf(c catalogview.TreeChannel) string {
	p := strings.TrimSpace(c.ParentID)
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// organise rebuilds d's children from its catalog's organisation: every
// entry under its parent group (an organisation entry, or an entry other
// entries name as parent — a lower platform's NVR), the device's direct
// entries and those whose parent is unknown, outside the slice or in a
// cycle under the device. Groups without a channel below are left out.
func organise(d *Node, entries []treeEntry) {
	groups := map[string]*Node{}
	parentOf := map[*Node]string{}
	named := map[string]bool{}
	for _, e := range entries {
		named[e.parent] = true
		parentOf[e.node] = e.parent
		if e.node.Kind == NodeGroup {
			groups[e.node.ID] = e.node
		}
	}
	all := make([]*Node, 0, len(d.Children)+len(entries))
	for _, n := range d.Children {
		if named[n.ID] && groups[n.ID] == nil && isDeviceID(n.ID) {
			// A device in the catalog with entries below it (an NVR under
			// a lower platform): a sub-device. A camera stays a camera
			// whatever names it as parent (its alarm input, say).
			n.Kind, n.PTZType = NodeGroup, 0
			groups[n.ID] = n
		}
		all = append(all, n)
	}
	for _, e := range entries {
		if e.node.Kind == NodeGroup && e.node.DeviceID == "" {
			// An organisation entry (those made from channels have
			// their device and are in all already).
			all = append(all, e.node)
		}
	}
	// group[n] is the group n hangs under, nil for the device: its
	// parent's group, unless that is n itself, unknown, or on a cycle of
	// parents (all of whose entries then hang under the device). Each
	// entry is resolved once, its chain followed until a resolved entry.
	group := make(map[*Node]*Node, len(all))
	const (
		visiting = iota + 1
		done
	)
	state := make(map[*Node]int, len(all))
	for _, n := range all {
		var chain []*Node
		for a := n; a != nil && state[a] == 0; {
			state[a] = visiting
			chain = append(chain, a)
			if g := groups[parentOf[a]]; g != nil && g != a {
				group[a] = g
				a = g
			} else {
				a = nil
			}
		}
		// The chain ends at a resolved entry, at the device, or back on
		// itself: an entry whose parent is being visited closes a cycle.
		if last := chain; len(last) > 0 {
			if g := group[last[len(last)-1]]; g != nil && state[g] == visiting {
				for a := g; ; {
					next := group[a]
					group[a] = nil
					if next == g || next == nil {
						break
					}
					a = next
				}
			}
		}
		for _, a := range chain {
			state[a] = done
		}
	}
	d.Children, d.ChannelCount, d.OnlineCount = nil, 0, 0
	for _, n := range all {
		n.Children, n.ChannelCount, n.OnlineCount = nil, 0, 0
		if n.Kind == NodeGroup {
			n.Online = false // any channel below online
		}
	}
	// Children first, then the counts bottom up from the device.
	for _, n := range all {
		if g := group[n]; g != nil {
			g.Children = append(g.Children, n)
		} else {
			d.Children = append(d.Children, n)
		}
	}
	var count func(n *Node) (all, online int)
	count = func(n *Node) (int, int) {
		if n.Kind == NodeChannel {
			if n.Online {
				return 1, 1
			}
			return 1, 0
		}
		kept := n.Children[:0]
		for _, c := range n.Children {
			a, o := count(c)
			n.ChannelCount += a
			n.OnlineCount += o
			if c.Kind != NodeGroup || a > 0 {
				kept = append(kept, c) // groups with no channel below are left out
			}
		}
		n.Children = kept
		if n.Kind == NodeGroup {
			n.Online = n.OnlineCount > 0
		}
		return n.ChannelCount, n.OnlineCount
	}
	count(d)
}

// nodes returns the devices read, each with its channels. Channels of a
// device not read (deleted between the two statements) are left out, as
// the device is.
func (t *deviceTree) nodes() []*Node {
	var roots []*Node
	for _, d := range t.devices {
		n := t.byDevice[d.ID]
		if n == nil {
			n = &Node{ID: d.ID, Kind: NodeDevice}
		}
		if e := t.nested[d.ID]; len(e) > 0 {
			organise(n, e)
		}
		n.Name, n.Online = d.Name, d.Online
		if n.Name == "" {
			n.Name = d.ID
		}
		roots = append(roots, n)
	}
	sortNodes(roots)
	return roots
}

// civilLevels returns the region IDs a civil code belongs to: its prefixes of
// 2, 4, 6 and 8 digits ("34", "3402", "340201", "34020101"). A level whose
// two digits are "00" does not exist ("34020000" is the city 3402 itself).
func civilLevels(code string) []string {
	var out []string
	for n := 2; n <= 8 && n <= len(code); n += 2 {
		if n > 2 && code[n-2:n] == "00" {
			break
		}
		out = append(out, code[:n])
	}
	return out
}

// RegionTree groups the video channels by the prefixes of their civil code
// (province, city, district, grass-roots unit). Regions take their names
// from the catalog's civil-code entries where there are some. Channels
// without a civil code go to the region "unassigned".
func RegionTree(chs []store.Channel) []*Node {
	t := newRegionTree()
	for _, c := range chs {
		t.add(catalogview.TreeChannel{
			DeviceID: c.DeviceID, ID: c.ID, Name: c.Name, CivilCode: c.CivilCode,
			Online: c.Online, PTZType: c.PTZType,
		})
	}
	return t.nodes()
}

// regionTree builds RegionTree. A region's name may come after its
// channels: names are applied when the tree is done.
type regionTree struct {
	names   map[string]string
	regions map[string]*Node
	roots   []*Node
	slab    nodeSlab
}

func newRegionTree() *regionTree {
	return &regionTree{names: map[string]string{}, regions: map[string]*Node{}}
}

func (t *regionTree) region(id string, parent *Node) *Node {
	if n := t.regions[id]; n != nil {
		return n
	}
	n := &Node{ID: id, Kind: NodeRegion, Code: id}
	if id == unassignedRegion {
		n.Code = ""
	}
	t.regions[id] = n
	if parent == nil {
		t.roots = append(t.roots, n)
	} else {
		parent.Children = append(parent.Children, n)
	}
	return n
}

func (t *regionTree) add(c catalogview.TreeChannel) {
	if !isVideoChannel(c) {
		if len(c.ID) <= 8 && c.Name != "" {
			t.names[c.ID] = c.Name
		}
		return
	}
	levels := civilLevels(strings.TrimSpace(c.CivilCode))
	if len(levels) == 0 || !isDigits(levels[0]) {
		levels = []string{unassignedRegion}
	}
	var path [4]*Node
	var parent *Node
	for i, id := range levels {
		parent = t.region(id, parent)
		path[i] = parent
	}
	parent.Children = append(parent.Children, t.slab.channel(c))
	for _, n := range path[:len(levels)] {
		n.ChannelCount++
		if c.Online {
			n.OnlineCount++
			n.Online = true
		}
	}
}

func (t *regionTree) nodes() []*Node {
	for id, n := range t.regions {
		// The catalog's own name of its civil-code entry, else the
		// administrative division's (GB/T 2260), else the code.
		n.Name = t.names[id]
		if n.Name == "" {
			n.Name, _ = regions.Name(id)
		}
		if n.Name == "" {
			n.Name = id
		}
	}
	sortNodes(t.roots)
	return t.roots
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// sortNodes orders every level: regions and devices first, then channels, each by ID.
func sortNodes(nodes []*Node) {
	slices.SortFunc(nodes, func(a, b *Node) int {
		if (a.Kind == NodeChannel) != (b.Kind == NodeChannel) {
			if a.Kind == NodeChannel {
				return 1
			}
			return -1
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, n := range nodes {
		sortNodes(n.Children)
	}
}
