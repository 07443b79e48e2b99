package sdp_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

func mustParse(t *testing.T, s string) *sdp.Session {
	t.Helper()
	sess, err := sdp.Parse([]byte(s))
	if err != nil && !errors.Is(err, sdp.ErrInvalidSSRC) {
		t.Fatalf("parse %q: %v", s, err)
	}
	return sess
}

// sdpWith builds a one-media SDP body for plan tests.
func sdpWith(ip string, port int, proto, setup, y string) string {
	b := "v=0\no=x 0 0 IN IP4 0.0.0.0\ns=Play\n"
	if ip != "" {
		b += "c=IN IP4 " + ip + "\n"
	}
	b += "t=0 0\nm=video " + strconv.Itoa(port) + " " + proto + " 96\n"
	if setup != "" {
		b += "a=setup:" + setup + "\n"
	}
	if y != "" {
		b += "y=" + y + "\n"
	}
	return b
}

func TestResolvePlan(t *testing.T) {
	const tcp, udp = "TCP/RTP/AVP", "RTP/AVP"
	tests := []struct {
		name          string
		offer, answer string
		transport     sdp.Transport
		connector     sdp.Connector
		remote        string
		ssrc          sdp.SSRC
		hasSSRC       bool
		fromAnswer    bool
		warnings      int
	}{
		{
			"udp same y", sdpWith("10.0.0.5", 30000, udp, "", "0200000001"), sdpWith("192.168.1.64", 15060, udp, "", "0200000001"),
			sdp.TransportUDP, sdp.ConnectorNone, "10.0.0.5:30000", 200000001, true, true, 0,
		},
		{
			"udp answer y differs", sdpWith("10.0.0.5", 30000, udp, "", "0200000001"), sdpWith("192.168.1.64", 15060, udp, "", "0200000099"),
			sdp.TransportUDP, sdp.ConnectorNone, "10.0.0.5:30000", 200000099, true, true, 1,
		},
		{
			"udp answer 9-digit y", sdpWith("10.0.0.5", 30000, udp, "", "0200000001"), sdpWith("192.168.1.64", 15060, udp, "", "200000001"),
			sdp.TransportUDP, sdp.ConnectorNone, "10.0.0.5:30000", 200000001, true, true, 0,
		},
		{
			"udp answer without y", sdpWith("10.0.0.5", 30000, udp, "", "0200000001"), sdpWith("192.168.1.64", 15060, udp, "", ""),
			sdp.TransportUDP, sdp.ConnectorNone, "10.0.0.5:30000", 200000001, true, false, 0,
		},
		{
			"udp answer invalid y", sdpWith("10.0.0.5", 30000, udp, "", "0200000001"), sdpWith("192.168.1.64", 15060, udp, "", "zz"),
			sdp.TransportUDP, sdp.ConnectorNone, "10.0.0.5:30000", 200000001, true, false, 1,
		},
		{
			"udp no y anywhere", sdpWith("10.0.0.5", 30000, udp, "", ""), sdpWith("192.168.1.64", 15060, udp, "", ""),
			sdp.TransportUDP, sdp.ConnectorNone, "10.0.0.5:30000", 0, false, false, 0,
		},
		{
			"tcp passive", sdpWith("10.0.0.5", 30000, tcp, "passive", "0200000001"), sdpWith("192.168.1.64", 15060, tcp, "active", "0200000001"),
			sdp.TransportTCPPassive, sdp.ConnectorAnswerer, "10.0.0.5:30000", 200000001, true, true, 0,
		},
		{
			"tcp passive, device echoes passive", sdpWith("10.0.0.5", 30000, tcp, "passive", ""), sdpWith("192.168.1.64", 0, tcp, "passive", ""),
			sdp.TransportTCPPassive, sdp.ConnectorAnswerer, "10.0.0.5:30000", 0, false, false, 1,
		},
		{
			"tcp active", sdpWith("10.0.0.5", 30000, tcp, "active", "0200000001"), sdpWith("192.168.1.64", 15060, tcp, "passive", "0200000001"),
			sdp.TransportTCPActive, sdp.ConnectorOfferer, "192.168.1.64:15060", 200000001, true, true, 0,
		},
		{
			"tcp active, answer without setup", sdpWith("10.0.0.5", 30000, tcp, "active", ""), sdpWith("192.168.1.64", 15060, tcp, "", ""),
			sdp.TransportTCPActive, sdp.ConnectorOfferer, "192.168.1.64:15060", 0, false, false, 0,
		},
		{
			"tcp active, answer active", sdpWith("10.0.0.5", 30000, tcp, "active", ""), sdpWith("192.168.1.64", 15060, tcp, "active", ""),
			sdp.TransportTCPActive, sdp.ConnectorOfferer, "192.168.1.64:15060", 0, false, false, 1,
		},
		{
			"actpass, answer passive", sdpWith("10.0.0.5", 30000, tcp, "actpass", ""), sdpWith("192.168.1.64", 15060, tcp, "passive", ""),
			sdp.TransportTCPActive, sdp.ConnectorOfferer, "192.168.1.64:15060", 0, false, false, 0,
		},
		{
			"actpass, answer active", sdpWith("10.0.0.5", 30000, tcp, "actpass", ""), sdpWith("192.168.1.64", 15060, tcp, "active", ""),
			sdp.TransportTCPPassive, sdp.ConnectorAnswerer, "10.0.0.5:30000", 0, false, false, 0,
		},
		{
			"actpass, answer silent", sdpWith("10.0.0.5", 30000, tcp, "actpass", ""), sdpWith("192.168.1.64", 15060, tcp, "", ""),
			sdp.TransportTCPPassive, sdp.ConnectorAnswerer, "10.0.0.5:30000", 0, false, false, 0,
		},
		{
			"no setup at all", sdpWith("10.0.0.5", 30000, tcp, "", ""), sdpWith("192.168.1.64", 15060, tcp, "", ""),
			sdp.TransportTCPActive, sdp.ConnectorOfferer, "192.168.1.64:15060", 0, false, false, 0,
		},
		{
			"no offer setup, answer active", sdpWith("10.0.0.5", 30000, tcp, "", ""), sdpWith("192.168.1.64", 15060, tcp, "active", ""),
			sdp.TransportTCPPassive, sdp.ConnectorAnswerer, "10.0.0.5:30000", 0, false, false, 0,
		},
		{
			"tcp offer, udp answer", sdpWith("10.0.0.5", 30000, tcp, "passive", ""), sdpWith("192.168.1.64", 15060, udp, "", ""),
			sdp.TransportTCPPassive, sdp.ConnectorAnswerer, "10.0.0.5:30000", 0, false, false, 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := sdp.ResolvePlan(mustParse(t, tt.offer), mustParse(t, tt.answer))
			if err != nil {
				t.Fatal(err)
			}
			if p.Transport != tt.transport || p.Connector != tt.connector || p.Remote().String() != tt.remote {
				t.Errorf("transport %v connector %v remote %s", p.Transport, p.Connector, p.Remote())
			}
			if p.SSRC != tt.ssrc || p.HasSSRC != tt.hasSSRC || p.SSRCFromAnswer != tt.fromAnswer {
				t.Errorf("ssrc %v has %v fromAnswer %v", p.SSRC, p.HasSSRC, p.SSRCFromAnswer)
			}
			if len(p.Warnings) != tt.warnings {
				t.Errorf("warnings %q", p.Warnings)
			}
			if p.Answer.IP != "192.168.1.64" || p.Offer.IP != "10.0.0.5" {
				t.Errorf("addresses %+v %+v", p.Offer, p.Answer)
			}
		})
	}
}

func TestResolvePlanMediaSelection(t *testing.T) {
	offer := mustParse(t, "v=0\no=x 0 0 IN IP4 10.0.0.5\ns=Play\nc=IN IP4 10.0.0.5\nt=0 0\nm=video 30000 TCP/RTP/AVP 96\na=setup:active\n")
	// The device lists audio first and gives the video its own c=; the
	// session-level setup of the answer is irrelevant for an active offer.
	answer := mustParse(t, "v=0\no=y 0 0 IN IP4 192.168.1.64\ns=Play\nc=IN IP4 192.168.1.64\nt=0 0\nm=audio 15062 RTP/AVP 8\nm=video 15060 TCP/RTP/AVP 96\nc=IN IP4 192.168.1.65\n")
	p, err := sdp.ResolvePlan(offer, answer)
	if err != nil {
		t.Fatal(err)
	}
	if p.Remote() != (sdp.Address{IP: "192.168.1.65", Port: 15060}) {
		t.Fatalf("remote %+v", p.Remote())
	}
	// Session-level a=setup is honored when the media has none.
	offer2 := mustParse(t, "v=0\no=x 0 0 IN IP4 10.0.0.5\ns=Play\nc=IN IP4 10.0.0.5\nt=0 0\na=setup:Passive\nm=video 30000 TCP/RTP/AVP 96\n")
	p, err = sdp.ResolvePlan(offer2, answer)
	if err != nil || p.Connector != sdp.ConnectorAnswerer {
		t.Fatalf("session-level setup: %+v %v", p, err)
	}
	if !strings.Contains(sdp.Address{IP: "2001:db8::1", Port: 5}.String(), "[2001:db8::1]:5") {
		t.Error("IPv6 address not bracketed")
	}
}

func TestResolvePlanErrors(t *testing.T) {
	offer := mustParse(t, sdpWith("10.0.0.5", 30000, "TCP/RTP/AVP", "active", ""))
	noMedia := mustParse(t, "v=0\no=x 0 0 IN IP4 1.2.3.4\n")
	if _, err := sdp.ResolvePlan(offer, noMedia); !errors.Is(err, sdp.ErrNoMedia) {
		t.Errorf("no answer media: %v", err)
	}
	if _, err := sdp.ResolvePlan(nil, offer); !errors.Is(err, sdp.ErrNoMedia) {
		t.Errorf("nil offer: %v", err)
	}
	// TCP active needs the device's listening port.
	if _, err := sdp.ResolvePlan(offer, mustParse(t, sdpWith("192.168.1.64", 0, "TCP/RTP/AVP", "passive", ""))); !errors.Is(err, sdp.ErrNoAddress) {
		t.Errorf("port 0: %v", err)
	}
	if _, err := sdp.ResolvePlan(offer, mustParse(t, sdpWith("", 15060, "TCP/RTP/AVP", "passive", ""))); !errors.Is(err, sdp.ErrNoAddress) {
		t.Errorf("no c=: %v", err)
	}
	// UDP needs the offer's address.
	udpOffer := mustParse(t, sdpWith("", 30000, "RTP/AVP", "", ""))
	if _, err := sdp.ResolvePlan(udpOffer, mustParse(t, sdpWith("192.168.1.64", 15060, "RTP/AVP", "", ""))); !errors.Is(err, sdp.ErrNoAddress) {
		t.Errorf("udp offer without c=: %v", err)
	}
}

func TestConnectorString(t *testing.T) {
	for c, want := range map[sdp.Connector]string{
		sdp.ConnectorNone: "none", sdp.ConnectorOfferer: "offerer", sdp.ConnectorAnswerer: "answerer", 5: "Connector(5)",
	} {
		if c.String() != want {
			t.Errorf("%d: %q", int(c), c.String())
		}
	}
}
