package sipserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// replayLead is how far after the start of a superior's range our
// recordings may begin and still serve it while the device is online: a
// range taken from our RecordInfo items begins where they do.
const replayLead = 5 * time.Second

// recorderFresh is how recent a recorder node's heartbeat must be for it
// to be asked for a replay (twice its lease's default).
const recorderFresh = 30 * time.Second

// upReplay is an upward playback or download of our own recordings: a
// recorder node replays them into a mediagw receiver of ours, whose
// stream the upward sender reads.
type upReplay struct {
	// recorder is the node's internal URL.
	recorder   string
	id         string
	receiverID string
}

// recorder is the client of the recorder node at url.
func (s *Server) recorder(url string) *recorderapi.Client {
	return &recorderapi.Client{BaseURL: url, Token: s.MediaToken, Timeout: s.Config.RequestTimeout.Std()}
}

// replayNode returns the internal URL of the live recorder node that can
// replay ch's recordings of [start, end), or "" when the device should
// serve the range: our recordings serve it when they begin within
// replayLead of its start, or, the device being offline, anywhere in it.
func (s *Server) replayNode(ctx context.Context, ch store.Channel, start, end time.Time) (string, error) {
	if s.MediaToken == "" {
		return "", nil
	}
	db := recordingdb.New(s.Store.Store)
	segs, err := db.PlaybackSegments(ctx, ch.ID, start, end)
	if err != nil || len(segs) == 0 {
		return "", err
	}
	if segs[0].Start.After(start.Add(replayLead)) && ch.Online {
		return "", nil
	}
	nodes, err := db.LiveNodes(ctx, recorderFresh)
	if err != nil {
		return "", err
	}
	// A directory store is readable by its own node only; S3 by any.
	own, held := recordingdb.HoldingNode(segs[0].Store)
	best := recordingdb.Node{}
	for _, n := range nodes {
		if n.URL == "" || (held && n.Node != own) {
			continue
		}
		if best.URL == "" || n.HeartbeatAt.After(best.HeartbeatAt) {
			best = n
		}
	}
	return best.URL, nil
}

// openUpReplay starts the replay of our recordings of the superior's
// range from the recorder node at recorderURL, into a receiver on a path
// of kind's, and returns the path.
func (s *Server) openUpReplay(ctx context.Context, rl *runningLink, kind, channelID, recorderURL, ssrc string,
	start, end time.Time, speed int,
) (string, *upReplay, error) {
	pk := streampath.KindPlayback
	if kind == sipapi.KindDownload {
		pk = streampath.KindDownload
	}
	path := streampath.Join(pk, newSessionID())
	// Media only from the recorder node.
	allow, err := recorderIPs(ctx, recorderURL)
	if err != nil {
		return "", nil, err
	}
	req := mediaapi.OpenRequest{Path: path, SSRC: ssrc, Transport: mediaapi.TransportTCPPassive, AllowIPs: allow}
	node := s.sessions.node.client
	rcv, err := node.Open(ctx, req)
	if err != nil {
		return "", nil, fmt.Errorf("open a receiver for a replay: %w", err)
	}
	rp, err := s.recorder(recorderURL).StartReplay(ctx, recorderapi.ReplayRequest{
		ChannelID: channelID, Start: start, End: end, Speed: float64(speed),
		Dest: net.JoinHostPort(rcv.IP, strconv.Itoa(rcv.Port)), SSRC: ssrc, Subject: "platform:" + rl.cfg.ServerID,
	})
	if err != nil {
		if cerr := node.Close(context.WithoutCancel(ctx), rcv.ID); cerr != nil && !errors.Is(cerr, svcapi.ErrNotFound) {
			s.Log.Warn("close the receiver of a replay not started", "receiver", rcv.ID, "err", cerr)
		}
		if errors.Is(err, svcapi.ErrNotFound) {
			return "", nil, fmt.Errorf("replay of %s: %w", channelID, store.ErrNotFound)
		}
		return "", nil, fmt.Errorf("start a replay: %w", err)
	}
	return path, &upReplay{recorder: recorderURL, id: rp.ID, receiverID: rcv.ID}, nil
}

// recorderIPs are the addresses of the recorder node at rawURL: the
// receiver takes media from them only.
func recorderIPs(ctx context.Context, rawURL string) ([]string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("recorder URL %q: no host", rawURL)
	}
	addrs := resolveIPs(ctx, u.Hostname())
	if len(addrs) == 0 {
		return nil, fmt.Errorf("recorder host %s: no address", u.Hostname())
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out, nil
}

// endUpReplay stops u's replay and closes its receiver.
func (s *Server) endUpReplay(ctx context.Context, r *upReplay) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Config.RequestTimeout.Std())
	defer cancel()
	if err := s.recorder(r.recorder).StopReplay(ctx, r.id); err != nil && !errors.Is(err, svcapi.ErrNotFound) {
		s.Log.Warn("stop the replay of an upward stream", "replay", r.id, "err", err)
	}
	if err := s.sessions.node.client.Close(ctx, r.receiverID); err != nil && !errors.Is(err, svcapi.ErrNotFound) {
		s.Log.Warn("close the receiver of an upward replay", "receiver", r.receiverID, "err", err)
	}
}

// replayDone reports whether u's replay sent its whole range.
func (s *Server) replayDone(ctx context.Context, r *upReplay) bool {
	rp, err := s.recorder(r.recorder).Replay(ctx, r.id)
	if err != nil {
		s.Log.Info("how an upward replay ended", "replay", r.id, "err", err)
		return false
	}
	return rp.State == recorderapi.ReplayDone
}

// controlUpReplay applies a superior's playback control to u's replay.
func (s *Server) controlUpReplay(ctx context.Context, r *upReplay, c upControl) error {
	ctl := recorderapi.ReplayControl{Action: c.action}
	switch c.action {
	case "seek":
		ctl.OffsetMS = c.position.Milliseconds()
	case "scale":
		if c.scale <= 0 {
			return badRequest("scale %v: our recordings play forwards only", c.scale)
		}
		ctl.Scale = c.scale
	}
	if _, err := s.recorder(r.recorder).ControlReplay(ctx, r.id, ctl); err != nil {
		if errors.Is(err, svcapi.ErrBadRequest) {
			return badRequest("%v", err)
		}
		return err
	}
	return nil
}

// platformRecords are our recordings of ch in [start, end) as RecordInfo
// items, as the superior knows the channel: one per stretch without a
// hole, recorded by us (RecorderID, our ID as the superior knows us).
func (s *Server) platformRecords(ctx context.Context, rl *runningLink, ch store.Channel, start, end time.Time,
	typ string,
) []manscdp.RecordItem {
	switch strings.ToLower(typ) {
	case "", "all", "time":
	default:
		return nil // ours are continuous recordings, neither alarm nor manual
	}
	tl, err := recordingdb.New(s.Store.Store).Timeline(ctx, ch.ID, start, end)
	if err != nil {
		s.Log.Info("our recordings for a superior's RecordInfo", "channel", ch.ID, "err", err)
		return nil
	}
	exposed, name := rl.expose(ch.ID), rl.exposeName(ch.ID, ch.Name)
	items := make([]manscdp.RecordItem, 0, len(tl.Segments))
	for _, sp := range tl.Segments {
		items = append(items, manscdp.RecordItem{
			DeviceID: exposed, Name: name, FilePath: "platform", Address: "platform",
			StartTime: manscdp.NewTime(sp.Start), EndTime: manscdp.NewTime(sp.End), Type: "time",
			RecorderID: rl.link.LocalID,
		})
	}
	return items
}

// replaysTo reports whether an upward replay's receiver publishes path,
// or did lately.
func (c *cascadeLinks) replaysTo(path string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.endedReplays[path]; ok {
		return true
	}
	for _, u := range c.ups {
		if u.replay != nil && u.path == path {
			return true
		}
	}
	return false
}

// dropLocked forgets upward session u; for a replay, its path is
// remembered for endedEarlyTTL (replaysTo). c.mu is held.
func (c *cascadeLinks) dropLocked(u *upSession) {
	delete(c.ups, u.callID)
	if u.replay == nil {
		return
	}
	now := c.now()
	for p, at := range c.endedReplays {
		if now.Sub(at) > endedEarlyTTL {
			delete(c.endedReplays, p)
		}
	}
	c.endedReplays[u.path] = now
}

// upwardReceivers are the mediagw receivers upward replays own: those of
// the running upward sessions and, until the last run's are taken back
// (restoreUps), those its stored rows name.
func (s *Server) upwardReceivers(ctx context.Context) (map[string]bool, error) {
	owned := s.cascade.replayReceivers()
	select {
	case <-s.cascade.restored:
		return owned, nil
	default:
	}
	rows, err := s.Store.UpwardSessions(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.ReceiverID != "" {
			owned[r.ReceiverID] = true
		}
	}
	return owned, nil
}

// replayReceivers are the receivers of the running upward replays.
func (c *cascadeLinks) replayReceivers() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]bool{}
	for _, u := range c.ups {
		if u.replay != nil {
			out[u.replay.receiverID] = true
		}
	}
	return out
}
