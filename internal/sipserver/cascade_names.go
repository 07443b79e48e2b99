package sipserver

import (
	"context"
	"maps"

	"github.com/sharpeyes/sharpeyes/internal/store/cascadeview"
)

// platformNames is the renumbering of our channels for one superior
// (platform_channel_names): what it is shown, and what it asks by.
type platformNames struct {
	// byChannel are the exposed ID and name by our channel ID.
	byChannel map[string]cascadeview.ExposedName
	// byExposed are our channel IDs by exposed ID.
	byExposed map[string]string
}

func newPlatformNames(names []cascadeview.ExposedName) *platformNames {
	n := &platformNames{
		byChannel: make(map[string]cascadeview.ExposedName, len(names)),
		byExposed: make(map[string]string, len(names)),
	}
	for _, e := range names {
		n.byChannel[e.ChannelID] = e
		n.byExposed[e.ExposedID] = e.ChannelID
	}
	return n
}

// setNames replaces rl's renumbering and reports whether it changed.
func (rl *runningLink) setNames(names []cascadeview.ExposedName) bool {
	n := newPlatformNames(names)
	rl.mu.Lock()
	defer rl.mu.Unlock()
	changed := rl.names == nil || !maps.Equal(rl.names.byChannel, n.byChannel)
	rl.names = n
	return changed
}

func (rl *runningLink) namesNow() *platformNames {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.names
}

// expose is the ID the superior knows our channel id by.
func (rl *runningLink) expose(id string) string {
	if n := rl.namesNow(); n != nil {
		if e, ok := n.byChannel[id]; ok {
			return e.ExposedID
		}
	}
	return id
}

// exposeName is the name the superior knows our channel id by, given ours.
func (rl *runningLink) exposeName(id, name string) string {
	if n := rl.namesNow(); n != nil {
		if e, ok := n.byChannel[id]; ok && e.Name != "" {
			return e.Name
		}
	}
	return name
}

// ourID is our channel ID of an ID the superior asks by: a renumbered
// channel is known by its exposed ID only (its own ID is not ours to
// show, so asking by it finds nothing).
func (rl *runningLink) ourID(id string) string {
	n := rl.namesNow()
	if n == nil {
		return id
	}
	if ours, ok := n.byExposed[id]; ok {
		return ours
	}
	if _, renumbered := n.byChannel[id]; renumbered {
		return ""
	}
	return id
}

// loadNames reads the renumbering and the virtual organisation of rl's
// platform and reports whether it could; on an error the last ones stay.
// A change is notified to the superior at once (DEL of the old IDs, ADD
// of the new).
func (c *cascadeLinks) loadNames(ctx context.Context, rl *runningLink) bool {
	names, err := c.Store.PlatformNames(ctx, rl.cfg.ID)
	if err != nil {
		c.Log.Warn("read the exposed IDs of a superior platform", "platform", rl.cfg.ServerID, "err", err)
		return false
	}
	vo, err := c.Store.PlatformVirtualOrg(ctx, rl.cfg.ID)
	if err != nil {
		c.Log.Warn("read the virtual organisation of a superior platform", "platform", rl.cfg.ServerID, "err", err)
		return false
	}
	// Both, whatever the first says: each sets its own.
	if changed := rl.setNames(names); rl.setVirtualOrg(vo) || changed {
		c.pokeNotify()
	}
	return true
}
