package sipserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// mediaNode is sipserver's side of one mediagw node's control API
// (docs/mediagw.md): sipserver opens a receiver there before each INVITE
// and closes it when the session ends. It calls the contract's client and
// maps its errors to sipserver's.
type mediaNode struct {
	client mediaapi.Client
}

func newMediaNode(url, token string) *mediaNode {
	return &mediaNode{client: mediaapi.Client{BaseURL: url, Token: token}}
}

func (n *mediaNode) open(ctx context.Context, req mediaapi.OpenRequest) (mediaapi.Receiver, error) {
	r, err := n.client.Open(ctx, req)
	return r, mediaErr(err)
}

// patch tells a receiver the SSRC the device uses and the IPs its media may
// come from; an empty ssrc or allowIPs leaves that one as it is.
func (n *mediaNode) patch(ctx context.Context, id, ssrc string, allowIPs []string) error {
	var p mediaapi.PatchRequest
	if ssrc != "" {
		p.SSRC = &ssrc
	}
	if len(allowIPs) > 0 {
		p.AllowIPs = &allowIPs
	}
	_, err := n.client.Patch(ctx, id, p)
	return mediaErr(err)
}

// pause suspends (on) or restarts a receiver's timeout.
func (n *mediaNode) pause(ctx context.Context, id string, on bool) error {
	_, err := n.client.Patch(ctx, id, mediaapi.PatchRequest{Paused: &on})
	return mediaErr(err)
}

func (n *mediaNode) connect(ctx context.Context, id, ip string, port int) error {
	_, err := n.client.Connect(ctx, id, mediaapi.ConnectRequest{IP: ip, Port: port})
	return mediaErr(err)
}

// close closes a receiver; one that is gone already is not an error.
func (n *mediaNode) close(ctx context.Context, id string) error {
	err := n.client.Close(ctx, id)
	if errors.Is(err, svcapi.ErrNotFound) {
		return nil
	}
	return mediaErr(err)
}

func (n *mediaNode) receivers(ctx context.Context) ([]mediaapi.Receiver, error) {
	rcvs, err := n.client.Receivers(ctx)
	return rcvs, mediaErr(err)
}

// health asks whether the node is alive.
func (n *mediaNode) health(ctx context.Context) error {
	return mediaErr(n.client.Health(ctx))
}

// mediaErr maps an error of the media node to sipserver's: a node that
// cannot be reached, refuses our token or fails is ErrMediaUnavailable.
// Other refusals stay plain errors. mediagw's answer is kept as text, not
// wrapped: its code (internal, unauthorized, path_busy …) is not sipserver's
// to answer its own callers with, and would mask ErrMediaUnavailable.
func mediaErr(err error) error {
	var se *svcapi.StatusError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, svcapi.ErrUnreachable):
		return fmt.Errorf("%w: %w", ErrMediaUnavailable, err)
	case !errors.As(err, &se):
		return err
	case se.Code == http.StatusUnauthorized || se.Code >= 500,
		// Still held by a session being closed: a moment's unavailability.
		errors.Is(err, mediaapi.ErrPathBusy), errors.Is(err, mediaapi.ErrSSRCInUse):
		return fmt.Errorf("%s: %w", err.Error(), ErrMediaUnavailable)
	}
	return errors.New(err.Error())
}
