package sipserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// mediaNode is the client of one mediagw node's control API
// (docs/mediagw.md): sipserver opens a receiver there before each INVITE
// and closes it when the session ends.
type mediaNode struct {
	// URL is the control API's base URL, e.g. http://127.0.0.1:8888.
	URL   string
	Token string
	HTTP  *http.Client
}

// receiver is a mediagw receiver as its API describes it.
type receiver struct {
	ID        string    `json:"id"`
	Path      string    `json:"path"`
	SSRC      string    `json:"ssrc"`
	Transport string    `json:"transport"`
	IP        string    `json:"ip"`
	Port      int       `json:"port"`
	Created   time.Time `json:"created"`
	AllowIPs  []string  `json:"allow_ips,omitempty"`
}

// openRequest is the body of POST /internal/v1/receivers.
type openRequest struct {
	Path      string `json:"path"`
	SSRC      string `json:"ssrc"`
	Transport string `json:"transport"`
	Shared    bool   `json:"shared"`
	// AllowIPs are the only IPs the receiver takes media (or, for
	// tcp-passive, the connection) from: the device's signalling IP.
	AllowIPs []string `json:"allow_ips,omitempty"`
}

// receiverPatch is the body of PATCH /internal/v1/receivers/{id}: the
// SSRC the device really uses and the IPs its media may come from, once
// its SDP answer is known.
type receiverPatch struct {
	SSRC     string   `json:"ssrc,omitempty"`
	AllowIPs []string `json:"allow_ips,omitempty"`
}

func (n *mediaNode) open(ctx context.Context, req openRequest) (receiver, error) {
	var r receiver
	err := n.call(ctx, http.MethodPost, "/internal/v1/receivers", req, &r)
	return r, err
}

func (n *mediaNode) patch(ctx context.Context, id string, p receiverPatch) error {
	return n.call(ctx, http.MethodPatch, "/internal/v1/receivers/"+id, p, nil)
}

func (n *mediaNode) connect(ctx context.Context, id, ip string, port int) error {
	return n.call(ctx, http.MethodPost, "/internal/v1/receivers/"+id+"/connect", map[string]any{"ip": ip, "port": port}, nil)
}

// close closes a receiver; one that is gone already is not an error.
func (n *mediaNode) close(ctx context.Context, id string) error {
	err := n.call(ctx, http.MethodDelete, "/internal/v1/receivers/"+id, nil, nil)
	if errors.Is(err, errReceiverGone) {
		return nil
	}
	return err
}

func (n *mediaNode) receivers(ctx context.Context) ([]receiver, error) {
	var out struct {
		Items []receiver `json:"items"`
	}
	err := n.call(ctx, http.MethodGet, "/internal/v1/receivers", nil, &out)
	return out.Items, err
}

// errReceiverGone is mediagw's 404 for a receiver.
var errReceiverGone = errors.New("receiver not found at mediagw")

func (n *mediaNode) call(ctx context.Context, method, path string, body, out any) error {
	c := svcapi.Client{BaseURL: n.URL, Token: n.Token, HTTP: n.HTTP}
	err := c.Call(ctx, method, path, body, out)
	var se *svcapi.StatusError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, svcapi.ErrUnreachable):
		return fmt.Errorf("mediagw %s %s: %w: %w", method, path, ErrMediaUnavailable, err)
	case !errors.As(err, &se):
		return fmt.Errorf("mediagw %s %s: %w", method, path, err)
	case se.Code == http.StatusNotFound && strings.HasPrefix(path, "/internal/v1/receivers/"):
		return fmt.Errorf("mediagw %s %s: %s: %w", method, path, se.Message, errReceiverGone)
	case se.Code == http.StatusUnauthorized || se.Code >= 500:
		return fmt.Errorf("mediagw %s %s: %d %s: %w", method, path, se.Code, se.Message, ErrMediaUnavailable)
	}
	return fmt.Errorf("mediagw %s %s: %d %s", method, path, se.Code, se.Message)
}
