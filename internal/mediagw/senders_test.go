package mediagw

import (
	"context"
	"strconv"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
)

// TestSenderCascade: a camera's stream on one mediagw (the lower platform's)
// goes up to a second one (the superior's) through a sender, over UDP, TCP
// the sender connects and TCP the superior connects. The superior's ingest
// takes it like a camera's: the same codec (H.265 stays H.265), size and
// audio, no packet lost, the superior's SSRC; closing the sender leaves the
// lower's stream to its other readers.
func TestSenderCascade(t *testing.T) {
	lower := startGW(t, nil)
	upper := startGW(t, nil)
	sim := newSim(t)
	cases := []struct {
		name, channel, codec string
		up, sender           string // the superior's receiver transport, ours
	}{
		{"udp", chanH264, "H264", mediaapi.TransportUDP, mediaapi.SenderUDP},
		{"tcp-connect", chanH265, "H265", mediaapi.TransportTCPPassive, mediaapi.SenderTCPConnect},
		{"tcp-listen", chanH264, "H264", mediaapi.TransportTCPActive, mediaapi.SenderTCPListen},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			path := "live/cam-" + c.name
			startCamera(ctx, t, lower, sim, c.channel, path, mediaapi.TransportUDP, false)
			lower.waitStream(path, lower.streamWait(), func(s mediaapi.Stream) bool { return s.VideoCodec == c.codec })

			const ssrc = 200000007
			var ri mediaapi.Receiver
			if code := upper.call("POST", "/internal/v1/receivers", mediaapi.OpenRequest{
				Path: path, SSRC: strconv.Itoa(ssrc), Transport: c.up,
			}, &ri); code != 201 {
				t.Fatalf("superior's receiver: %d", code)
			}
			req := mediaapi.SenderRequest{Path: path, SSRC: strconv.Itoa(ssrc), Transport: c.sender, Subject: "platform:34020000002000000009"}
			if c.sender != mediaapi.SenderTCPListen {
				req.Dest = ri.IP + ":" + strconv.Itoa(ri.Port)
			} else {
				req.AllowIPs = []string{"127.0.0.1"}
			}
			var si struct {
				mediaapi.Sender
				Error string `json:"error"`
			}
			if code := lower.call("POST", "/internal/v1/senders", req, &si); code != 201 || si.Port == 0 || si.IP != "127.0.0.1" {
				t.Fatalf("sender: %d %+v", code, si)
			}
			if opens := lower.audit.stored(t); len(opens) == 0 || opens[len(opens)-1].Protocol != "gb28181" ||
				opens[len(opens)-1].User != req.Subject || opens[len(opens)-1].Path != path {
				t.Fatalf("audit of the upward stream: %+v", opens)
			}
			if c.sender == mediaapi.SenderTCPListen {
				if code := upper.call("POST", "/internal/v1/receivers/"+ri.ID+"/connect",
					map[string]any{"ip": si.IP, "port": si.Port}, nil); code != 200 {
					t.Fatalf("connect: %d", code)
				}
			}
			st := upper.waitStream(path, upper.streamWait(), func(s mediaapi.Stream) bool {
				return s.VideoCodec == c.codec && s.Width == 640 && s.Height == 360 && s.FPS > 20 && s.AudioCodec == "G711A"
			})
			if st.Ingest == nil || st.Ingest.Lost != 0 || st.Ingest.SSRC != ssrc || st.Ingest.DemuxErrors != 0 {
				t.Fatalf("superior's ingest %+v", st.Ingest)
			}
			var list struct {
				Items []mediaapi.Sender `json:"items"`
			}
			if code := lower.call("GET", "/internal/v1/senders", nil, &list); code != 200 || len(list.Items) != 1 || list.Items[0].Packets == 0 {
				t.Fatalf("senders: %d %+v", code, list.Items)
			}
			if code := lower.call("DELETE", "/internal/v1/senders/"+si.ID, nil, nil); code != 204 {
				t.Fatalf("DELETE sender: %d", code)
			}
			if code := lower.call("DELETE", "/internal/v1/senders/"+si.ID, nil, nil); code != 404 {
				t.Fatalf("DELETE again: %d", code)
			}
			upper.call("DELETE", "/internal/v1/receivers/"+ri.ID, nil, nil)
		})
	}
	// No audit row, no upward stream (audit.fail_closed, the default).
	lower.audit.fail(500)
	if code := lower.call("POST", "/internal/v1/senders", mediaapi.SenderRequest{
		Path: "live/x", SSRC: "1", Transport: "tcp-listen", Subject: "platform:34020000002000000009", AllowIPs: []string{"127.0.0.1"},
	}, nil); code != 503 {
		t.Fatalf("sender without its audit row: %d, want 503", code)
	}
	for _, bad := range []mediaapi.SenderRequest{
		{Path: "live/x", SSRC: "abc", Transport: "udp", Dest: "127.0.0.1:9", Subject: "p"},
		{Path: "live/x", SSRC: "1", Transport: "udp", Subject: "p"},
		{Path: "live/x", SSRC: "1", Transport: "sctp", Subject: "p"},
		{Path: "", SSRC: "1", Transport: "tcp-listen", Subject: "p", AllowIPs: []string{"127.0.0.1"}},
		{Path: "live/x", SSRC: "1", Transport: "tcp-listen", AllowIPs: []string{"127.0.0.1"}},
		{Path: "live/x", SSRC: "1", Transport: "tcp-listen", Subject: "p"},
		{Path: "live/x", SSRC: "1", Transport: "tcp-listen", Subject: "p", AllowIPs: []string{"nowhere"}},
	} {
		if code := lower.call("POST", "/internal/v1/senders", bad, nil); code != 400 {
			t.Errorf("%+v: %d, want 400", bad, code)
		}
	}
}
