package sipserver

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// restoreTimeout bounds taking back the upward sessions at start.
const restoreTimeout = 30 * time.Second

// restoredCSeq is the CSeq a restored dialog's next request of ours
// follows.
const restoredCSeq = 100

// row is u as upward_sessions keeps it.
func (u *upSession) row() sipdb.UpwardSession {
	r := sipdb.UpwardSession{
		CallID: u.callID, PlatformID: u.rl.cfg.ID, ChannelID: u.channelID, Kind: u.kind, SessionID: u.sessionID,
		Path: u.path, SenderID: u.senderID, LocalTag: u.localTag, RemoteTag: u.remoteTag,
		RemoteTarget: u.remoteTarget.String(), StartedAt: u.started, LocalUser: u.localUser,
	}
	if u.replay != nil {
		r.ReplayID, r.RecorderURL, r.ReceiverID = u.replay.id, u.replay.recorder, u.replay.receiverID
	}
	return r
}

// forgetUp deletes u's row: it ended.
func (s *Server) forgetUp(ctx context.Context, u *upSession) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.Store.DeleteUpwardSession(ctx, u.callID); err != nil {
		s.Log.Warn("forget an upward session", "call_id", u.callID, "err", err)
	}
}

// restoreUps takes back, at start, the upward sessions a previous run of
// ours left: one whose link runs and whose sender mediagw still has goes
// on as if nothing happened; the others are ended — a BYE to a superior
// whose link runs, the playback they read ended — and forgotten. Upward
// senders no session is left for are closed. It reports false when the
// database or mediagw did not answer: the rows stay, and it is run again.
func (s *Server) restoreUps(ctx context.Context) bool {
	if s.SessionConfig.MediagwURL == "" {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, restoreTimeout)
	defer cancel()
	senders, err := s.sessions.node.client.Senders(ctx)
	if err != nil {
		// Expected at start when mediagw starts after us.
		s.Log.Info("list mediagw's upward senders; the upward sessions of the last run are taken back later", "err", err)
		return false
	}
	rows, err := s.Store.UpwardSessions(ctx)
	if err != nil {
		s.Log.Warn("read the upward sessions of the last run; taken back later", "err", err)
		return false
	}
	live := map[string]mediaapi.Sender{}
	for _, snd := range senders {
		// A sender opened since our start belongs to an INVITE of this
		// run, perhaps not yet recorded: never a leftover.
		if strings.HasPrefix(snd.Subject, "platform:") && snd.CreatedAt.Before(s.startedAt) {
			live[snd.ID] = snd
		}
	}
	// Sessions of this run (INVITEd since the links started) are ours
	// already, with their senders.
	kept := s.cascade.senderIDs()
	restored := map[*runningLink]int{}
	var ended []*upSession
	for _, r := range rows {
		if s.cascade.hasUp(r.CallID) {
			continue
		}
		u := upFromRow(r)
		u.rl = s.cascade.link(r.PlatformID)
		snd, running := live[r.SenderID]
		if u.rl != nil && running && snd.Path == r.Path && s.cascade.addUp(u) == 0 {
			kept[r.SenderID] = true
			restored[u.rl]++
			continue
		}
		ended = append(ended, u)
		s.Log.Info("upward session of the last run ended", "platform_id", r.PlatformID, "channel", r.ChannelID,
			"link_running", u.rl != nil, "sender_running", running)
	}
	// Senders first: a superior slow to answer our BYE must not leave them.
	for id, snd := range live {
		if kept[id] {
			continue
		}
		if err := s.sessions.node.client.CloseSender(ctx, id); err != nil && !errors.Is(err, svcapi.ErrNotFound) {
			s.Log.Warn("close an upward sender of the last run", "sender", id, "err", err)
			continue
		}
		s.Log.Info("closed an upward sender of the last run", "sender", id, "path", snd.Path)
	}
	for _, u := range ended {
		s.background(func(ctx context.Context) {
			if u.rl != nil {
				s.byeUp(ctx, u)
			}
			s.endUpRecording(u)
			s.forgetUp(ctx, u)
		})
	}
	for rl, n := range restored {
		s.cascade.reportUp(ctx, rl)
		s.Log.Info("upward sessions of the last run taken back", "platform", rl.cfg.ServerID, "sessions", n)
	}
	return true
}

// senderIDs are the senders of the upward sessions running now.
func (c *cascadeLinks) senderIDs() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]bool, len(c.ups))
	for _, u := range c.ups {
		out[u.senderID] = true
	}
	return out
}

// upFromRow is the upward session of a stored row, acknowledged (its ACK
// came in the last run) and without its link.
func upFromRow(r sipdb.UpwardSession) *upSession {
	u := &upSession{
		callID: r.CallID, channelID: r.ChannelID, localUser: cmp.Or(r.LocalUser, r.ChannelID), kind: r.Kind, sessionID: r.SessionID, path: r.Path,
		senderID: r.SenderID, localTag: r.LocalTag, remoteTag: r.RemoteTag, started: r.StartedAt,
		acked: make(chan struct{}),
	}
	if r.ReplayID != "" {
		u.replay = &upReplay{recorder: r.RecorderURL, id: r.ReplayID, receiverID: r.ReceiverID}
	}
	u.ackOnce.Do(func() { close(u.acked) })
	// Our requests in the dialog before the restart are not known: a CSeq
	// above any of them (a MediaStatus, at most, came before the BYE).
	u.cseq.Store(restoredCSeq)
	if err := sip.ParseUri(r.RemoteTarget, &u.remoteTarget); err != nil {
		// Our own write; a BYE then goes nowhere useful, but nothing breaks.
		u.remoteTarget = sip.Uri{}
	}
	return u
}
