package console_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// platformJSON is what the tests read of a platform.
type platformJSON struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	Domain         string `json:"domain"`
	Transport      string `json:"transport"`
	LocalID        string `json:"local_id"`
	GBVersion      string `json:"gb_version"`
	Expires        int    `json:"expires"`
	Enabled        bool   `json:"enabled"`
	PasswordSet    bool   `json:"password_set"`
	Status         string `json:"status"`
	LastError      string `json:"last_error"`
	SharedChannels int    `json:"shared_channels"`
}

// TestPlatformRoutes: an admin adds, changes and removes a superior
// platform and its grants; the answers show the link state and the shared
// channel count, never the password; auditors read, operators nothing; bad
// bodies are 400 and a duplicate 409; every change is audited.
func TestPlatformRoutes(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.addUser("root", "root-password", store.RoleAdmin)
	root := e.client()
	root.login("root", "root-password")
	alice := e.member("alice", store.RoleOperator, "dept-a", deviceA)
	audrey := e.member("audrey", store.RoleAuditor, "dept-a", "")

	body := map[string]any{
		"name": "市级平台", "server_id": "34020000002000000009", "host": "10.0.0.9", "port": 5060, "password": "s3cret",
	}
	r := root.do(http.MethodPost, "/api/v1/platforms", body)
	mustStatus(t, "create", r, http.StatusCreated, "")
	if strings.Contains(string(r.Body), "s3cret") {
		t.Fatalf("the password is shown: %s", r.Body)
	}
	var p platformJSON
	r.json(t, &p)
	if p.Domain != "3402000000" || p.Transport != "udp" || p.GBVersion != "2016" || p.Expires != 3600 || !p.Enabled ||
		!p.PasswordSet || p.Status != "failing" || p.LastError == "" || p.SharedChannels != 0 {
		t.Fatalf("defaults and state: %s", r.Body)
	}
	id := strconv.FormatInt(p.ID, 10)
	mustStatus(t, "duplicate", root.do(http.MethodPost, "/api/v1/platforms", body), http.StatusConflict, "conflict")
	for name, bad := range map[string]map[string]any{
		"short server_id": {"name": "x", "server_id": "3402", "host": "h", "port": 5060},
		"port":            {"name": "x", "server_id": "34020000002000000008", "host": "h", "port": 70000},
		"transport":       {"name": "x", "server_id": "34020000002000000008", "host": "h", "port": 5060, "transport": "sctp"},
		"charset":         {"name": "x", "server_id": "34020000002000000008", "host": "h", "port": 5060, "charset": "Big5"},
		"unknown field":   {"name": "x", "server_id": "34020000002000000008", "host": "h", "port": 5060, "color": "red"},
	} {
		mustStatus(t, name, root.do(http.MethodPost, "/api/v1/platforms", bad), http.StatusBadRequest, "bad_request")
	}

	// Grants make its slice; share is not a platform's right.
	r = root.do(http.MethodPost, "/api/v1/platforms/"+id+"/grants", map[string]any{
		"scope": map[string]any{"kind": "device", "device_id": deviceA}, "rights": []string{"live", "playback", "ptz"},
	})
	mustStatus(t, "grant", r, http.StatusCreated, "")
	var g struct {
		ID         int64 `json:"id"`
		PlatformID int64 `json:"platform_id"`
	}
	r.json(t, &g)
	mustStatus(t, "share right", root.do(http.MethodPost, "/api/v1/platforms/"+id+"/grants", map[string]any{
		"scope": map[string]any{"kind": "device", "device_id": deviceB}, "rights": []string{"share"},
	}), http.StatusBadRequest, "bad_request")
	mustStatus(t, "grant to an unknown platform", root.do(http.MethodPost, "/api/v1/platforms/999999/grants", map[string]any{
		"scope": map[string]any{"kind": "device", "device_id": deviceB}, "rights": []string{"live"},
	}), http.StatusNotFound, "not_found")
	root.do(http.MethodGet, "/api/v1/platforms/"+id, nil).json(t, &p)
	// Device A's catalog: a region node and two cameras.
	if p.SharedChannels != 3 || g.PlatformID != p.ID {
		t.Fatalf("shared_channels %d after granting device A (3 catalog items), grant of %d", p.SharedChannels, g.PlatformID)
	}

	// The sipserver's report shows through, and our own ID fills local_id.
	if _, err := e.st.Pool.Exec(context.Background(), `INSERT INTO cascade_platform_status (platform_id, status, local_id,
		last_keepalive) VALUES ($1, 'registered', '34020000002000000001', now())`, p.ID); err != nil {
		t.Fatal(err)
	}
	root.do(http.MethodGet, "/api/v1/platforms/"+id, nil).json(t, &p)
	if p.Status != "registered" || p.LastError != "" || p.LocalID != "34020000002000000001" {
		t.Fatalf("after the sipserver's report: %+v", p)
	}

	// Our own ID sent back as GET showed it stays "ours".
	mustStatus(t, "patch with the shown local_id", root.do(http.MethodPatch, "/api/v1/platforms/"+id,
		map[string]any{"name": "市级平台", "local_id": "34020000002000000001"}), http.StatusOK, "")
	var stored string
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT local_id FROM cascade_platforms WHERE id = $1`, p.ID).Scan(&stored); err != nil || stored != "" {
		t.Fatalf("stored local_id %q (%v), want empty", stored, err)
	}

	// PATCH changes the fields present; disabled shows as disabled and shares nothing.
	r = root.do(http.MethodPatch, "/api/v1/platforms/"+id, map[string]any{"enabled": false, "transport": "tcp"})
	mustStatus(t, "patch", r, http.StatusOK, "")
	r.json(t, &p)
	if p.Enabled || p.Transport != "tcp" || p.Status != "disabled" || p.SharedChannels != 0 || !p.PasswordSet || p.Name != "市级平台" {
		t.Fatalf("after PATCH: %s", r.Body)
	}
	mustStatus(t, "patch bad", root.do(http.MethodPatch, "/api/v1/platforms/"+id, map[string]any{"expires": 5}), http.StatusBadRequest, "bad_request")

	// The renumbering: replaced whole, checked, read back.
	names := "/api/v1/platforms/" + id + "/names"
	one := map[string]any{"items": []map[string]string{{"channel_id": channelA1, "exposed_id": "34010000001310000042", "name": "城市编号"}}}
	r = root.do(http.MethodPut, names, one)
	mustStatus(t, "set names", r, http.StatusOK, "")
	var got struct {
		Items []struct{ ChannelID, ExposedID, Name string }
		Total int
	}
	r = root.do(http.MethodGet, names, nil)
	mustStatus(t, "get names", r, http.StatusOK, "")
	r.json(t, &got)
	if got.Total != 1 || len(got.Items) != 1 {
		t.Fatalf("names %+v", got)
	}
	for what, bad := range map[string]any{
		"no items":                 map[string]any{},
		"short exposed ID":         map[string]any{"items": []map[string]string{{"channel_id": channelA1, "exposed_id": "123"}}},
		"another channel's own ID": map[string]any{"items": []map[string]string{{"channel_id": channelA1, "exposed_id": channelA2}}},
		"the platform's ID":        map[string]any{"items": []map[string]string{{"channel_id": channelA1, "exposed_id": "34020000002000000009"}}},
		"exposed ID twice": map[string]any{"items": []map[string]string{
			{"channel_id": channelA1, "exposed_id": "34010000001310000042"}, {"channel_id": channelA2, "exposed_id": "34010000001310000042"},
		}},
	} {
		mustStatus(t, what, root.do(http.MethodPut, names, bad), http.StatusBadRequest, "bad_request")
	}
	mustStatus(t, "names of an unknown platform", root.do(http.MethodGet, "/api/v1/platforms/999999/names", nil), http.StatusNotFound, "not_found")
	mustStatus(t, "set names of an unknown platform", root.do(http.MethodPut, "/api/v1/platforms/999999/names", one), http.StatusNotFound, "not_found")
	mustStatus(t, "auditor reads names", audrey.do(http.MethodGet, names, nil), http.StatusOK, "")
	mustStatus(t, "auditor sets names", audrey.do(http.MethodPut, names, one), http.StatusForbidden, "forbidden")
	mustStatus(t, "clear names", root.do(http.MethodPut, names, map[string]any{"items": []any{}}), http.StatusOK, "")

	// The virtual organisation: replaced whole, checked, read back.
	groups := "/api/v1/platforms/" + id + "/groups"
	tree := map[string]any{
		"groups": []map[string]string{
			{"id": "34020000002150000001", "name": "治安监控", "parent_id": ""},
			{"id": "34020000002160000001", "name": "城区路口", "parent_id": "34020000002150000001"},
		},
		"channels": []map[string]string{{"channel_id": channelA1, "group_id": "34020000002160000001"}},
	}
	mustStatus(t, "set groups", root.do(http.MethodPut, groups, tree), http.StatusOK, "")
	var vo struct {
		Groups   []struct{ ID, Name, ParentID string }
		Channels []struct{ ChannelID, GroupID string }
	}
	r = root.do(http.MethodGet, groups, nil)
	mustStatus(t, "get groups", r, http.StatusOK, "")
	r.json(t, &vo)
	if len(vo.Groups) != 2 || len(vo.Channels) != 1 {
		t.Fatalf("groups %s", r.Body)
	}
	// A group's ID may not be what the platform knows a channel by.
	mustStatus(t, "renumber onto a group", root.do(http.MethodPut, names, map[string]any{"items": []map[string]string{
		{"channel_id": channelA1, "exposed_id": "34020000002160000001"},
	}}), http.StatusBadRequest, "bad_request")
	for what, bad := range map[string]any{
		"no groups":          map[string]any{"channels": []any{}},
		"not a group type":   map[string]any{"groups": []map[string]string{{"id": channelA2, "name": "x"}}},
		"a channel's ID":     map[string]any{"groups": []map[string]string{{"id": "34020000002150000001", "name": "x"}}, "channels": []map[string]string{{"channel_id": channelA1, "group_id": "34020000002150000009"}}},
		"216 without parent": map[string]any{"groups": []map[string]string{{"id": "34020000002160000001", "name": "x"}}},
		"unknown field":      map[string]any{"groups": []any{}, "tree": true},
	} {
		mustStatus(t, what, root.do(http.MethodPut, groups, bad), http.StatusBadRequest, "bad_request")
	}
	mustStatus(t, "groups of an unknown platform", root.do(http.MethodGet, "/api/v1/platforms/999999/groups", nil), http.StatusNotFound, "not_found")
	mustStatus(t, "auditor reads groups", audrey.do(http.MethodGet, groups, nil), http.StatusOK, "")
	mustStatus(t, "auditor sets groups", audrey.do(http.MethodPut, groups, tree), http.StatusForbidden, "forbidden")
	mustStatus(t, "clear groups", root.do(http.MethodPut, groups, map[string]any{"groups": []any{}}), http.StatusOK, "")

	// Who may do what.
	mustStatus(t, "auditor lists", audrey.do(http.MethodGet, "/api/v1/platforms", nil), http.StatusOK, "")
	mustStatus(t, "auditor reads grants", audrey.do(http.MethodGet, "/api/v1/platforms/"+id+"/grants", nil), http.StatusOK, "")
	mustStatus(t, "auditor creates", audrey.do(http.MethodPost, "/api/v1/platforms", body), http.StatusForbidden, "forbidden")
	mustStatus(t, "operator lists", alice.do(http.MethodGet, "/api/v1/platforms", nil), http.StatusForbidden, "forbidden")
	mustStatus(t, "operator deletes", alice.do(http.MethodDelete, "/api/v1/platforms/"+id, nil), http.StatusForbidden, "forbidden")

	mustStatus(t, "delete grant", root.do(http.MethodDelete, "/api/v1/platform-grants/"+strconv.FormatInt(g.ID, 10), nil), http.StatusNoContent, "")
	mustStatus(t, "delete grant again", root.do(http.MethodDelete, "/api/v1/platform-grants/"+strconv.FormatInt(g.ID, 10), nil), http.StatusNotFound, "not_found")
	mustStatus(t, "delete", root.do(http.MethodDelete, "/api/v1/platforms/"+id, nil), http.StatusNoContent, "")
	mustStatus(t, "get deleted", root.do(http.MethodGet, "/api/v1/platforms/"+id, nil), http.StatusNotFound, "not_found")

	acts := e.actions("root")
	for a, n := range map[string]int{
		"platform_create": 1, "platform_update": 2, "platform_grant_create": 1, "platform_grant_delete": 1, "platform_delete": 1,
		"platform_names": 2,
	} {
		if acts[a] != n {
			t.Errorf("audit: %s ×%d, want %d (%v)", a, acts[a], n, acts)
		}
	}
	if n := e.actions("alice")["access_denied"]; n < 2 {
		t.Errorf("operator's refusals audited %d times", n)
	}
}
