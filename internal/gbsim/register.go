package gbsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/sipreg"
)

// register sends REGISTER with the given expiry and answers up to two
// challenges. It returns the expiry the platform granted. Each attempt goes
// from the device's current transport, so a registration after a Rebind
// comes from the new port.
func (d *device) register(ctx context.Context, expires int) (int, error) {
	d.regMu.Lock()
	defer d.regMu.Unlock()
	uri := d.serverURI()
	fresh := false // whether the credentials answer a challenge to this very request
	for attempt := 0; attempt < 3; attempt++ {
		ep := d.ep()
		req := d.newRequest(ep, sip.REGISTER, uri, d.regCallID, d.regTag)
		req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: d.id, Host: ep.local.IP.String(), Port: ep.local.Port}})
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
		if d.auth != nil {
			h, err := d.auth.Authorization("REGISTER", uri.String(), d.id, d.password)
			if err != nil {
				return 0, err
			}
			req.AppendHeader(sip.NewHeader("Authorization", h))
		}
		res, err := ep.do(ctx, req)
		if err != nil {
			return 0, err
		}
		switch {
		case res.StatusCode >= 200 && res.StatusCode < 300:
			granted := sipreg.Granted(res, expires)
			if h := res.GetHeader("Date"); h != nil && expires > 0 {
				d.log.Debug("platform time", "date", h.Value())
			}
			return granted, nil
		case res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired:
			ans, err := sipreg.Challenge(res)
			if err != nil {
				return 0, fmt.Errorf("%w: %w", ErrAuth, err)
			}
			if fresh && !ans.Stale() {
				// Our answer to a fresh challenge was refused: wrong password.
				d.auth = nil
				return 0, fmt.Errorf("%w: %d after digest answer", ErrAuth, res.StatusCode)
			}
			d.auth = ans
			fresh = true
		default:
			d.auth = nil
			return 0, fmt.Errorf("%w: %d %s", ErrAuth, res.StatusCode, res.Reason)
		}
	}
	return 0, fmt.Errorf("%w: too many challenges", ErrAuth)
}

// serverURI is the Request-URI of requests to the platform:
// sip:<serverID>@<domain>, as the standard's examples show.
func (d *device) serverURI() sip.Uri {
	return sip.Uri{Scheme: "sip", User: d.sim.cfg.ServerID, Host: d.sim.cfg.Domain}
}

// newRequest builds an out-of-dialog request from the device to the
// platform (To has no tag), to be sent on ep.
func (d *device) newRequest(ep *endpoint, method sip.RequestMethod, ruri sip.Uri, callID, fromTag string) *sip.Request {
	req := sip.NewRequest(method, ruri)
	host, port := ep.viaHost()
	via := &sip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: ep.network,
		Host: host, Port: port, Params: sip.NewParams(),
	}
	via.Params.Add("rport", "")
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: d.id, Host: d.sim.cfg.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", fromTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: ruri.User, Host: d.sim.cfg.Domain}}
	if method == sip.REGISTER {
		to.Address.User = d.id
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: d.cseq.Add(1), MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(sip.NewHeader("User-Agent", userAgent))
	req.AppendHeader(sip.NewHeader("X-GB-Ver", "2.0"))
	req.SetTransport(ep.network)
	req.SetBody(nil) // Content-Length: 0, which TCP framing needs
	return req
}

// sendManscdp sends a MANSCDP body to the platform in a new MESSAGE and
// returns the final status code. A refusal that means "register again"
// (401, 403, 404) makes the device do so.
func (d *device) sendManscdp(ctx context.Context, body []byte) (int, error) {
	ep := d.ep()
	if ep == nil {
		return 0, ErrClosed
	}
	req := d.newRequest(ep, sip.MESSAGE, d.serverURI(), newToken(12)+"@"+ep.local.IP.String(), newToken(6))
	ct := sip.ContentTypeHeader("Application/MANSCDP+xml")
	req.AppendHeader(&ct)
	req.SetBody(body)
	ctx, cancel := context.WithTimeout(ctx, messageTimeout)
	defer cancel()
	res, err := ep.do(ctx, req)
	if err != nil {
		return 0, err
	}
	d.refused(res.StatusCode)
	return res.StatusCode, nil
}

// newToken returns n random bytes in hex, for tags, Call-IDs and cnonces.
func newToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
