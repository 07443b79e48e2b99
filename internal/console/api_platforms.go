package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/cascadeview"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// platformJSON is a superior platform as the API shows it: its
// configuration without the password, and the state of our link to it.
type platformJSON struct {
	ID                int64  `json:"id"`
	Name              string `json:"name"`
	ServerID          string `json:"server_id"`
	Domain            string `json:"domain"`
	Host              string `json:"host"`
	Port              int    `json:"port"`
	Transport         string `json:"transport"`
	PasswordSet       bool   `json:"password_set"`
	LocalID           string `json:"local_id"`
	GBVersion         string `json:"gb_version"`
	Charset           string `json:"charset"`
	Expires           int    `json:"expires"`
	KeepaliveInterval int    `json:"keepalive_interval"`
	KeepaliveCount    int    `json:"keepalive_count"`
	Enabled           bool   `json:"enabled"`
	// Status is registered, failing or disabled; a link the sipserver has
	// not tried yet is failing with last_error saying so.
	Status         string     `json:"status"`
	LastError      string     `json:"last_error"`
	LastKeepalive  *time.Time `json:"last_keepalive"`
	RegisteredAt   *time.Time `json:"registered_at"`
	SharedChannels int        `json:"shared_channels"`
	UpwardStreams  int        `json:"upward_streams"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// platformRequest is the body of POST and PATCH /platforms; PATCH changes
// the fields present.
type platformRequest struct {
	Name              *string `json:"name"`
	ServerID          *string `json:"server_id"`
	Domain            *string `json:"domain"`
	Host              *string `json:"host"`
	Port              *int    `json:"port"`
	Transport         *string `json:"transport"`
	Password          *string `json:"password"`
	LocalID           *string `json:"local_id"`
	GBVersion         *string `json:"gb_version"`
	Charset           *string `json:"charset"`
	Expires           *int    `json:"expires"`
	KeepaliveInterval *int    `json:"keepalive_interval"`
	KeepaliveCount    *int    `json:"keepalive_count"`
	Enabled           *bool   `json:"enabled"`
}

// apply sets the fields present in q on p.
func (q platformRequest) apply(p *cascadeview.Platform) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.Name, q.Name)
	set(&p.ServerID, q.ServerID)
	set(&p.Domain, q.Domain)
	set(&p.Host, q.Host)
	setInt(&p.Port, q.Port)
	set(&p.Transport, q.Transport)
	set(&p.Password, q.Password)
	set(&p.LocalID, q.LocalID)
	set(&p.GBVersion, q.GBVersion)
	set(&p.Charset, q.Charset)
	setInt(&p.Expires, q.Expires)
	setInt(&p.KeepaliveInterval, q.KeepaliveInterval)
	setInt(&p.KeepaliveCount, q.KeepaliveCount)
	if q.Enabled != nil {
		p.Enabled = *q.Enabled
	}
}

// toPlatformJSON shows p; shared is the number of channels its grants
// reach now.
func toPlatformJSON(p cascadeview.Platform, shared int) platformJSON {
	out := platformJSON{
		ID: p.ID, Name: p.Name, ServerID: p.ServerID, Domain: p.Domain, Host: p.Host, Port: p.Port,
		Transport: p.Transport, PasswordSet: p.Password != "", LocalID: p.LocalID, GBVersion: p.GBVersion,
		Charset: p.Charset, Expires: p.Expires, KeepaliveInterval: p.KeepaliveInterval,
		KeepaliveCount: p.KeepaliveCount, Enabled: p.Enabled, Status: p.Status, LastError: p.LastError,
		LastKeepalive: p.LastKeepalive, RegisteredAt: p.RegisteredAt, SharedChannels: shared,
		UpwardStreams: p.UpwardStreams, CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if out.LocalID == "" {
		out.LocalID = p.LinkID // our own ID, once the sipserver said which
	}
	switch {
	case !p.Enabled:
		out.Status, out.LastError = cascadeview.StatusDisabled, ""
	case p.Status == "" || p.Status == cascadeview.StatusDisabled:
		// Enabled, and the sipserver has not reported since.
		out.Status, out.LastError = cascadeview.StatusFailing, "not tried yet: is the sipserver running?"
	}
	return out
}

// platformShown answers p with its shared channel count.
func (a *API) platformShown(r *http.Request, p cascadeview.Platform) (platformJSON, error) {
	shared := 0
	if p.Enabled {
		_, n, err := a.Store.In(catalogview.PlatformScope(p.ID, "", a.now())).ListChannels(r.Context(), store.ChannelFilter{Limit: 1})
		if err != nil {
			return platformJSON{}, err
		}
		shared = n
	}
	return toPlatformJSON(p, shared), nil
}

// requirePlatformReader lets admins and auditors read the platforms.
func (a *API) requirePlatformReader(r *http.Request, sess *auth.Session) error {
	if sess.User.Role == store.RoleAuditor {
		return nil
	}
	return a.requireAdmin(r, sess, r.PathValue("id"))
}

func (a *API) listPlatforms(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requirePlatformReader(r, sess); err != nil {
		return err
	}
	ps, err := cascadeview.New(a.Store.Store).Platforms(r.Context())
	if err != nil {
		return err
	}
	out := make([]platformJSON, 0, len(ps))
	for _, p := range ps {
		j, err := a.platformShown(r, p)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	svcapi.WriteJSON(w, http.StatusOK, svcapi.List[platformJSON]{Items: out, Total: len(out)})
	return nil
}

// pathPlatform returns the platform of the {id} path parameter.
func (a *API) pathPlatform(r *http.Request) (cascadeview.Platform, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return cascadeview.Platform{}, err
	}
	return cascadeview.New(a.Store.Store).Platform(r.Context(), id)
}

func (a *API) getPlatform(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requirePlatformReader(r, sess); err != nil {
		return err
	}
	p, err := a.pathPlatform(r)
	if err != nil {
		return err
	}
	j, err := a.platformShown(r, p)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, j)
	return nil
}

// platformNote is what the audit log keeps of a platform: never its password.
func platformNote(p cascadeview.Platform) map[string]any {
	return map[string]any{
		"name": p.Name, "server_id": p.ServerID, "domain": p.Domain, "host": p.Host, "port": p.Port,
		"transport": p.Transport, "local_id": p.LocalID, "gb_version": p.GBVersion, "charset": p.Charset,
		"expires": p.Expires, "keepalive_interval": p.KeepaliveInterval, "keepalive_count": p.KeepaliveCount,
		"enabled": p.Enabled, "password_set": p.Password != "",
	}
}

func (a *API) createPlatform(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, ""); err != nil {
		return err
	}
	var in platformRequest
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	p := cascadeview.Platform{Enabled: true, CreatedBy: sess.User.Username}
	in.apply(&p)
	p, err := a.Store.CreatePlatform(r.Context(), p)
	if err != nil {
		return err
	}
	a.note(r, sess, "platform_create", strconv.FormatInt(p.ID, 10), platformNote(p))
	j, err := a.platformShown(r, p)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusCreated, j)
	return nil
}

func (a *API) updatePlatform(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, r.PathValue("id")); err != nil {
		return err
	}
	p, err := a.pathPlatform(r)
	if err != nil {
		return err
	}
	var in platformRequest
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	if in.LocalID != nil && p.LocalID == "" && *in.LocalID == p.LinkID {
		// Our own ID as GET showed it (a form sends every field back):
		// still "ours", not pinned, so the link is not restarted.
		in.LocalID = nil
	}
	in.apply(&p)
	if p, err = a.Store.UpdatePlatform(r.Context(), p); err != nil {
		return err
	}
	a.note(r, sess, "platform_update", strconv.FormatInt(p.ID, 10), platformNote(p))
	j, err := a.platformShown(r, p)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, j)
	return nil
}

func (a *API) deletePlatform(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, r.PathValue("id")); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := a.Store.DeletePlatform(r.Context(), id)
	if err != nil {
		return err
	}
	a.note(r, sess, "platform_delete", strconv.FormatInt(id, 10), platformNote(p))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// platformGrantJSON is a platform's grant: a department grant's shape with
// platform_id instead of department_id.
type platformGrantJSON struct {
	ID          int64          `json:"id"`
	PlatformID  int64          `json:"platform_id"`
	Scope       grantScopeJSON `json:"scope"`
	Rights      []string       `json:"rights"`
	PTZPriority int            `json:"ptz_priority"`
	ValidFrom   *time.Time     `json:"valid_from,omitempty"`
	ValidUntil  *time.Time     `json:"valid_until,omitempty"`
	Hours       string         `json:"hours,omitempty"`
	CreatedBy   string         `json:"created_by"`
	CreatedAt   time.Time      `json:"created_at"`
}

func toPlatformGrantJSON(g consoledb.Grant) platformGrantJSON {
	d := toGrantJSON(g)
	return platformGrantJSON{
		ID: g.ID, PlatformID: g.PlatformID, Scope: d.Scope, Rights: d.Rights, PTZPriority: d.PTZPriority,
		ValidFrom: d.ValidFrom, ValidUntil: d.ValidUntil, Hours: d.Hours, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt,
	}
}

func (a *API) listPlatformGrants(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requirePlatformReader(r, sess); err != nil {
		return err
	}
	p, err := a.pathPlatform(r)
	if err != nil {
		return err
	}
	gs, err := a.Store.ListPlatformGrants(r.Context(), p.ID)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, gs, len(gs), toPlatformGrantJSON)
	return nil
}

func (a *API) createPlatformGrant(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, r.PathValue("id")); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in grantBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	g, err := in.grant(sess.User.Username)
	if err != nil {
		return err
	}
	g.PlatformID = id
	if g, err = a.Store.CreatePlatformGrant(r.Context(), g); err != nil {
		return err
	}
	a.note(r, sess, "platform_grant_create", strconv.FormatInt(g.ID, 10), map[string]any{
		"platform_id": g.PlatformID, "scope": toGrantJSON(g).Scope, "rights": g.Rights, "ptz_priority": g.PTZPriority,
		"valid_from": g.ValidFrom, "valid_until": g.ValidUntil, "hours": g.Hours,
	})
	svcapi.WriteJSON(w, http.StatusCreated, toPlatformGrantJSON(g))
	return nil
}

func (a *API) deletePlatformGrant(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, r.PathValue("id")); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	g, err := a.Store.DeletePlatformGrant(r.Context(), id)
	if err != nil {
		return err
	}
	a.note(r, sess, "platform_grant_delete", strconv.FormatInt(id, 10), map[string]any{
		"platform_id": g.PlatformID, "scope": toGrantJSON(g).Scope, "rights": g.Rights,
	})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// platformNameJSON is one entry of a platform's renumbering.
type platformNameJSON struct {
	ChannelID string `json:"channel_id"`
	ExposedID string `json:"exposed_id"`
	Name      string `json:"name"`
}

func toPlatformNameJSON(n consoledb.ExposedName) platformNameJSON {
	return platformNameJSON{ChannelID: n.ChannelID, ExposedID: n.ExposedID, Name: n.Name}
}

func (a *API) listPlatformNames(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requirePlatformReader(r, sess); err != nil {
		return err
	}
	p, err := a.pathPlatform(r)
	if err != nil {
		return err
	}
	names, err := a.Store.PlatformNames(r.Context(), p.ID)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, names, len(names), toPlatformNameJSON)
	return nil
}

func (a *API) setPlatformNames(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, r.PathValue("id")); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Items []platformNameJSON `json:"items"`
		Total *int               `json:"total,omitempty"` // what GET answered, ignored
	}
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	if in.Items == nil {
		return badRequest(`items is required (an empty list clears the renumbering), ` +
			`e.g. {"items":[{"channel_id":"…","exposed_id":"…","name":"…"}]}`)
	}
	names := make([]consoledb.ExposedName, len(in.Items))
	for i, n := range in.Items {
		names[i] = consoledb.ExposedName{ChannelID: n.ChannelID, ExposedID: n.ExposedID, Name: n.Name}
	}
	if err := a.Store.SetPlatformNames(r.Context(), id, names); err != nil {
		return err
	}
	a.note(r, sess, "platform_names", strconv.FormatInt(id, 10), map[string]any{"platform_id": id, "count": len(names)})
	slices.SortFunc(names, func(a, b consoledb.ExposedName) int { return strings.Compare(a.ChannelID, b.ChannelID) })
	svcapi.WriteList(w, names, len(names), toPlatformNameJSON)
	return nil
}
