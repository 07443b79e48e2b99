package sipserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// fakeMediagw is the part of mediagw's control API sessions use, so that
// signalling can be tested without media: receivers are bookkeeping only.
type fakeMediagw struct {
	srv *httptest.Server

	mu        sync.Mutex
	next      int
	receivers map[string]mediaapi.Receiver
	patches   []mediaapi.PatchRequest
	// acks, when set, counts the device's ACKs; acksAtPatch records it at
	// each PATCH, to show the receiver was set up before the ACK.
	acks        atomic.Pointer[atomic.Int64]
	acksAtPatch []int64
	// senders are the open upward senders; sent and closed what was asked.
	senders      map[string]mediaapi.Sender
	senderOpens  []mediaapi.SenderRequest
	senderCloses []string
	// sink is every receiver's UDP port: it drops what devices send, so
	// that their streams run (a closed port would end them).
	sink *net.UDPConn
	// onePerPath makes it refuse a second receiver of a path (409
	// path_busy), as mediagw does, and closeDelay slows every close.
	onePerPath bool
	closeDelay time.Duration
}

func newFakeMediagw(t *testing.T) *fakeMediagw {
	f := &fakeMediagw{receivers: map[string]mediaapi.Receiver{}, senders: map[string]mediaapi.Sender{}}
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	f.sink = sink
	sinkDone := make(chan struct{})
	go func() {
		defer close(sinkDone)
		buf := make([]byte, 2048)
		for {
			if _, _, err := sink.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { _ = sink.Close(); <-sinkDone })
	mux := http.NewServeMux()
	mux.HandleFunc("POST /internal/v1/senders", func(w http.ResponseWriter, r *http.Request) {
		var req mediaapi.SenderRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.next++
		snd := mediaapi.Sender{
			ID: fmt.Sprintf("s%d", f.next), Path: req.Path, SSRC: req.SSRC, Transport: req.Transport, Dest: req.Dest,
			IP: "127.0.0.1", Port: 41000 + f.next, CreatedAt: time.Now(), Subject: req.Subject,
		}
		f.senders[snd.ID] = snd
		f.senderOpens = append(f.senderOpens, req)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(snd)
	})
	mux.HandleFunc("GET /internal/v1/senders", func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		items := make([]mediaapi.Sender, 0, len(f.senders))
		for _, s := range f.senders {
			items = append(items, s)
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "total": len(items)})
	})
	mux.HandleFunc("DELETE /internal/v1/senders/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		_, ok := f.senders[r.PathValue("id")]
		delete(f.senders, r.PathValue("id"))
		f.senderCloses = append(f.senderCloses, r.PathValue("id"))
		f.mu.Unlock()
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"no such sender","code":"not_found"}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /internal/v1/receivers", func(w http.ResponseWriter, r *http.Request) {
		var req mediaapi.OpenRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		if f.onePerPath {
			for _, have := range f.receivers {
				if have.Path == req.Path {
					f.mu.Unlock()
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusConflict)
					_, _ = w.Write([]byte(`{"error":"path already has a receiver","code":"` + mediaapi.CodePathBusy + `"}`))
					return
				}
			}
		}
		f.next++
		rcv := mediaapi.Receiver{
			ID: fmt.Sprintf("r%d", f.next), Path: req.Path, SSRC: req.SSRC, Transport: req.Transport,
			IP: "127.0.0.1", Port: f.sink.LocalAddr().(*net.UDPAddr).Port, Created: time.Now(), AllowIPs: req.AllowIPs,
		}
		f.receivers[rcv.ID] = rcv
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(rcv)
	})
	mux.HandleFunc("GET /internal/v1/receivers", func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		items := make([]mediaapi.Receiver, 0, len(f.receivers))
		for _, r := range f.receivers {
			items = append(items, r)
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
	})
	mux.HandleFunc("PATCH /internal/v1/receivers/{id}", func(w http.ResponseWriter, r *http.Request) {
		var p mediaapi.PatchRequest
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var acked int64 = -1
		if a := f.acks.Load(); a != nil {
			acked = a.Load()
		}
		f.mu.Lock()
		f.patches = append(f.patches, p)
		f.acksAtPatch = append(f.acksAtPatch, acked)
		rcv, ok := f.receivers[r.PathValue("id")]
		if ok {
			if p.SSRC != nil {
				rcv.SSRC = *p.SSRC
			}
			if p.AllowIPs != nil {
				rcv.AllowIPs = *p.AllowIPs
			}
			f.receivers[rcv.ID] = rcv
		}
		f.mu.Unlock()
		if !ok {
			http.Error(w, "no such receiver", http.StatusNotFound)
			return
		}
		// mediagw answers with the receiver as it is now (mediaapi.Client.Patch).
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rcv)
	})
	mux.HandleFunc("DELETE /internal/v1/receivers/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		delay := f.closeDelay
		f.mu.Unlock()
		time.Sleep(delay)
		f.mu.Lock()
		delete(f.receivers, r.PathValue("id"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// lastAllowIPs returns the allow_ips of the last PATCH that set them.
func (f *fakeMediagw) lastAllowIPs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.patches) - 1; i >= 0; i-- {
		if p := f.patches[i].AllowIPs; p != nil {
			return *p
		}
	}
	return nil
}

// startSessionServer starts a Server whose sessions use mg; mods change
// the Server before it starts.
func startSessionServer(t *testing.T, mg *fakeMediagw, mods ...func(*Server)) *harness {
	t.Helper()
	return startSessionServerOn(t, mg, openStore(t), testConfig(), mods...)
}

// startSessionServerOn is startSessionServer on a database and config of
// the test's (a restart: the same database and SIP address).
func startSessionServerOn(t *testing.T, mg *fakeMediagw, st *sipdb.DB, cfg config.SIP, mods ...func(*Server)) *harness {
	t.Helper()
	return startServerWith(t, st, cfg, func(s *Server) {
		s.MediaToken = testToken
		s.SessionConfig = config.Sessions{MediagwURL: mg.srv.URL, Transport: "udp", InviteTimeout: config.Duration(5 * time.Second)}
		for _, m := range mods {
			m(s)
		}
	})
}

const (
	trustDevice = "34020000001320000901"
	trustCh1    = "34020000001310000901"
	trustCh2    = "34020000001310000902"
	trustEvil   = "34020000001310000999"
)

func deviceInfoResponse(id string, sn int, manufacturer string) string {
	return fmt.Sprintf(`<?xml version="1.0"?><Response><CmdType>DeviceInfo</CmdType><SN>%d</SN><DeviceID>%s</DeviceID>`+
		`<Result>OK</Result><DeviceName>cam</DeviceName><Manufacturer>%s</Manufacturer><Model>M</Model><Firmware>1</Firmware>`+
		`<Channel>2</Channel></Response>`, sn, id, manufacturer)
}

func catalogResponse(id string, sn int, channels ...string) string {
	var items strings.Builder
	for _, ch := range channels {
		fmt.Fprintf(&items, `<Item><DeviceID>%s</DeviceID><Name>%s</Name><Manufacturer>X</Manufacturer><Model>M</Model>`+
			`<Owner>O</Owner><CivilCode>340200</CivilCode><Address>A</Address><Parental>0</Parental><ParentID>%s</ParentID>`+
			`<RegisterWay>1</RegisterWay><Secrecy>0</Secrecy><Status>ON</Status></Item>`, ch, ch, id)
	}
	return fmt.Sprintf(`<?xml version="1.0"?><Response><CmdType>Catalog</CmdType><SN>%d</SN><DeviceID>%s</DeviceID>`+
		`<SumNum>%d</SumNum><DeviceList Num="%d">%s</DeviceList></Response>`, sn, id, len(channels), len(channels), items.String())
}

func recordInfoResponse(ch string, sn int, names ...string) string {
	var items strings.Builder
	for i, n := range names {
		fmt.Fprintf(&items, `<Item><DeviceID>%s</DeviceID><Name>%s</Name><StartTime>2026-12-01T0%d:00:00</StartTime>`+
			`<EndTime>2026-12-01T0%d:30:00</EndTime><Secrecy>0</Secrecy><Type>time</Type></Item>`, ch, n, i, i)
	}
	return fmt.Sprintf(`<?xml version="1.0"?><Response><CmdType>RecordInfo</CmdType><SN>%d</SN><DeviceID>%s</DeviceID>`+
		`<Name>cam</Name><SumNum>%d</SumNum><RecordList Num="%d">%s</RecordList></Response>`, sn, ch, len(names), len(names), items.String())
}

func keepaliveBody(id string) string {
	return `<?xml version="1.0"?><Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>` + id + `</DeviceID><Status>OK</Status></Notify>`
}

func alarmBody(id, ch, description string) string {
	return fmt.Sprintf(`<?xml version="1.0"?><Notify><CmdType>Alarm</CmdType><SN>5</SN><DeviceID>%s</DeviceID>`+
		`<AlarmPriority>1</AlarmPriority><AlarmMethod>2</AlarmMethod><AlarmTime>2026-12-06T10:00:00</AlarmTime>`+
		`<AlarmDescription>%s</AlarmDescription></Notify>`, ch, description)
}

func positionBody(id string, lon float64) string {
	return fmt.Sprintf(`<?xml version="1.0"?><Notify><CmdType>MobilePosition</CmdType><SN>6</SN><DeviceID>%s</DeviceID>`+
		`<Time>2026-12-06T10:00:00</Time><Longitude>%g</Longitude><Latitude>31.2</Latitude><Speed>0</Speed>`+
		`<Direction>0</Direction><Altitude>0</Altitude></Notify>`, id, lon)
}

func catalogNotifyBody(id, ch, event string) string {
	return fmt.Sprintf(`<?xml version="1.0"?><Notify><CmdType>Catalog</CmdType><SN>7</SN><DeviceID>%s</DeviceID>`+
		`<SumNum>1</SumNum><DeviceList Num="1"><Item><DeviceID>%s</DeviceID><Event>%s</Event></Item></DeviceList></Notify>`,
		id, ch, event)
}

func catalogNotifyAdd(id, ch, name string) string {
	return fmt.Sprintf(`<?xml version="1.0"?><Notify><CmdType>Catalog</CmdType><SN>9</SN><DeviceID>%s</DeviceID>`+
		`<SumNum>1</SumNum><DeviceList Num="1"><Item><DeviceID>%s</DeviceID><Event>ADD</Event><Name>%s</Name>`+
		`<Manufacturer>X</Manufacturer><Model>M</Model><Owner>O</Owner><CivilCode>340200</CivilCode><Address>A</Address>`+
		`<Parental>0</Parental><ParentID>%s</ParentID><Secrecy>0</Secrecy><Status>ON</Status></Item></DeviceList></Notify>`,
		id, ch, name, id)
}

func mediaStatusBody(ch string) string {
	return `<?xml version="1.0"?><Notify><CmdType>MediaStatus</CmdType><SN>8</SN><DeviceID>` + ch +
		`</DeviceID><NotifyType>121</NotifyType></Notify>`
}

// sdpAnswer answers an INVITE from a device at 127.0.0.1 with the offer's SSRC.
func sdpAnswer(req *sip.Request) string {
	ssrc := "0000000001"
	for _, l := range strings.Split(string(req.Body()), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "y="); ok {
			ssrc = v
		}
	}
	return "v=0\r\no=" + req.Recipient.User + " 0 0 IN IP4 127.0.0.1\r\ns=Playback\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=video 6000 RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\ny=" + ssrc + "\r\n"
}

// trustSetup registers a raw device over transport, answers its first
// queries (each also tried first from a foreign source, which must not be
// believed) and waits for its catalog subscription.
func trustSetup(t *testing.T, transport string, opts ...func(*rawDevice)) (*harness, *fakeMediagw, *rawDevice, []*rawDevice) {
	t.Helper()
	return trustSetupWith(t, transport, nil, opts...)
}

// trustSetupWith is trustSetup with mod changing the Server before it
// starts (nil: none).
func trustSetupWith(t *testing.T, transport string, mod func(*Server), opts ...func(*rawDevice)) (*harness, *fakeMediagw, *rawDevice, []*rawDevice) {
	t.Helper()
	mg := newFakeMediagw(t)
	var mods []func(*Server)
	if mod != nil {
		mods = append(mods, mod)
	}
	h := startSessionServer(t, mg, mods...)
	dev := newRawDevice(t, transport, h.sipAddr(), "127.0.0.1", trustDevice,
		append([]func(*rawDevice){func(d *rawDevice) { d.answerInvite = sdpAnswer }}, opts...)...)
	mg.acks.Store(&dev.acks)
	// Attackers: another port (UDP) or connection (TCP) of the same host,
	// and another host.
	attackers := []*rawDevice{
		newRawDevice(t, transport, h.sipAddr(), "127.0.0.1", trustDevice),
		newRawDevice(t, transport, h.sipAddr(), "127.0.0.2", trustDevice),
	}
	dev.register(testPassword)

	q := dev.next(sip.MESSAGE, "<CmdType>DeviceInfo</CmdType>")
	for _, a := range attackers {
		if code := a.message(deviceInfoResponse(trustDevice, snOf(t, q), "Evil")); code != 403 {
			t.Fatalf("foreign DeviceInfo answer from %s: %d, want 403", a.local(), code)
		}
	}
	if code := dev.message(deviceInfoResponse(trustDevice, snOf(t, q), "Real")); code != 200 {
		t.Fatalf("DeviceInfo answer: %d", code)
	}
	q = dev.next(sip.MESSAGE, "<CmdType>Catalog</CmdType>")
	for _, a := range attackers {
		if code := a.message(catalogResponse(trustDevice, snOf(t, q), trustEvil)); code != 403 {
			t.Fatalf("foreign Catalog answer: %d, want 403", code)
		}
	}
	if code := dev.message(catalogResponse(trustDevice, snOf(t, q), trustCh1, trustCh2)); code != 200 {
		t.Fatalf("Catalog answer: %d", code)
	}
	dev.next(sip.SUBSCRIBE, "")
	testsupport.Eventually(t, h.settle(), "device info and catalog from the real device", func() bool {
		return h.device(trustDevice).Manufacturer == "Real" && slices.Equal(h.channelIDs(trustDevice), []string{trustCh1, trustCh2})
	})
	testsupport.Eventually(t, h.settle(), "catalog subscription answered", func() bool {
		snap := h.srv.devices.get(trustDevice).snapshot()
		return snap.SubscribedUntil.After(time.Now()) || snap.SubscribeRefused
	})
	return h, mg, dev, attackers
}

func (h *harness) channelIDs(deviceID string) []string {
	var out []string
	for _, c := range h.channels(deviceID) {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

func (h *harness) alarms(deviceID string) []store.Alarm {
	h.t.Helper()
	a, _, err := h.store.ListAlarms(context.Background(), store.AlarmFilter{DeviceID: deviceID})
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) positions(deviceID string) []store.MobilePosition {
	h.t.Helper()
	p, _, err := h.store.ListMobilePositions(context.Background(), store.MobilePositionFilter{DeviceID: deviceID})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// TestSpoofedRequestsRefused sends every kind of request that claims a
// device, first from foreign sources (another port or connection of the
// device's host, and another host), which must get 403 and change nothing,
// then from the device's registered source, which must be applied.
func TestSpoofedRequestsRefused(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			h, _, dev, attackers := trustSetup(t, transport)
			registered := h.srv.devices.get(trustDevice).snapshot()
			if registered.RemoteAddr != dev.local() {
				t.Fatalf("registered at %s, device at %s", registered.RemoteAddr, dev.local())
			}
			rows := []struct {
				name    string
				method  string // MESSAGE unless set
				body    string
				want    int // answer to the registered source
				applied func() bool
			}{
				{"keepalive", "", keepaliveBody(trustDevice), 200, nil},
				{"alarm", "", alarmBody(trustDevice, trustCh1, "real"), 200, func() bool {
					a := h.alarms(trustDevice)
					return len(a) == 1 && a[0].Description == "real"
				}},
				{"mobile position", "NOTIFY", positionBody(trustDevice, 121.5), 200, func() bool {
					p := h.positions(trustDevice)
					return len(p) == 1 && p[0].Longitude == 121.5
				}},
				{"catalog NOTIFY ADD", "NOTIFY", catalogNotifyAdd(trustDevice, trustCh2, "real"), 200, func() bool {
					ch, err := h.store.GetChannel(context.Background(), trustDevice, trustCh2)
					return err == nil && ch.Name == "real"
				}},
				{"catalog notify DEL", "", catalogNotifyBody(trustDevice, trustCh2, "DEL"), 200, func() bool {
					return slices.Equal(h.channelIDs(trustDevice), []string{trustCh1})
				}},
				{"unsolicited catalog (ignored even from the device)", "", catalogResponse(trustDevice, 424242, trustEvil), 200, func() bool {
					return testutil.ToFloat64(h.srv.metrics.unsolicited.WithLabelValues("Catalog")) == 1
				}},
			}
			for _, row := range rows {
				method := row.method
				if method == "" {
					method = "MESSAGE"
				}
				keepalives := h.srv.metricsKeepalives()
				foreign := testutil.ToFloat64(h.srv.metrics.foreignSource.WithLabelValues(method))
				for _, a := range attackers {
					body := strings.ReplaceAll(row.body, "real", "evil")
					body = strings.ReplaceAll(body, "121.5", "99.5")
					if code, _ := a.send(rawRequest{method: method, body: body}); code != 403 {
						t.Fatalf("%s from %s: %d, want 403", row.name, a.local(), code)
					}
				}
				if got := testutil.ToFloat64(h.srv.metrics.foreignSource.WithLabelValues(method)) - foreign; got != 2 {
					t.Errorf("%s: foreign_source{method=%s} counted %v, want 2", row.name, method, got)
				}
				if code, _ := dev.send(rawRequest{method: method, body: row.body}); code != row.want {
					t.Fatalf("%s from the device: %d, want %d", row.name, code, row.want)
				}
				if row.applied != nil {
					testsupport.Eventually(t, h.settle(), row.name+" applied", row.applied)
				} else if got := h.srv.metricsKeepalives() - keepalives; got != 1 {
					t.Fatalf("%s: %d keepalives counted, want 1 (the device's)", row.name, got)
				}
			}
			// Nothing a foreign source sent was stored or moved the device.
			if got := h.channelIDs(trustDevice); !slices.Equal(got, []string{trustCh1}) {
				t.Fatalf("channels %v", got)
			}
			if snap := h.srv.devices.get(trustDevice).snapshot(); snap.RemoteAddr != dev.local() || !strings.EqualFold(snap.Transport, transport) {
				t.Fatalf("device moved to %s %s", snap.Transport, snap.RemoteAddr)
			}
			testsupport.Eventually(t, h.settle(), "stored address unchanged", func() bool { return h.device(trustDevice).RemoteAddr == dev.local() })

			// A RecordInfo answer (several packets) counts only from the device.
			type recResult struct {
				code  int
				total int
			}
			recs := make(chan recResult, 1)
			go func() {
				var out struct{ Total int }
				code := h.call("GET", "/internal/v1/devices/"+trustDevice+"/channels/"+trustCh1+
					"/records?start=2026-12-01T00:00:00Z&end=2026-12-02T00:00:00Z", "", &out)
				recs <- recResult{code, out.Total}
			}()
			q := dev.next(sip.MESSAGE, "<CmdType>RecordInfo</CmdType>")
			for _, a := range attackers {
				if code := a.message(recordInfoResponse(trustCh1, snOf(t, q), "evil")); code != 403 {
					t.Fatalf("foreign RecordInfo answer: %d, want 403", code)
				}
			}
			dev.message(recordInfoResponse(trustCh1, snOf(t, q), "a", "b"))
			if r := <-recs; r.code != 200 || r.total != 2 {
				t.Fatalf("records: %d with %d records, want the device's 2", r.code, r.total)
			}

			// The next query still reaches the real device, and only it.
			type infoResult struct {
				code int
				info map[string]any
			}
			res := make(chan infoResult, 1)
			go func() {
				var info map[string]any
				code := h.call("GET", "/internal/v1/devices/"+trustDevice+"/info", "", &info)
				res <- infoResult{code, info}
			}()
			q = dev.next(sip.MESSAGE, "<CmdType>DeviceInfo</CmdType>")
			dev.message(deviceInfoResponse(trustDevice, snOf(t, q), "Real"))
			if r := <-res; r.code != 200 {
				t.Fatalf("DeviceInfo through the API: %d %v", r.code, r.info)
			}
			for _, a := range attackers {
				select {
				case req := <-a.requests:
					t.Fatalf("attacker %s received %s", a.local(), req.Method)
				default:
				}
			}
		})
	}
}

// TestSpoofedSessionRequestsRefused: MediaStatus 121 and BYE end a session
// only from the device's registered source and, inside the dialog, with the
// dialog's Call-ID and tags.
func TestSpoofedSessionRequestsRefused(t *testing.T) {
	h, mg, dev, attackers := trustSetup(t, "udp")
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	open := func() (sipapi.Session, *sip.Request) {
		t.Helper()
		type result struct {
			info sipapi.Session
			err  error
		}
		done := make(chan result, 1)
		go func() {
			info, err := h.srv.OpenSession(ctx, sipapi.SessionRequest{
				Kind: sipapi.KindPlayback, ChannelID: trustCh1, Start: start,
				End: start.Add(time.Minute), Owner: "alice",
			})
			done <- result{info, err}
		}()
		inv := dev.next(sip.INVITE, "")
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.info, inv
	}
	ended := func(id string) string {
		row, err := h.store.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return row.EndReason
	}

	// The receiver takes media only from the device's IPs, and knows them
	// before the ACK (on which devices start sending or connecting).
	info, inv := open()
	if ips := mg.lastAllowIPs(); !slices.Equal(ips, []string{"127.0.0.1"}) {
		t.Fatalf("receiver patch allow_ips %v, want [127.0.0.1]", ips)
	}
	mg.mu.Lock()
	acked := mg.acksAtPatch[0]
	mg.mu.Unlock()
	if acked != 0 {
		t.Fatalf("the device had %d ACKs when the receiver got its PATCH, want 0", acked)
	}
	if info.Owner != "alice" {
		t.Fatalf("owner %q", info.Owner)
	}
	for _, a := range attackers {
		if code := a.message(mediaStatusBody(trustCh1)); code != 403 {
			t.Fatalf("foreign MediaStatus: %d, want 403", code)
		}
	}
	callID := inv.CallID().Value()
	ourTag, _ := inv.From().Params.Get("tag")
	devTag := dev.tagOf(callID)
	// The dialog's identifiers do not make a foreign source the device.
	for _, a := range attackers {
		if code, _ := a.send(rawRequest{
			method: "MESSAGE", body: mediaStatusBody(trustCh1), callID: callID,
			fromTag: devTag, toTag: ourTag, fromUser: trustCh1,
		}); code != 403 {
			t.Fatalf("foreign MediaStatus with the dialog's identifiers: %d, want 403", code)
		}
	}
	// Inside the dialog with a wrong tag: no such dialog.
	if code, _ := dev.send(rawRequest{
		method: "MESSAGE", body: mediaStatusBody(trustCh1), callID: callID,
		fromTag: devTag, toTag: "wrong", fromUser: trustCh1,
	}); code != 481 {
		t.Fatalf("MediaStatus with a wrong tag: %d, want 481", code)
	}
	if r := ended(info.ID); r != "" {
		t.Fatalf("session ended (%s) by a refused MediaStatus", r)
	}
	// Inside the dialog, right tags, from the device: honoured.
	if code, _ := dev.send(rawRequest{
		method: "MESSAGE", body: mediaStatusBody(trustCh1), callID: callID,
		fromTag: devTag, toTag: ourTag, fromUser: trustCh1,
	}); code != 200 {
		t.Fatalf("MediaStatus in the dialog: %d", code)
	}
	testsupport.Eventually(t, h.settle(), "session ended by MediaStatus", func() bool { return ended(info.ID) == ReasonMediaStatus })
	dev.next(sip.BYE, "")

	// BYE: foreign source with the right dialog → 403; the device with a
	// wrong tag → 481; the device with the dialog → 200.
	info, inv = open()
	callID = inv.CallID().Value()
	ourTag, _ = inv.From().Params.Get("tag")
	devTag = dev.tagOf(callID)
	bye := rawRequest{method: "BYE", callID: callID, fromTag: devTag, toTag: ourTag, fromUser: trustCh1}
	for _, a := range attackers {
		if code, _ := a.send(bye); code != 403 {
			t.Fatalf("foreign BYE: %d, want 403", code)
		}
	}
	wrong := bye
	wrong.fromTag = "other"
	if code, _ := dev.send(wrong); code != 481 {
		t.Fatalf("BYE with a wrong tag: %d, want 481", code)
	}
	if r := ended(info.ID); r != "" {
		t.Fatalf("session ended (%s) by a refused BYE", r)
	}
	if code, _ := dev.send(bye); code != 200 {
		t.Fatalf("BYE from the device: %d", code)
	}
	testsupport.Eventually(t, h.settle(), "session ended by the device's BYE", func() bool { return ended(info.ID) == ReasonDeviceBye })
}

// TestSourceCheckIP: with source_check ip, the device's host is believed
// from any port, another host still is not, and nothing moves the device.
func TestSourceCheckIP(t *testing.T) {
	h, _, dev, attackers := trustSetup(t, "udp")
	var got sipapi.Device
	if code := h.call("PATCH", "/internal/v1/devices/"+trustDevice, `{"source_check":"ip"}`, &got); code != 200 || got.SourceCheck != "ip" {
		t.Fatalf("PATCH source_check: %d %+v", code, got)
	}
	if code := h.call("PATCH", "/internal/v1/devices/"+trustDevice, `{"source_check":"loose"}`, nil); code != 400 {
		t.Fatalf("PATCH source_check loose: %d, want 400", code)
	}
	if code := attackers[0].message(keepaliveBody(trustDevice)); code != 200 {
		t.Fatalf("keepalive from another port of the device's host: %d, want 200", code)
	}
	if code := attackers[1].message(keepaliveBody(trustDevice)); code != 403 {
		t.Fatalf("keepalive from another host: %d, want 403", code)
	}
	if snap := h.srv.devices.get(trustDevice).snapshot(); snap.RemoteAddr != dev.local() {
		t.Fatalf("device moved to %s", snap.RemoteAddr)
	}
	// The setting survives a restart (it is stored).
	if d := h.device(trustDevice); d.SourceCheck != store.SourceIP {
		t.Fatalf("stored source_check %q", d.SourceCheck)
	}
}

// TestCatalogNotifyNeedsSubscription: a device that refused our SUBSCRIBE
// gets 481 for catalog notifications, even from its registered source; one
// that sends its first NOTIFY before our SUBSCRIBE was answered is believed.
func TestCatalogNotifyNeedsSubscription(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		h, _, dev, _ := trustSetup(t, "udp", func(d *rawDevice) { d.subscribeCode = 489 })
		before := testutil.ToFloat64(h.srv.metrics.dialogMismatch.WithLabelValues("NOTIFY"))
		if code, _ := dev.send(rawRequest{method: "NOTIFY", body: catalogNotifyBody(trustDevice, trustCh2, "DEL")}); code != 481 {
			t.Fatalf("catalog NOTIFY without a subscription: %d, want 481", code)
		}
		if got := testutil.ToFloat64(h.srv.metrics.dialogMismatch.WithLabelValues("NOTIFY")) - before; got != 1 {
			t.Fatalf("dialog_mismatch counted %v", got)
		}
		if got := h.channelIDs(trustDevice); !slices.Equal(got, []string{trustCh1, trustCh2}) {
			t.Fatalf("channels %v", got)
		}
	})
	t.Run("first NOTIFY before the SUBSCRIBE's answer", func(t *testing.T) {
		h, _, _, _ := trustSetup(t, "udp", func(d *rawDevice) {
			d.beforeAnswer = func(req *sip.Request) {
				if req.Method == sip.SUBSCRIBE {
					// An update of a channel the catalog already has: the set
					// of channels trustSetup waits for stays the same.
					d.sendAsync(rawRequest{method: "NOTIFY", body: catalogNotifyAdd(trustDevice, trustCh2, "early")})
				}
			}
		})
		// The catalog query runs beside the SUBSCRIBE, so the NOTIFY's
		// change may be overwritten by the catalog answer: what counts is
		// that it was believed (200), not refused as outside a dialog (481).
		testsupport.Eventually(t, h.settle(), "the early NOTIFY accepted", func() bool {
			return testutil.ToFloat64(h.srv.metrics.requests.WithLabelValues("NOTIFY", "2xx")) >= 1
		})
		if n := testutil.ToFloat64(h.srv.metrics.dialogMismatch.WithLabelValues("NOTIFY")); n != 0 {
			t.Fatalf("%v NOTIFYs refused as outside a dialog", n)
		}
	})
}

// TestMediaStatusEndsOnlyItsSession: with two playbacks of one channel, a
// MediaStatus 121 from the dialog of one ends that one only, and one sent
// outside any dialog (ambiguous) ends neither.
func TestMediaStatusEndsOnlyItsSession(t *testing.T) {
	h, _, dev, _ := trustSetup(t, "udp")
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var infos []sipapi.Session
	for i := range 2 {
		done := make(chan error, 1)
		var info sipapi.Session
		go func() {
			var err error
			info, err = h.srv.OpenSession(ctx, sipapi.SessionRequest{
				Kind: sipapi.KindDownload, ChannelID: trustCh1,
				Start: start.Add(time.Duration(i) * time.Hour), End: start.Add(time.Duration(i)*time.Hour + time.Minute),
			})
			done <- err
		}()
		dev.next(sip.INVITE, "")
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		infos = append(infos, info)
	}
	m := &h.srv.sessions
	open := func(path string) bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.byPath[path] != nil
	}
	status := func(in *mediaSession) {
		for _, ms := range m.mediaStatus(trustDevice, trustCh1, "121", in) {
			m.teardown(ms, ReasonMediaStatus, true)
		}
	}
	status(nil)
	if !open(infos[0].Path) || !open(infos[1].Path) {
		t.Fatal("an ambiguous MediaStatus outside a dialog ended a session")
	}
	m.mu.Lock()
	first := m.byPath[infos[0].Path]
	m.mu.Unlock()
	status(first)
	if open(infos[0].Path) || !open(infos[1].Path) {
		t.Fatal("MediaStatus of one dialog must end that session only")
	}
	// With one left, one outside a dialog is no longer ambiguous.
	status(nil)
	if open(infos[1].Path) {
		t.Fatal("the only download of the channel was not ended")
	}
}
