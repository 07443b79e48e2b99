package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// recorderJSON is a recorder node as GET /recorders shows it.
type recorderJSON struct {
	Node        string    `json:"node"`
	URL         string    `json:"url"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	// Live is whether the node's heartbeat is within recorderLiveWithin,
	// as the record-plan answers decide it.
	Live      bool              `json:"live"`
	Retention recorderRetention `json:"retention"`
	// Capacity is the node's last capacity reading (capacity.Event as the
	// guard stored it), null before the first.
	Capacity json.RawMessage `json:"capacity"`
}

// recorderRetention is a node's retention settings.
type recorderRetention struct {
	StandardDays int   `json:"standard_days"`
	KeyDays      int   `json:"key_days"`
	LimitSeconds int64 `json:"limit_seconds"`
}

// recorderListJSON is the answer of GET /recorders.
type recorderListJSON struct {
	Items []recorderJSON `json:"items"`
}

// listRecorders answers the recorder nodes with their liveness, retention
// and storage alarm, for the console's banner. Admins and auditors only:
// a node's URL and free space are operators' business.
func (a *API) listRecorders(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	switch sess.User.Role {
	case store.RoleAdmin, store.RoleAuditor:
	default:
		err := fmt.Errorf("list the recorders: %w", ErrForbidden)
		a.deny(r, sess, r.URL.Path, err)
		return err
	}
	recs, err := recordingdb.New(a.Store.Store).Recorders(r.Context(), recorderLiveWithin)
	if err != nil {
		return err
	}
	out := recorderListJSON{Items: make([]recorderJSON, 0, len(recs))}
	for _, rec := range recs {
		capacity := rec.Capacity
		if capacity == nil {
			capacity = json.RawMessage("null")
		}
		out.Items = append(out.Items, recorderJSON{
			Node: rec.Node.Node, URL: rec.URL, StartedAt: rec.StartedAt, HeartbeatAt: rec.HeartbeatAt, Live: rec.Live,
			Retention: recorderRetention{
				StandardDays: rec.Retention.StandardDays, KeyDays: rec.Retention.KeyDays,
				LimitSeconds: int64(rec.Retention.Limit / time.Second),
			},
			Capacity: capacity,
		})
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// recorderFreshWithin is how recent a recorder node's heartbeat must be
// for the console to send browsers or exports to it: three times the
// lease TTL (15 s), so a node that missed one renewal still counts and a
// dead one stops counting before its channels have moved.
const recorderFreshWithin = 45 * time.Second

// recorderNode is where a recorder node serves.
type recorderNode struct {
	Node string
	// URL is its internal API (exports); PublicURL is where browsers reach
	// its VOD routes (its URL when it publishes none).
	URL, PublicURL string
}

// freshestRecorder returns the live recorder node whose heartbeat is the
// most recent, or ErrRecorderUnavailable when none beat within
// recorderFreshWithin.
func (a *API) freshestRecorder(ctx context.Context) (recorderNode, error) {
	nodes, err := recordingdb.New(a.Store.Store).LiveNodes(ctx, recorderFreshWithin)
	if err != nil {
		return recorderNode{}, err
	}
	if len(nodes) == 0 {
		return recorderNode{}, fmt.Errorf("no recorder node beat within %s: %w", recorderFreshWithin, ErrRecorderUnavailable)
	}
	best := nodes[0]
	for _, n := range nodes[1:] {
		if n.HeartbeatAt.After(best.HeartbeatAt) {
			best = n
		}
	}
	public, err := recordingdb.New(a.Store.Store).NodeURLs(ctx)
	if err != nil {
		return recorderNode{}, err
	}
	out := recorderNode{Node: best.Node, URL: best.URL, PublicURL: public[best.Node]}
	if out.PublicURL == "" {
		out.PublicURL = out.URL
	}
	if out.URL == "" {
		return recorderNode{}, fmt.Errorf("recorder node %s has no URL: %w", best.Node, ErrRecorderUnavailable)
	}
	return out, nil
}
