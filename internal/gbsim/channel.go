package gbsim

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ptz"
)

// places name the channels the way operators do: a spot and a number.
var places = [...]string{
	"大门口", "东门", "西门", "南广场", "北出口", "一楼大厅", "电梯厅", "停车场入口",
	"地下车库", "收费站", "十字路口", "学校门口", "菜市场", "社区广场", "河堤步道", "公交站台",
}

// channelName names a camera by a place and its ID's serial number, unique
// among every camera gbsim makes ("大门口 01" is the first of the default
// start; a second simulator's cameras continue with their own numbers).
func channelName(id string) string {
	n := serial(id)
	return fmt.Sprintf("%s %02d", places[(n+len(places)-1)%len(places)], n)
}

// channel is one camera of a device with its PTZ state.
type channel struct {
	dev   *device
	index int
	id    string
	name  string
	codec ps.Codec
	dome  bool
	lon   float64
	lat   float64

	mu      sync.Mutex
	online  bool
	pan     float64 // degrees, 0..360
	tilt    float64 // degrees, -90..0 (down is negative)
	zoom    float64 // 1..30
	moving  ptz.Action
	movedAt time.Time
	presets map[int]preset
}

type preset struct {
	name            string
	pan, tilt, zoom float64
}

func newChannel(d *device, i int, id string) *channel {
	c := &channel{
		dev:     d,
		index:   i,
		id:      id,
		name:    channelName(id),
		codec:   ps.CodecH264,
		dome:    i%2 == 0,
		online:  true,
		zoom:    1,
		tilt:    -15,
		presets: map[int]preset{},
	}
	switch d.sim.cfg.Media {
	case MediaH265:
		c.codec = ps.CodecH265
	case MediaMixed:
		if (d.idx+i)%2 == 1 {
			c.codec = ps.CodecH265
		}
	}
	// Spread cameras over a few kilometres around Wuhu (civil code 3402),
	// each at its own spot: the place follows the serial, as the name does.
	n := float64(serial(id) - 1)
	c.lon = math.Round((118.38+math.Mod(n*0.0137, 0.2))*1e6) / 1e6
	c.lat = math.Round((31.33+math.Mod(n*0.0091, 0.15))*1e6) / 1e6
	for p := 1; p <= 3; p++ {
		c.presets[p] = preset{name: "预置点" + strconv.Itoa(p), pan: float64(p * 90), tilt: -20, zoom: float64(p)}
	}
	return c
}

// catalogItem describes the channel for a Catalog answer.
func (c *channel) catalogItem() manscdp.CatalogItem {
	status := manscdp.StatusOn
	c.mu.Lock()
	if !c.online {
		status = manscdp.StatusOff
	}
	c.mu.Unlock()
	ptzType := "3"
	if c.dome {
		ptzType = "1"
	}
	return manscdp.CatalogItem{
		DeviceID:     c.id,
		Name:         c.name,
		Manufacturer: "Sharpeyes",
		Model:        "GBSIM-IPC",
		Owner:        "Owner",
		CivilCode:    c.id[:6],
		Address:      "安徽省芜湖市" + c.name,
		Parental:     0,
		ParentID:     c.dev.id,
		SafetyWay:    0,
		RegisterWay:  1,
		Secrecy:      0,
		IPAddress:    c.dev.sim.cfg.LocalIP,
		Port:         8000,
		Status:       status,
		Longitude:    c.lon,
		Latitude:     c.lat,
		Info: &manscdp.CatalogInfo{
			PTZType:         ptzType,
			RoomType:        1,
			UseType:         1,
			SupplyLightType: 2,
			DirectionType:   1 + c.index%8,
			Resolution:      "5/6",
			DownloadSpeed:   "1/2/4/8",
		},
	}
}

// setOnline changes the channel's status and reports whether it changed.
func (c *channel) setOnline(on bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := c.online != on
	c.online = on
	return changed
}

// settle applies the movement in progress up to now.
func (c *channel) settle(now time.Time) {
	if c.moving.Op != ptz.OpMove {
		return
	}
	dt := now.Sub(c.movedAt).Seconds()
	c.movedAt = now
	dir := c.moving.Direction
	// Full speed (255) turns 60°/s; zoom speed 15 zooms 5x/s.
	c.pan = math.Mod(c.pan+float64(dir.Pan())*float64(c.moving.PanSpeed)/255*60*dt+360, 360)
	c.tilt = math.Max(-90, math.Min(0, c.tilt+float64(dir.Tilt())*float64(c.moving.TiltSpeed)/255*60*dt))
	c.zoom = math.Max(1, math.Min(30, c.zoom+float64(dir.Zoom())*float64(max(c.moving.ZoomSpeed, 1))/15*5*dt))
}

// applyPTZ executes a decoded PTZCmd and returns a description of the new
// state for the log.
func (c *channel) applyPTZ(a ptz.Action) string {
	now := c.dev.sim.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settle(now)
	switch a.Kind {
	case ptz.KindPTZ:
		c.moving = a
		c.movedAt = now
	case ptz.KindPreset:
		n := int(a.Preset)
		switch a.Op {
		case ptz.OpPresetSet:
			c.presets[n] = preset{name: "预置点" + strconv.Itoa(n), pan: c.pan, tilt: c.tilt, zoom: c.zoom}
		case ptz.OpPresetCall:
			if p, ok := c.presets[n]; ok {
				c.moving = ptz.Action{}
				c.pan, c.tilt, c.zoom = p.pan, p.tilt, p.zoom
			} else {
				return fmt.Sprintf("preset %d not set", n)
			}
		case ptz.OpPresetDelete:
			delete(c.presets, n)
		}
	}
	return fmt.Sprintf("pan=%.1f tilt=%.1f zoom=%.1fx presets=%d", c.pan, c.tilt, c.zoom, len(c.presets))
}

// position returns the current PTZ position.
func (c *channel) position() (pan, tilt, zoom float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settle(c.dev.sim.now())
	return c.pan, c.tilt, c.zoom
}

// presetList returns the presets in number order.
func (c *channel) presetList() []manscdp.PresetItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	nums := make([]int, 0, len(c.presets))
	for n := range c.presets {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	items := make([]manscdp.PresetItem, 0, len(nums))
	for _, n := range nums {
		items = append(items, manscdp.PresetItem{PresetID: strconv.Itoa(n), PresetName: c.presets[n].name})
	}
	return items
}
