package mediagw

import (
	"context"
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// The contract's Client against the real control API: every call sipserver
// makes round-trips, and each refusal carries its machine code.
func TestContractClient(t *testing.T) {
	g := startGW(t, nil)
	c := &mediaapi.Client{BaseURL: g.base, Token: testServiceToken}
	ctx := context.Background()

	ri, err := c.Open(ctx, mediaapi.OpenRequest{Path: "live/client", SSRC: "0100000001", Transport: mediaapi.TransportUDP})
	if err != nil || ri.ID == "" || ri.Port == 0 || ri.Path != "live/client" {
		t.Fatalf("open = %+v, %v", ri, err)
	}
	ssrc, allow := "0100000002", []string{"127.0.0.1"}
	if ri, err = c.Patch(ctx, ri.ID, mediaapi.PatchRequest{SSRC: &ssrc, AllowIPs: &allow}); err != nil ||
		ri.SSRC != ssrc || len(ri.AllowIPs) != 1 {
		t.Fatalf("patch = %+v, %v", ri, err)
	}
	if got, err := c.Receiver(ctx, ri.ID); err != nil || got.ID != ri.ID {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if list, err := c.Receivers(ctx); err != nil || len(list) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if st, err := c.Stream(ctx, "live/client"); err != nil || st.Receiver != ri.ID {
		t.Fatalf("stream = %+v, %v", st, err)
	}
	if wh, err := c.Webhook(ctx); err != nil || wh.Enabled {
		t.Fatalf("webhook = %+v, %v", wh, err)
	}
	if tok, err := c.PlayToken(ctx, mediaapi.PlayTokenRequest{Paths: []string{"live/client"}}); err != nil || tok.Token == "" {
		t.Fatalf("play token = %+v, %v", tok, err)
	}

	refusals := []struct {
		name string
		call func() error
		want error
		code string
	}{
		{"path busy", func() error {
			_, err := c.Open(ctx, mediaapi.OpenRequest{Path: "live/client", Transport: mediaapi.TransportUDP})
			return err
		}, mediaapi.ErrPathBusy, mediaapi.CodePathBusy},
		{"bad transport", func() error {
			_, err := c.Open(ctx, mediaapi.OpenRequest{Path: "live/x", Transport: "sctp"})
			return err
		}, svcapi.ErrBadRequest, svcapi.CodeBadRequest},
		{"connect udp", func() error {
			_, err := c.Connect(ctx, ri.ID, mediaapi.ConnectRequest{IP: "127.0.0.1", Port: 5})
			return err
		}, svcapi.ErrBadRequest, svcapi.CodeBadRequest},
		{"unknown receiver", func() error { return c.Close(ctx, "nope") }, svcapi.ErrNotFound, svcapi.CodeNotFound},
		{"unknown stream", func() error {
			_, err := c.Stream(ctx, "live/nope")
			return err
		}, svcapi.ErrNotFound, svcapi.CodeNotFound},
		{"no token", func() error {
			_, err := (&mediaapi.Client{BaseURL: g.base}).Receivers(ctx)
			return err
		}, svcapi.ErrUnreachable, ""},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			err := r.call()
			if !errors.Is(err, r.want) || svcapi.CodeOf(err) != r.code {
				t.Fatalf("err = %v (code %q), want %v (code %q)", err, svcapi.CodeOf(err), r.want, r.code)
			}
		})
	}
	if err := c.Close(ctx, ri.ID); err != nil {
		t.Fatalf("close: %v", err)
	}
}
