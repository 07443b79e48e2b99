package console

import (
	"net/http"
	"strconv"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// platformGroupJSON is one group of a platform's virtual organisation.
type platformGroupJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	ParentID string `json:"parent_id"`
}

// platformGroupChannelJSON places one of our channels under a group.
type platformGroupChannelJSON struct {
	ChannelID string `json:"channel_id"`
	GroupID   string `json:"group_id"`
}

// virtualOrgJSON is a platform's virtual organisation, as GET answers it
// and PUT takes it.
type virtualOrgJSON struct {
	Groups   []platformGroupJSON        `json:"groups"`
	Channels []platformGroupChannelJSON `json:"channels"`
}

func toVirtualOrgJSON(vo consoledb.VirtualOrg) virtualOrgJSON {
	out := virtualOrgJSON{
		Groups:   make([]platformGroupJSON, len(vo.Groups)),
		Channels: make([]platformGroupChannelJSON, len(vo.Channels)),
	}
	for i, g := range vo.Groups {
		out.Groups[i] = platformGroupJSON{ID: g.ID, Name: g.Name, ParentID: g.ParentID}
	}
	for i, c := range vo.Channels {
		out.Channels[i] = platformGroupChannelJSON{ChannelID: c.ChannelID, GroupID: c.GroupID}
	}
	return out
}

func (a *API) getPlatformGroups(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requirePlatformReader(r, sess); err != nil {
		return err
	}
	p, err := a.pathPlatform(r)
	if err != nil {
		return err
	}
	vo, err := a.Store.PlatformVirtualOrg(r.Context(), p.ID)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, toVirtualOrgJSON(vo))
	return nil
}

func (a *API) setPlatformGroups(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, r.PathValue("id")); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in virtualOrgJSON
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	if in.Groups == nil {
		return badRequest(`groups is required (an empty list shows our own tree again), ` +
			`e.g. {"groups":[{"id":"34020000002150000001","name":"治安监控"}],"channels":[]}`)
	}
	vo := consoledb.VirtualOrg{
		Groups:   make([]consoledb.Group, len(in.Groups)),
		Channels: make([]consoledb.GroupChannel, len(in.Channels)),
	}
	for i, g := range in.Groups {
		vo.Groups[i] = consoledb.Group{ID: g.ID, Name: g.Name, ParentID: g.ParentID}
	}
	for i, c := range in.Channels {
		vo.Channels[i] = consoledb.GroupChannel{ChannelID: c.ChannelID, GroupID: c.GroupID}
	}
	if err := a.Store.SetPlatformVirtualOrg(r.Context(), id, vo); err != nil {
		return err
	}
	a.note(r, sess, "platform_groups", strconv.FormatInt(id, 10),
		map[string]any{"platform_id": id, "groups": len(vo.Groups), "channels": len(vo.Channels)})
	stored, err := a.Store.PlatformVirtualOrg(r.Context(), id)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, toVirtualOrgJSON(stored))
	return nil
}
