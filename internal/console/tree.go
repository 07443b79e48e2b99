package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
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
	// The user's slice only: the tree shows what its lists show.
	cat := a.catalog(sess, "")
	chs, err := cat.AllChannels(r.Context(), "")
	if err != nil {
		return err
	}
	var nodes []*Node
	if by == NodeDevice {
		devs, err := cat.AllDevices(r.Context())
		if err != nil {
			return err
		}
		nodes = DeviceTree(devs, chs)
	} else {
		nodes = RegionTree(chs)
	}
	if nodes == nil {
		nodes = []*Node{}
	}
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{"nodes": nodes})
	return nil
}

func channelNode(c store.Channel) *Node {
	name := c.Name
	if name == "" {
		name = c.ID
	}
	return &Node{ID: c.ID, Name: name, Kind: NodeChannel, Online: c.Online, DeviceID: c.DeviceID, PTZType: c.PTZType}
}

// isVideoChannel tells video sources from the catalog's organisation entries
// (civil codes, business groups, virtual organisations), which only name
// the tree's branches. GB/T 28181 IDs carry their type in digits 11–13.
func isVideoChannel(c store.Channel) bool {
	if len(c.ID) != 20 {
		return false
	}
	switch c.ID[10:13] {
	case "215", "216":
		return false
	}
	return true
}

// DeviceTree is device → channels, both ordered by ID.
func DeviceTree(devs []store.Device, chs []store.Channel) []*Node {
	byDevice := map[string]*Node{}
	var nodes []*Node
	for _, d := range devs {
		name := d.Name
		if name == "" {
			name = d.ID
		}
		n := &Node{ID: d.ID, Name: name, Kind: NodeDevice, Online: d.Online}
		byDevice[d.ID] = n
		nodes = append(nodes, n)
	}
	for _, c := range chs {
		d := byDevice[c.DeviceID]
		if d == nil || !isVideoChannel(c) {
			continue
		}
		d.Children = append(d.Children, channelNode(c))
		d.ChannelCount++
		if c.Online {
			d.OnlineCount++
		}
	}
	sortNodes(nodes)
	return nodes
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
	names := map[string]string{}
	for _, c := range chs {
		if !isVideoChannel(c) && len(c.ID) <= 8 && c.Name != "" {
			names[c.ID] = c.Name
		}
	}
	regions := map[string]*Node{}
	var roots []*Node
	region := func(id string, parent *Node) *Node {
		if n := regions[id]; n != nil {
			return n
		}
		name := names[id]
		if name == "" {
			name = id
		}
		n := &Node{ID: id, Name: name, Kind: NodeRegion}
		regions[id] = n
		if parent == nil {
			roots = append(roots, n)
		} else {
			parent.Children = append(parent.Children, n)
		}
		return n
	}
	for _, c := range chs {
		if !isVideoChannel(c) {
			continue
		}
		levels := civilLevels(strings.TrimSpace(c.CivilCode))
		if len(levels) == 0 || !isDigits(levels[0]) {
			levels = []string{unassignedRegion}
		}
		var path []*Node
		var parent *Node
		for _, id := range levels {
			parent = region(id, parent)
			path = append(path, parent)
		}
		parent.Children = append(parent.Children, channelNode(c))
		for _, n := range path {
			n.ChannelCount++
			if c.Online {
				n.OnlineCount++
				n.Online = true
			}
		}
	}
	sortNodes(roots)
	return roots
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
