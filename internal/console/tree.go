package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Node kinds of the tree.
const (
	NodeRegion  = "region"
	NodeDevice  = "device"
	NodeChannel = "channel"
)

// unassignedRegion holds the channels without a civil code in the region tree.
const unassignedRegion = "unassigned"

// Node is one entry of the device tree.
type Node struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is region, device or channel.
	Kind string `json:"kind"`
	// Online is the entry's own state for devices and channels, and "any
	// channel below is online" for regions.
	Online bool `json:"online"`
	// DeviceID and PTZType are set on channels.
	DeviceID string `json:"device_id,omitempty"`
	PTZType  int    `json:"ptz_type,omitempty"`
	// ChannelCount and OnlineCount count the channels below a region or device.
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
	if by == NodeDevice {
		d := newDeviceTree()
		if err := cat.EachTreeDevice(r.Context(), d.addDevice); err != nil {
			return err
		}
		t = d
	} else {
		t = newRegionTree()
	}
	if err := cat.EachTreeChannel(r.Context(), func(c catalogview.TreeChannel) error {
		t.add(c)
		return nil
	}); err != nil {
		return err
	}
	nodes := t.nodes()
	if nodes == nil {
		nodes = []*Node{}
	}
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{"nodes": nodes})
	return nil
}

// treeBuilder builds a tree from channels added in any order.
type treeBuilder interface {
	add(c catalogview.TreeChannel)
	// nodes returns the tree's roots, every level sorted.
	nodes() []*Node
}

func channelNode(c catalogview.TreeChannel) *Node {
	name := c.Name
	if name == "" {
		name = c.ID
	}
	return &Node{ID: c.ID, Name: name, Kind: NodeChannel, Online: c.Online, DeviceID: c.DeviceID, PTZType: c.PTZType}
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

// deviceTree is device → channels, both ordered by ID.
type deviceTree struct {
	byDevice map[string]*Node
	roots    []*Node
}

func newDeviceTree() *deviceTree {
	return &deviceTree{byDevice: map[string]*Node{}}
}

// addDevice adds a device; its channels are added after it.
func (t *deviceTree) addDevice(d catalogview.TreeDevice) error {
	name := d.Name
	if name == "" {
		name = d.ID
	}
	n := &Node{ID: d.ID, Name: name, Kind: NodeDevice, Online: d.Online}
	t.byDevice[d.ID] = n
	t.roots = append(t.roots, n)
	return nil
}

func (t *deviceTree) add(c catalogview.TreeChannel) {
	d := t.byDevice[c.DeviceID]
	if d == nil || !isVideoChannel(c) {
		return
	}
	d.Children = append(d.Children, channelNode(c))
	d.ChannelCount++
	if c.Online {
		d.OnlineCount++
	}
}

func (t *deviceTree) nodes() []*Node {
	sortNodes(t.roots)
	return t.roots
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
}

func newRegionTree() *regionTree {
	return &regionTree{names: map[string]string{}, regions: map[string]*Node{}}
}

func (t *regionTree) region(id string, parent *Node) *Node {
	if n := t.regions[id]; n != nil {
		return n
	}
	n := &Node{ID: id, Kind: NodeRegion}
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
	parent.Children = append(parent.Children, channelNode(c))
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
		n.Name = t.names[id]
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
