package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/probe"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Verdicts of a probe.
const (
	verdictOK    = "ok"
	verdictFault = "fault"
)

// ErrProbeUnavailable is a probe asked of a console that cannot play
// (no play-token secret), hence has no prober.
var ErrProbeUnavailable = fmt.Errorf("probes are off: %w", ErrPlayDisabled)

// probeJSON is one probe's finding as the API shows it.
type probeJSON struct {
	ID           int64           `json:"id"`
	ChannelID    string          `json:"channel_id"`
	At           time.Time       `json:"at"`
	Reachable    bool            `json:"reachable"`
	FirstFrameMS *int64          `json:"first_frame_ms"`
	Codec        string          `json:"codec"`
	Width        int             `json:"width"`
	Height       int             `json:"height"`
	Verdict      string          `json:"verdict"`
	Faults       []string        `json:"faults"`
	Measures     json.RawMessage `json:"measures,omitempty"`
	Error        string          `json:"error,omitempty"`
	Trigger      string          `json:"trigger"`
	RequestedBy  string          `json:"requested_by,omitempty"`
	// Thumbnail is where the channel's last picture is served, "" when
	// the probe got none.
	Thumbnail string `json:"thumbnail"`
}

func toProbeJSON(p consoledb.Probe) probeJSON {
	out := probeJSON{
		ID: p.ID, ChannelID: p.ChannelID, At: p.At.UTC(), Reachable: p.Reachable, FirstFrameMS: p.FirstFrameMS,
		Codec: p.Codec, Width: p.Width, Height: p.Height, Verdict: verdictOK, Faults: p.Faults, Measures: p.Measures,
		Error: p.Error, Trigger: p.Trigger, RequestedBy: p.RequestedBy,
	}
	if out.Faults == nil {
		out.Faults = []string{}
	}
	if len(out.Faults) > 0 || !p.Reachable {
		out.Verdict = verdictFault
	}
	if p.Reachable {
		out.Thumbnail = "/api/v1/channels/" + p.ChannelID + "/thumbnail"
	}
	return out
}

// probeChannel probes a channel now for a user with the live right on it;
// the probe is a video access, audited first.
func (a *API) probeChannel(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	// The slice first: a channel outside it is 404 whatever else holds.
	ch, err := a.grantedChannel(r, sess, catalogview.RightLive)
	if err != nil {
		return err
	}
	if a.Prober == nil {
		return ErrProbeUnavailable
	}
	if a.Prober.Full() { // before the audit row: no access happens
		return newError(http.StatusServiceUnavailable, CodeBusy, "%d probes run already; try again", a.Prober.MaxRunning)
	}
	path := streampath.Live(ch.ID)
	if err := a.audit(r, sess, "probe", ch.ID, map[string]any{"path": path, "device_id": ch.DeviceID}); err != nil {
		return err
	}
	res, err := a.Prober.Probe(r.Context(), path, sess.User.Username)
	switch {
	case errors.Is(err, probe.ErrBusy):
		return newError(http.StatusServiceUnavailable, CodeBusy, "%d probes run already; try again", a.Prober.MaxRunning)
	case errors.Is(err, probe.ErrPlatform):
		// The log has the whole error; the finding would blame the camera.
		a.logger().Warn("probe: the platform did not serve the stream", "channel", ch.ID, "err", err)
		return newError(http.StatusServiceUnavailable, CodeMediaUnavailable, "the platform did not serve the stream; nothing was recorded")
	case err != nil:
		return err
	}
	row, err := keepProbe(r.Context(), a.Store, ch.ID, res, consoledb.ProbeManual, sess.User.Username)
	if err != nil {
		return err
	}
	a.logger().Info("probe", "channel", ch.ID, "user", sess.User.Username, "reachable", res.Reachable,
		"first_frame_ms", row.FirstFrameMS, "faults", res.Verdict.Faults, "error", res.Error)
	svcapi.WriteJSON(w, http.StatusOK, toProbeJSON(row))
	return nil
}

// maxProbeRange is the longest range one listing of probes covers.
const maxProbeRange = 92 * 24 * time.Hour

// listProbes answers a channel's probes in a range (default the last 24 h)
// to anyone who sees the channel.
func (a *API) listProbes(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	ch, err := a.grantedChannel(r, sess, "")
	if err != nil {
		return err
	}
	from, to, err := a.probeRange(r)
	if err != nil {
		return err
	}
	rows, err := a.Store.Probes(r.Context(), ch.ID, from, to)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, rows, len(rows), toProbeJSON)
	return nil
}

// thumbnail serves a channel's last picture to a user with the live right
// on it, audited as a video access.
func (a *API) thumbnail(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	ch, err := a.grantedChannel(r, sess, catalogview.RightLive)
	if err != nil {
		return err
	}
	jpeg, at, err := a.Store.Thumbnail(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	if err := a.audit(r, sess, "thumbnail", ch.ID, map[string]any{"at": at.UTC()}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(jpeg)))
	w.Header().Set("Cache-Control", "private, max-age=60")
	w.Header().Set("Last-Modified", at.UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(jpeg)
	return nil
}

// keepProbe stores a probe's finding (and its thumbnail) and returns the row.
func keepProbe(ctx context.Context, db *consoledb.DB, channel string, res probe.Result, trigger, user string) (consoledb.Probe, error) {
	row := consoledb.Probe{
		ChannelID: channel, At: res.At, Reachable: res.Reachable, Codec: res.Codec, Width: res.Width, Height: res.Height,
		Faults: res.Verdict.Faults, Error: res.Error, Trigger: trigger, RequestedBy: user,
	}
	if res.Reachable {
		ms := res.FirstFrame.Milliseconds()
		row.FirstFrameMS = &ms
		b, err := json.Marshal(res.Verdict.Measures)
		if err != nil {
			return row, fmt.Errorf("probe measures: %w", err)
		}
		row.Measures = b
	}
	id, err := db.AddProbe(ctx, row, res.Thumbnail)
	row.ID = id
	return row, err
}

// faultIntervalJSON is a stretch of time a channel showed a fault.
type faultIntervalJSON struct {
	Fault    string     `json:"fault"`
	OpenedAt time.Time  `json:"opened_at"`
	ClosedAt *time.Time `json:"closed_at"`
}

func toFaultIntervalJSON(f consoledb.FaultInterval) faultIntervalJSON {
	out := faultIntervalJSON{Fault: f.Fault, OpenedAt: f.OpenedAt.UTC()}
	if f.ClosedAt != nil {
		c := f.ClosedAt.UTC()
		out.ClosedAt = &c
	}
	return out
}

// listFaults answers a channel's fault intervals that overlap a range
// (default the last 24 h) to anyone who sees the channel.
func (a *API) listFaults(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	ch, err := a.grantedChannel(r, sess, "")
	if err != nil {
		return err
	}
	from, to, err := a.probeRange(r)
	if err != nil {
		return err
	}
	rows, err := a.Store.FaultIntervals(r.Context(), ch.ID, from, to)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, rows, len(rows), toFaultIntervalJSON)
	return nil
}

// probeRange is a listing's from and to (default the last 24 h).
func (a *API) probeRange(r *http.Request) (from, to time.Time, err error) {
	q := r.URL.Query()
	if to, err = svcapi.ParseTime("to", q.Get("to"), false); err != nil {
		return from, to, err
	}
	if to.IsZero() {
		to = a.now()
	}
	if from, err = svcapi.ParseTime("from", q.Get("from"), false); err != nil {
		return from, to, err
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if !from.Before(to) || to.Sub(from) > maxProbeRange {
		return from, to, badRequest("from must be before to, at most %d days apart", int(maxProbeRange.Hours()/24))
	}
	return from, to, nil
}
