package sipserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// dialog is an INVITE dialog we started (we are the UAC). It holds only what
// in-dialog requests need, all of which is kept in stream_sessions, so that
// a restarted sipserver can still BYE a device.
type dialog struct {
	deviceID  string
	channelID string
	callID    string
	fromTag   string
	toTag     string
	// remoteTarget is the device's Contact from the 200, the Request-URI of
	// in-dialog requests; the packets still go to the device's registered
	// address, because cameras behind NAT put private addresses there.
	remoteTarget sip.Uri

	mu   sync.Mutex
	cseq uint32
}

// matchesIncoming reports whether req, sent by the device inside a dialog,
// carries this dialog's Call-ID and tags: its From tag is the device's
// (our To tag) and its To tag ours.
func (d *dialog) matchesIncoming(req *sip.Request) bool {
	from, to, cid := req.From(), req.To(), req.CallID()
	if from == nil || to == nil || cid == nil || cid.Value() != d.callID {
		return false
	}
	fromTag, _ := from.Params.Get("tag")
	toTag, _ := to.Params.Get("tag")
	return fromTag == d.toTag && toTag == d.fromTag && d.toTag != ""
}

// nextCSeq returns the CSeq of our next in-dialog request.
func (d *dialog) nextCSeq() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cseq++
	return d.cseq
}

// inviteResult is the outcome of an answered INVITE.
type inviteResult struct {
	dlg *dialog
	// prepared is what prepare returned; the dialog is established (ACKed)
	// either way, so a caller that got an error here hangs up.
	prepared error
}

// prepareTimeout bounds prepare: the device retransmits its 200 until the
// ACK comes.
const prepareTimeout = 3 * time.Second

// invite sends an INVITE for channelID with the SDP offer and waits for the
// final answer, at most timeout. A 2xx is acknowledged at once, after
// prepare (when not nil) has had the dialog and the SDP answer: the media
// side is set up before the device, which starts sending or connecting on
// the ACK, can use it. When the device does not answer in time the INVITE is
// cancelled, and a 2xx that crosses the CANCEL is acknowledged and hung up.
func (s *Server) invite(ctx context.Context, deviceID, channelID, subject string, offer []byte,
	timeout time.Duration, prepare func(ctx context.Context, dlg *dialog, answer []byte) error,
) (*inviteResult, error) {
	snap, err := s.registered(deviceID)
	if err != nil {
		return nil, err
	}
	req, err := s.newRequest(sip.INVITE, snap, channelID)
	if err != nil {
		return nil, err
	}
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: s.Config.ID, Host: s.advertise, Port: s.sipPort}})
	req.AppendHeader(sip.NewHeader("Subject", subject))
	ct := sip.ContentTypeHeader("APPLICATION/SDP")
	req.AppendHeader(&ct)
	req.SetBody(offer)

	tx, err := s.client.TransactionRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("INVITE %s at %s: %w", channelID, snap.RemoteAddr, errors.Join(ErrTimeout, err))
	}
	defer tx.Terminate()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	provisional := false
	for {
		select {
		case res := <-tx.Responses():
			switch {
			case res.IsProvisional():
				provisional = true
				continue
			case res.IsSuccess():
				dlg := s.newDialog(deviceID, req, res)
				var prepared error
				if prepare != nil {
					pctx, cancel := context.WithTimeout(ctx, prepareTimeout)
					prepared = prepare(pctx, dlg, res.Body())
					cancel()
				}
				if err := s.ack(dlg, req, res, tx); err != nil {
					return nil, err
				}
				return &inviteResult{dlg: dlg, prepared: prepared}, nil
			default:
				return nil, &RejectedError{Method: "INVITE", Code: res.StatusCode, Reason: res.Reason}
			}
		case <-tx.Done():
			return nil, fmt.Errorf("INVITE %s at %s: %w", channelID, snap.RemoteAddr, errors.Join(ErrTimeout, tx.Err()))
		case <-timer.C:
			return nil, s.cancelInvite(deviceID, req, tx, provisional, timeout)
		case <-ctx.Done():
			return nil, s.cancelInvite(deviceID, req, tx, provisional, timeout)
		}
	}
}

// cancelInvite gives up on an unanswered INVITE. A CANCEL is sent only after
// a provisional response (RFC 3261 9.1); without one the device never got
// the INVITE as far as we can tell. A 2xx that still arrives is taken and
// hung up at once, so the device does not stream to nobody.
func (s *Server) cancelInvite(deviceID string, invite *sip.Request, tx sip.ClientTransaction, provisional bool,
	timeout time.Duration,
) error {
	channelID := invite.Recipient.User
	err := fmt.Errorf("INVITE %s: no answer within %s: %w", channelID, timeout, ErrTimeout)
	if !provisional {
		return err
	}
	cancel := sip.NewRequest(sip.CANCEL, invite.Recipient)
	cancel.AppendHeader(sip.HeaderClone(invite.Via()))
	cancel.AppendHeader(sip.HeaderClone(invite.From()))
	cancel.AppendHeader(sip.HeaderClone(invite.To()))
	cancel.AppendHeader(sip.HeaderClone(invite.CallID()))
	cancel.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.CANCEL})
	cancel.SetTransport(invite.Transport())
	cancel.SetDestination(invite.Destination())
	ctx, done := context.WithTimeout(s.ctx, 4*time.Second)
	defer done()
	if res, cerr := s.client.Do(ctx, cancel); cerr != nil || !res.IsSuccess() {
		s.Log.Warn("CANCEL not answered", "channel", channelID, "err", cerr)
	}
	// Wait briefly for the INVITE's final answer: 487, or a crossing 200.
	select {
	case res := <-tx.Responses():
		if res.IsSuccess() {
			if dlg, cerr := s.confirm(deviceID, invite, res, tx); cerr == nil {
				s.hangup(dlg, "cancelled")
			}
		}
	case <-tx.Done():
	case <-ctx.Done():
	}
	return err
}

// confirm acknowledges a 2xx and returns the dialog it established.
func (s *Server) confirm(deviceID string, invite *sip.Request, res *sip.Response, tx sip.ClientTransaction) (*dialog, error) {
	dlg := s.newDialog(deviceID, invite, res)
	return dlg, s.ack(dlg, invite, res, tx)
}

// newDialog is the dialog a 2xx to invite establishes.
func (s *Server) newDialog(deviceID string, invite *sip.Request, res *sip.Response) *dialog {
	toTag, _ := res.To().Params.Get("tag")
	fromTag, _ := invite.From().Params.Get("tag")
	dlg := &dialog{
		deviceID: deviceID, channelID: invite.Recipient.User, callID: invite.CallID().Value(),
		fromTag: fromTag, toTag: toTag, remoteTarget: invite.Recipient, cseq: invite.CSeq().SeqNo,
	}
	if c := res.Contact(); c != nil {
		dlg.remoteTarget = *c.Address.Clone()
	}
	return dlg
}

// ack sends the ACK of a 2xx, and again for each retransmission of it
// (our ACK was lost over UDP).
func (s *Server) ack(dlg *dialog, invite *sip.Request, res *sip.Response, tx sip.ClientTransaction) error {
	ack := sip.NewRequest(sip.ACK, dlg.remoteTarget)
	ack.AppendHeader(sip.HeaderClone(invite.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(invite.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.ACK})
	if c := invite.Contact(); c != nil {
		ack.AppendHeader(sip.HeaderClone(c))
	}
	ack.SetTransport(invite.Transport())
	ack.SetDestination(invite.Destination())
	tx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			_ = s.client.WriteRequest(ack.Clone())
		}
	})
	if err := s.client.WriteRequest(ack.Clone()); err != nil {
		return fmt.Errorf("ACK %s: %w", dlg.channelID, err)
	}
	return nil
}

// inDialog sends a request within dlg (BYE, INFO) and waits for the final answer.
func (s *Server) inDialog(ctx context.Context, dlg *dialog, method sip.RequestMethod, contentType string, body []byte) error {
	d := s.devices.get(dlg.deviceID)
	if d == nil {
		return fmt.Errorf("device %s: %w", dlg.deviceID, ErrUnknownDevice)
	}
	snap := d.snapshot()
	req := sip.NewRequest(method, *dlg.remoteTarget.Clone())
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: s.Config.ID, Host: s.Config.Domain}}
	from.Params.Add("tag", dlg.fromTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: dlg.channelID, Host: s.Config.Domain}}
	to.Params.Add("tag", dlg.toTag)
	req.AppendHeader(to)
	callID := sip.CallIDHeader(dlg.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: dlg.nextCSeq(), MethodName: method})
	req.AppendHeader(sip.NewHeader("X-GB-Ver", gbVersionOut(snap.GBVersion)))
	if contentType != "" {
		ct := sip.ContentTypeHeader(contentType)
		req.AppendHeader(&ct)
	}
	req.SetBody(body)
	req.SetTransport(snap.Transport)
	req.SetDestination(snap.RemoteAddr)
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("%s %s at %s: %w", method, dlg.channelID, snap.RemoteAddr, errors.Join(ErrTimeout, err))
	}
	if !res.IsSuccess() {
		return &RejectedError{Method: method.String(), Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// hangup sends BYE for dlg in the background, logging the outcome: the
// session is over for us whatever the device answers.
func (s *Server) hangup(dlg *dialog, reason string) {
	s.background(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 8*time.Second)
		defer cancel()
		err := s.inDialog(ctx, dlg, sip.BYE, "", nil)
		var rej *RejectedError
		switch {
		case err == nil:
			s.Log.Info("BYE sent", "device", dlg.deviceID, "channel", dlg.channelID, "reason", reason)
		case errors.As(err, &rej) && rej.Code == sip.StatusCallTransactionDoesNotExists:
			s.Log.Info("BYE: the device had already ended the dialog", "device", dlg.deviceID, "channel", dlg.channelID)
		default:
			s.Log.Warn("BYE failed", "device", dlg.deviceID, "channel", dlg.channelID, "reason", reason, "err", err)
		}
	})
}

// subjectOf is the GB28181 Subject of an INVITE: "<channel>:<ssrc>,<platform>:0".
func subjectOf(channelID, ssrc, platformID string) string {
	return channelID + ":" + ssrc + "," + platformID + ":0"
}

// parseURI parses a stored remote target.
func parseURI(v string) (sip.Uri, error) {
	var u sip.Uri
	if err := sip.ParseUri(v, &u); err != nil {
		return u, fmt.Errorf("remote target %q: %w", v, err)
	}
	return u, nil
}
