package sipserver

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/cascadeview"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

const (
	upperID       = "34020000002000000009"
	upperPassword = "upper-secret"
)

// startUpper starts a second sipserver, the superior platform of the
// cascade tests, on a database of its own.
func startUpper(t *testing.T) *harness {
	t.Helper()
	cfg := testConfig()
	cfg.ID, cfg.Password = upperID, config.Secret(upperPassword)
	cfg.AuthFailures = 1000 // the wrong-password step must not get the lower blocked
	return startServer(t, openStore(t), cfg)
}

// addPlatform stores a superior platform in the lower's database, as the
// console does, and returns its ID.
func (h *harness) addPlatform(upper *harness, password string) int64 {
	h.t.Helper()
	host, port := splitHostPort(upper.sipAddr())
	var id int64
	err := h.store.Pool.QueryRow(context.Background(), `INSERT INTO cascade_platforms (name, server_id, domain, host, port,
		transport, password, gb_version, charset, expires, keepalive_interval, keepalive_count)
		VALUES ('市级平台', $1, '3402000000', $2, $3, 'udp', $4, '2016', 'GB2312', 60, 5, 3) RETURNING id`,
		upperID, host, port, password).Scan(&id)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) platform(id int64) cascadeview.Platform {
	h.t.Helper()
	p, err := cascadeview.New(h.store.Store).Platform(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// TestUplinkRegisters: a lower sipserver registers to the superior
// platform configured in its database with digest, keeps the link alive,
// unregisters when the platform is disabled, and reports a wrong password
// as failing with the reason.
func TestUplinkRegisters(t *testing.T) {
	upper := startUpper(t)
	lower := startServerWith(t, openStore(t), testConfig(), func(s *Server) { s.CascadeRetryMin = 100 * time.Millisecond })
	ctx := context.Background()
	id := lower.addPlatform(upper, upperPassword)
	lowerID := lower.cfg.ID

	testsupport.Eventually(t, lower.settle(), "registered upward", func() bool {
		return lower.platform(id).Status == cascadeview.StatusRegistered
	})
	if d, ok := upper.srv.deviceState(lowerID); !ok || !d.Registered || !d.Online {
		t.Fatalf("the superior's view of us: %+v", d)
	}
	if p := lower.platform(id); p.LinkID != lowerID || p.RegisteredAt == nil || p.LastError != "" {
		t.Fatalf("link state %+v", p)
	}
	// The first keepalive goes after the platform's interval (5 s).
	testsupport.Eventually(t, lower.settle(), "keepalive answered", func() bool {
		return lower.platform(id).LastKeepalive != nil && upper.srv.metricsKeepalives() >= 1
	})

	// Disabled: unregistered at once.
	if _, err := lower.store.Pool.Exec(ctx, `UPDATE cascade_platforms SET enabled = false WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, lower.settle(), "unregistered when disabled", func() bool {
		d, _ := upper.srv.deviceState(lowerID)
		return !d.Registered && lower.platform(id).Status == cascadeview.StatusDisabled
	})

	// A wrong password: failing, with the reason, and retried.
	if _, err := lower.store.Pool.Exec(ctx, `UPDATE cascade_platforms SET enabled = true, password = 'wrong' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, lower.settle(), "failing with the reason", func() bool {
		p := lower.platform(id)
		return p.Status == cascadeview.StatusFailing && strings.Contains(p.LastError, "403 Wrong Password")
	})
	// Mended: registered again without a restart.
	if _, err := lower.store.Pool.Exec(ctx, `UPDATE cascade_platforms SET password = $2 WHERE id = $1`, id, upperPassword); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, lower.settle(), "registered after the password was mended", func() bool {
		d, _ := upper.srv.deviceState(lowerID)
		return d.Registered && lower.platform(id).Status == cascadeview.StatusRegistered
	})
}

// TestUplinkSharesSlice: the superior's Catalog query of us is answered
// with exactly the channels the platform's grants reach, hung under our ID,
// over UDP in datagrams that fit the MTU.
func TestUplinkSharesSlice(t *testing.T) {
	upper := startUpper(t)
	lower := startServer(t, openStore(t), testConfig())
	shared, hidden := "34020000001320000001", "34020000001320000002"
	lower.startSim(simConfig(2, 3, "udp", shared))
	testsupport.Eventually(t, lower.settle(), "the lower's cameras, online", func() bool {
		chs := append(lower.channels(shared), lower.channels(hidden)...)
		for _, ch := range chs {
			if !ch.Online {
				return false
			}
		}
		return len(chs) == 6
	})
	id := lower.addPlatform(upper, upperPassword)
	if _, err := lower.store.Pool.Exec(context.Background(), `INSERT INTO platform_grants (platform_id, scope_kind,
		device_id, rights) VALUES ($1, 'device', $2, '{live}')`, id, shared); err != nil {
		t.Fatal(err)
	}
	lowerID := lower.cfg.ID
	testsupport.Eventually(t, upper.settle(), "the superior stored our shared catalog", func() bool {
		return len(upper.channels(lowerID)) == 3
	})
	want := map[string]bool{}
	for _, ch := range lower.channels(shared) {
		want[ch.ID] = true
	}
	for _, ch := range upper.channels(lowerID) {
		if !want[ch.ID] || ch.ParentID != lowerID || ch.Name == "" {
			t.Errorf("superior's channel %+v: not one of %v under %s", ch, want, lowerID)
		}
	}
	testsupport.Eventually(t, upper.settle(), "the shared channels online upstream", func() bool {
		for _, ch := range upper.channels(lowerID) {
			if !ch.Online {
				return false
			}
		}
		return true
	})
	if d := upper.device(lowerID); d.Manufacturer != "sharpeyes" {
		t.Fatalf("DeviceInfo upstream: %+v", d)
	}

	// The superior subscribed to our catalog: a grant taken back removes its
	// channels upstream, a new one adds the other device's, by NOTIFY.
	testsupport.Eventually(t, upper.settle(), "the superior subscribed", func() bool {
		return upper.srv.devices.get(lowerID).snapshot().SubscribedUntil.After(time.Now())
	})
	testsupport.Eventually(t, lower.settle(), "its subscription, and what it was told, known to us", func() bool {
		lower.srv.cascade.mu.Lock()
		defer lower.srv.cascade.mu.Unlock()
		for _, rl := range lower.srv.cascade.links {
			rl.mu.Lock()
			ok := rl.sub != nil && rl.told != nil
			rl.mu.Unlock()
			if ok {
				return true
			}
		}
		return false
	})
	ctx := context.Background()
	if _, err := lower.store.Pool.Exec(ctx, `DELETE FROM platform_grants WHERE platform_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := lower.store.Pool.Exec(ctx, `INSERT INTO platform_grants (platform_id, scope_kind, device_id, rights)
		VALUES ($1, 'device', $2, '{live}')`, id, hidden); err != nil {
		t.Fatal(err)
	}
	want = map[string]bool{}
	for _, ch := range lower.channels(hidden) {
		want[ch.ID] = true
	}
	testsupport.Eventually(t, upper.settle(), "the superior's catalog follows the grants", func() bool {
		got := upper.channels(lowerID)
		for _, ch := range got {
			if !want[ch.ID] {
				return false
			}
		}
		return len(got) == len(want)
	})

	// The superior's ID from anywhere but its address is not believed.
	query := `<?xml version="1.0"?><Query><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>` + lowerID + `</DeviceID></Query>`
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} { // another port of its host, another host
		spoof := newRawDevice(t, "udp", lower.sipAddr(), ip, upperID)
		if code, _ := spoof.send(rawRequest{method: "MESSAGE", body: query}); code != 403 {
			t.Fatalf("Catalog query claiming the superior from %s: %d, want 403", spoof.local(), code)
		}
	}
}

// TestCatalogPagesFitMTU: over UDP no Catalog page of a large slice is
// larger than the budget, and pages cover every item once.
func TestCatalogPagesFitMTU(t *testing.T) {
	build := func(p []manscdp.CatalogItem) manscdp.Message {
		return &manscdp.CatalogResponse{
			Header: manscdp.Header{SN: 7, DeviceID: "34020000002000000001"}, SumNum: 500,
			DeviceList: &manscdp.List[manscdp.CatalogItem]{Items: p},
		}
	}
	items := make([]manscdp.CatalogItem, 500)
	for i := range items {
		items[i] = manscdp.CatalogItem{
			DeviceID: "340200000013100" + fmt.Sprintf("%05d", i), Name: "芜湖市镜湖区中山路与北京路交叉口东北角球机" + strconv.Itoa(i),
			Manufacturer: "Hikvision", Model: "DS-2DE7430IW-AE", CivilCode: "340202", Address: "中山路与北京路交叉口",
			ParentID: "34020000002000000001", RegisterWay: 1, Status: "ON", Longitude: 118.37, Latitude: 31.33,
		}
	}
	pages := pageItems(items, "udp", "GB2312", build)
	n := 0
	for _, p := range pages {
		body, err := manscdp.Encode(p, manscdp.Options{Charset: manscdp.CharsetGB2312})
		if err != nil {
			t.Fatal(err)
		}
		page := p.(*manscdp.CatalogResponse).DeviceList.Items
		if len(body) > udpPageBudget {
			t.Fatalf("page of %d items: %d bytes", len(page), len(body))
		}
		n += len(page)
	}
	if n != len(items) || len(pages) < 100 {
		t.Fatalf("%d items in %d pages", n, len(pages))
	}
	if pages := pageItems(items, "tcp", "GB2312", build); len(pages) != 5 {
		t.Fatalf("TCP: %d pages", len(pages))
	}
}

func TestDiffCatalog(t *testing.T) {
	item := func(id, name, status string) manscdp.CatalogItem {
		return manscdp.CatalogItem{DeviceID: id, Name: name, Status: status, ParentID: "34020000002000000001"}
	}
	old := map[string]manscdp.CatalogItem{
		"a": item("a", "A", "ON"), "b": item("b", "B", "ON"), "c": item("c", "C", "ON"), "e": item("e", "E", "ON"),
	}
	cur := []manscdp.CatalogItem{item("a", "A", "OFF"), item("b", "B2", "ON"), item("d", "D", "ON"), item("e", "E", "ON")}
	got := map[string]string{}
	for _, it := range diffCatalog(old, cur) {
		got[it.DeviceID] = it.Event
		if (it.Event == "ADD" || it.Event == "UPDATE") && it.Name == "" {
			t.Errorf("%s %s without the item", it.Event, it.DeviceID)
		}
	}
	want := map[string]string{"a": "OFF", "b": "UPDATE", "c": "DEL", "d": "ADD"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("diff %v, want %v", got, want)
	}
	if d := diffCatalog(map[string]manscdp.CatalogItem{"e": item("e", "E", "ON")}, []manscdp.CatalogItem{item("e", "E", "ON")}); len(d) != 0 {
		t.Fatalf("no change gave %v", d)
	}
}

// TestCascadeCatalogScale measures how long a superior takes to get a
// shared catalog of CASCADE_SCALE channels (one NVR of the lower's, granted
// whole), over UDP and TCP: from the platform's row (the lower registers at
// once, the superior queries the catalog right after) to the superior
// having stored every channel. Both sides' per-source rate limits are
// raised: they share 127.0.0.1. Run:
//
//	CASCADE_SCALE=10000 go test -run CascadeCatalogScale -v ./internal/sipserver/
func TestCascadeCatalogScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CASCADE_SCALE"))
	if n == 0 {
		t.Skip("set CASCADE_SCALE=<channels> to run")
	}
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			ucfg := testConfig()
			ucfg.ID, ucfg.Password = upperID, config.Secret(upperPassword)
			ucfg.RateLimit, ucfg.RateBurst = 1e6, 1e6
			ucfg.RequestTimeout = config.Duration(10 * time.Second)
			upper := startServer(t, openStore(t), ucfg)
			lcfg := testConfig()
			lcfg.RateLimit, lcfg.RateBurst = 1e6, 1e6
			lower := startServer(t, openStore(t), lcfg)
			nvr := "34020000001110000001"
			sc := simConfig(1, n, "tcp", nvr)
			sc.Keepalive = time.Minute
			lower.startSim(sc)
			count := func(h *harness, dev string) int {
				_, k, err := h.store.ListChannels(context.Background(), store.ChannelFilter{DeviceID: dev, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				return k
			}
			testsupport.Eventually(t, 10*lower.settle(), "the NVR's channels", func() bool { return count(lower, nvr) == n })
			// Granted while disabled; enabling it registers, and the
			// superior's Catalog query gets the whole slice.
			ctx := context.Background()
			id := lower.addPlatform(upper, upperPassword)
			exec := func(q string, args ...any) {
				if _, err := lower.store.Pool.Exec(ctx, q, args...); err != nil {
					t.Fatal(err)
				}
			}
			exec(`UPDATE cascade_platforms SET enabled = false, transport = $2 WHERE id = $1`, id, transport)
			exec(`INSERT INTO platform_grants (platform_id, scope_kind, device_id, rights) VALUES ($1, 'device', $2, '{live}')`, id, nvr)
			testsupport.Eventually(t, lower.settle(), "disabled", func() bool {
				d, _ := upper.srv.deviceState(lower.cfg.ID)
				return lower.platform(id).Status == cascadeview.StatusDisabled && !d.Registered
			})
			start := time.Now()
			exec(`UPDATE cascade_platforms SET enabled = true WHERE id = $1`, id)
			testsupport.Eventually(t, 10*upper.settle(), "the superior has the whole catalog", func() bool {
				return count(upper, lower.cfg.ID) == n
			})
			t.Logf("%d channels shared upward over %s: stored by the superior %v after the link was enabled (registration, query, answer)",
				n, transport, time.Since(start).Round(time.Millisecond))
		})
	}
}

// upwardSetup starts a lower sipserver with two gbsim devices of two
// channels and a raw superior it registers to, sharing the first device
// with rights; it returns the superior's platform ID and a shared and a
// hidden channel.
func upwardSetup(t *testing.T, rights string) (mg *fakeMediagw, lower *harness, sup *rawDevice, id int64, shared, hidden string) {
	t.Helper()
	mg = newFakeMediagw(t)
	lower = startSessionServer(t, mg)
	dev := "34020000001320000001"
	lower.startMediaSim(simConfig(2, 2, "udp", dev))
	testsupport.Eventually(t, lower.settle(), "the lower's cameras", func() bool {
		return len(lower.channels(dev)) == 2 && len(lower.channels("34020000001320000002")) == 2
	})
	shared, hidden = lower.channels(dev)[0].ID, lower.channels("34020000001320000002")[0].ID
	sup, id = rawSuperior(t, lower, `INSERT INTO platform_grants (platform_id, scope_kind, device_id, rights)
		VALUES ($1, 'device', $2, $3)`, dev, rights)
	return mg, lower, sup, id, shared, hidden
}

// rawSuperior adds a raw SIP endpoint as a superior platform of lower,
// gives it the grant of grantSQL (the platform's ID is $1, args the rest)
// and waits until lower registered to it.
func rawSuperior(t *testing.T, lower *harness, grantSQL string, args ...any) (sup *rawDevice, id int64) {
	t.Helper()
	sup = newRawDevice(t, "udp", lower.sipAddr(), "127.0.0.1", upperID)
	host, port := splitHostPort(sup.local())
	ctx := context.Background()
	if err := lower.store.Pool.QueryRow(ctx, `INSERT INTO cascade_platforms (name, server_id, domain, host, port, transport,
		gb_version, charset, expires, keepalive_interval, keepalive_count) VALUES ('上级', $1, '3402000000', $2, $3, 'udp',
		'2016', 'GB2312', 3600, 60, 3) RETURNING id`, upperID, host, port).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := lower.store.Pool.Exec(ctx, grantSQL, append([]any{id}, args...)...); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, lower.settle(), "registered to the raw superior", func() bool {
		return lower.platform(id).Status == cascadeview.StatusRegistered
	})
	return sup, id
}

// TestUpwardPlay: a superior platform (a raw SIP endpoint we register to)
// INVITEs a live stream of a channel its grant shares: mediagw is asked for
// a sender to the superior's address with its SSRC, the SDP answer names
// the sender, the link counts the stream, and the superior's BYE closes
// the sender. A channel outside the grant is 404, the superior's ID from
// another source 403.
func TestUpwardPlay(t *testing.T) {
	mg, lower, sup, id, shared, hidden := upwardSetup(t, "{live}")
	const ssrc = 123456789
	invite := func(from *rawDevice, channel, callID, tag string) (int, *sip.Response) {
		offer, err := sdp.NewPlayOffer(sdp.Endpoint{ID: upperID, IP: "127.0.0.1", Port: 50000}, ssrc)
		if err != nil {
			t.Fatal(err)
		}
		return from.send(rawRequest{
			method: "INVITE", body: string(offer.Marshal()), contentType: "APPLICATION/SDP", callID: callID, fromTag: tag,
			headers: []string{"Subject: " + channel + ":" + strconv.Itoa(ssrc) + "," + upperID + ":0"},
		})
	}
	code, res := invite(sup, shared, "up-1@raw", "suptag")
	if code != 200 {
		t.Fatalf("INVITE: %d", code)
	}
	ans, err := sdp.Parse(res.Body())
	if err != nil || len(ans.Medias) != 1 || ans.Medias[0].Port != 41000+1 || ans.SSRC != ssrc || ans.Connection.Address != "127.0.0.1" ||
		ans.Medias[0].Direction != sdp.DirectionSendOnly {
		t.Fatalf("answer %s: %v", res.Body(), err)
	}
	mg.mu.Lock()
	opens := slices.Clone(mg.senderOpens)
	mg.mu.Unlock()
	want := mediaapi.SenderRequest{
		Path: "live/" + shared, SSRC: strconv.Itoa(ssrc), Transport: "udp", Dest: "127.0.0.1:50000", Subject: "platform:" + upperID,
	}
	if len(opens) != 1 || !reflect.DeepEqual(opens[0], want) {
		t.Fatalf("sender requests %+v, want %+v", opens, want)
	}
	toTag, _ := res.To().Params.Get("tag")
	sup.sendAsync(rawRequest{method: "ACK", callID: "up-1@raw", fromTag: "suptag", toTag: toTag})
	testsupport.Eventually(t, lower.settle(), "the link counts the stream", func() bool { return lower.platform(id).UpwardStreams == 1 })

	if code, _ := invite(sup, hidden, "up-2@raw", "suptag2"); code != 404 {
		t.Fatalf("INVITE for a channel outside the grant: %d, want 404", code)
	}
	spoof := newRawDevice(t, "udp", lower.sipAddr(), "127.0.0.2", upperID)
	if code, _ := invite(spoof, shared, "up-3@raw", "evil"); code != 403 {
		t.Fatalf("INVITE claiming the superior from another host: %d, want 403", code)
	}
	if code, _ := sup.send(rawRequest{method: "BYE", callID: "up-1@raw", fromTag: "wrong", toTag: toTag}); code != 481 {
		t.Fatalf("BYE with the wrong tag: %d, want 481", code)
	}
	if code, _ := sup.send(rawRequest{method: "BYE", callID: "up-1@raw", fromTag: "suptag", toTag: toTag}); code != 200 {
		t.Fatalf("BYE: %d", code)
	}
	testsupport.Eventually(t, lower.settle(), "sender closed, stream uncounted", func() bool {
		mg.mu.Lock()
		closed := slices.Contains(mg.senderCloses, "s1")
		mg.mu.Unlock()
		return closed && lower.platform(id).UpwardStreams == 0
	})

	// A sender that ends by itself (mediagw's call) BYEs the superior.
	code, res = invite(sup, shared, "up-4@raw", "suptag4")
	if code != 200 {
		t.Fatalf("second INVITE: %d", code)
	}
	toTag, _ = res.To().Params.Get("tag")
	mg.mu.Lock()
	var senderID string
	for sid := range mg.senders {
		senderID = sid
	}
	mg.mu.Unlock()
	if code := lower.call("POST", "/internal/v1/senders/ended", `{"sender":"`+senderID+`","reason":"stream_ended"}`, nil); code != 204 {
		t.Fatalf("sender ended: %d", code)
	}
	bye := sup.next(sip.BYE, "")
	if bye.CallID().Value() != "up-4@raw" {
		t.Fatalf("BYE in call %s", bye.CallID().Value())
	}
	if ft, _ := bye.From().Params.Get("tag"); ft != toTag {
		t.Fatalf("BYE From tag %q, want our To tag %q", ft, toTag)
	}
	if tt, _ := bye.To().Params.Get("tag"); tt != "suptag4" {
		t.Fatalf("BYE To tag %q, want the superior's %q", tt, "suptag4")
	}
	if code := lower.call("POST", "/internal/v1/senders/ended", `{"sender":"`+senderID+`"}`, nil); code != 404 {
		t.Fatalf("sender ended twice: %d, want 404", code)
	}

	// A re-INVITE is refused; a grant taken back ends the stream (BYE).
	code, res = invite(sup, shared, "up-5@raw", "suptag5")
	if code != 200 {
		t.Fatalf("third INVITE: %d", code)
	}
	toTag, _ = res.To().Params.Get("tag")
	sup.sendAsync(rawRequest{method: "ACK", callID: "up-5@raw", fromTag: "suptag5", toTag: toTag})
	if code, _ := sup.send(rawRequest{method: "INVITE", callID: "up-5@raw", fromTag: "suptag5", toTag: toTag}); code != 488 {
		t.Fatalf("re-INVITE: %d, want 488", code)
	}
	if _, err := lower.store.Pool.Exec(context.Background(), `DELETE FROM platform_grants WHERE platform_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	bye = sup.next(sip.BYE, "")
	if bye.CallID().Value() != "up-5@raw" {
		t.Fatalf("BYE in call %s after the grant was taken back", bye.CallID().Value())
	}
	testsupport.Eventually(t, lower.settle(), "its sender closed", func() bool {
		mg.mu.Lock()
		defer mg.mu.Unlock()
		return slices.Contains(mg.senderCloses, "s3")
	})
}

// TestUpwardQueries: a superior's RecordInfo and PresetQuery of a shared
// channel are relayed to its device and answered in the superior's SN; its
// PTZ reaches the camera; a reboot is refused; a channel without the right
// is 404.
func TestUpwardQueries(t *testing.T) {
	_, lower, sup, _, shared, hidden := upwardSetup(t, "{live,playback,ptz}")
	_ = lower
	body := func(root, cmd, target, extra string) string {
		return `<?xml version="1.0"?><` + root + `><CmdType>` + cmd + `</CmdType><SN>4711</SN><DeviceID>` + target +
			`</DeviceID>` + extra + `</` + root + `>`
	}
	start, end := time.Now().Add(-24*time.Hour).Format("2006-01-02T15:04:05"), time.Now().Format("2006-01-02T15:04:05")
	if code := sup.message(body("Query", "RecordInfo", shared, "<StartTime>"+start+"</StartTime><EndTime>"+end+
		"</EndTime><Secrecy>0</Secrecy><Type>all</Type>")); code != 200 {
		t.Fatalf("RecordInfo: %d", code)
	}
	rec := sup.next(sip.MESSAGE, "<CmdType>RecordInfo</CmdType>")
	if b := string(rec.Body()); !strings.Contains(b, "<SN>4711</SN>") || !strings.Contains(b, "<DeviceID>"+shared+"</DeviceID>") ||
		!strings.Contains(b, "<Item>") {
		t.Fatalf("RecordInfo answer %s", b)
	}
	if code := sup.message(body("Query", "PresetQuery", shared, "")); code != 200 {
		t.Fatalf("PresetQuery: %d", code)
	}
	pre := sup.next(sip.MESSAGE, "<CmdType>PresetQuery</CmdType>")
	if b := string(pre.Body()); !strings.Contains(b, "<SN>4711</SN>") || !strings.Contains(b, "<Response>") {
		t.Fatalf("PresetQuery answer %s", b)
	}
	if code := sup.message(body("Control", "DeviceControl", shared, "<PTZCmd>A50F01081F1F0000</PTZCmd>")); code != 200 {
		t.Fatalf("PTZ: %d", code)
	}
	if code := sup.message(body("Control", "DeviceControl", shared, "<TeleBoot>Boot</TeleBoot>")); code != 403 {
		t.Fatalf("reboot: %d, want 403", code)
	}
	if code := sup.message(body("Control", "DeviceControl", hidden, "<PTZCmd>A50F01081F1F0000</PTZCmd>")); code != 404 {
		t.Fatalf("PTZ of a channel outside the grant: %d, want 404", code)
	}
}

// TestUpwardPlayback: a superior's Playback INVITE starts a playback
// session of ours at the device for its t= window, with the platform as
// owner, and a sender of that session's stream; its MANSRTSP is relayed to
// the device; its BYE ends the device session. A Download that reaches
// the end of its range has the device's MediaStatus 121 relayed in the
// superior's dialog, then our BYE. Without the right it is 404.
func TestUpwardPlayback(t *testing.T) {
	mg, lower, sup, _, shared, _ := upwardSetup(t, "{playback,download}")
	const ssrc = 1123456789
	end := time.Now().Add(-time.Hour).Truncate(time.Second)
	invite := func(offer *sdp.Session, err error, callID, tag string) (int, *sip.Response) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return sup.send(rawRequest{
			method: "INVITE", body: string(offer.Marshal()), contentType: "APPLICATION/SDP", callID: callID, fromTag: tag,
			headers: []string{"Subject: " + shared + ":" + strconv.Itoa(ssrc) + "," + upperID + ":0"},
		})
	}
	ep := sdp.Endpoint{ID: upperID, IP: "127.0.0.1", Port: 50000}
	offer, err := sdp.NewPlayOffer(ep, ssrc)
	if code, _ := invite(offer, err, "pb-0@raw", "t0"); code != 404 {
		t.Fatalf("live INVITE without the live right: %d, want 404", code)
	}
	offer, err = sdp.NewPlaybackOffer(ep, ssrc, shared, end.Add(-10*time.Minute), end)
	code, res := invite(offer, err, "pb-1@raw", "t1")
	if code != 200 {
		t.Fatalf("Playback INVITE: %d", code)
	}
	if ans, err := sdp.Parse(res.Body()); err != nil || ans.Name != sdp.SessionPlayback || ans.SSRC != ssrc {
		t.Fatalf("answer %s: %v", res.Body(), err)
	}
	toTag, _ := res.To().Params.Get("tag")
	sup.sendAsync(rawRequest{method: "ACK", callID: "pb-1@raw", fromTag: "t1", toTag: toTag})
	var list struct{ Items []sipapi.Session }
	if code := lower.call("GET", "/internal/v1/sessions?kind=playback", "", &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("the lower's playback sessions: %d %+v", code, list.Items)
	}
	pb := list.Items[0]
	if pb.ChannelID != shared || pb.Owner != "platform:"+upperID || pb.RangeStart == nil || !pb.RangeStart.Equal(end.Add(-10*time.Minute)) {
		t.Fatalf("device session %+v", pb)
	}
	mg.mu.Lock()
	last := mg.senderOpens[len(mg.senderOpens)-1]
	mg.mu.Unlock()
	if last.Path != pb.Path || last.SSRC != strconv.Itoa(ssrc) {
		t.Fatalf("sender %+v, want the path %s", last, pb.Path)
	}

	// MANSRTSP relayed: each INFO the device took raises our dialog's CSeq.
	cseq := func() (n int) {
		if err := lower.store.Pool.QueryRow(context.Background(), `SELECT cseq FROM stream_sessions WHERE id = $1`, pb.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := cseq()
	for i, body := range []string{
		"PAUSE RTSP/1.0\r\nCSeq: 1\r\nPauseTime: now\r\n\r\n",
		"PLAY RTSP/1.0\r\nCSeq: 2\r\nRange: npt=now-\r\n\r\n",
		"PLAY RTSP/1.0\r\nCSeq: 3\r\nScale: 2.0\r\n\r\n",
		"PLAY RTSP/1.0\r\nCSeq: 4\r\nRange: npt=60-\r\n\r\n",
	} {
		code, res := sup.send(rawRequest{method: "INFO", body: body, contentType: "Application/MANSRTSP", callID: "pb-1@raw", fromTag: "t1", toTag: toTag})
		if code != 200 || !strings.Contains(string(res.Body()), "CSeq: "+strconv.Itoa(i+1)) {
			t.Fatalf("INFO %q: %d %s", body, code, res.Body())
		}
	}
	testsupport.Eventually(t, lower.settle(), "four controls reached the device", func() bool { return cseq() == before+4 })
	if code, _ := sup.send(rawRequest{
		method: "INFO", body: "REWIND RTSP/1.0\r\nCSeq: 5\r\n\r\n", contentType: "Application/MANSRTSP",
		callID: "pb-1@raw", fromTag: "t1", toTag: toTag,
	}); code != 400 {
		t.Fatalf("bad MANSRTSP: %d, want 400", code)
	}
	if code, _ := sup.send(rawRequest{
		method: "INFO", body: "PAUSE RTSP/1.0\r\nCSeq: 6\r\n\r\n", contentType: "Application/MANSRTSP",
		callID: "pb-1@raw", fromTag: "wrong", toTag: toTag,
	}); code != 481 {
		t.Fatalf("INFO outside the dialog: %d, want 481", code)
	}
	if code, _ := sup.send(rawRequest{method: "BYE", callID: "pb-1@raw", fromTag: "t1", toTag: toTag}); code != 200 {
		t.Fatalf("BYE: %d", code)
	}
	testsupport.Eventually(t, lower.settle(), "the device session ended with the upward one", func() bool {
		var got sipapi.Session
		return lower.call("GET", "/internal/v1/sessions/"+pb.ID, "", &got) == 200 && got.State == "ended" &&
			got.EndReason == ReasonUpwardEnded
	})

	// A download to its end: MediaStatus 121 in the superior's dialog, then our BYE.
	offer, err = sdp.NewDownloadOffer(ep, ssrc, shared, end.Add(-8*time.Second), end, 4)
	code, res = invite(offer, err, "dl-1@raw", "t2")
	if code != 200 {
		t.Fatalf("Download INVITE: %d", code)
	}
	toTag, _ = res.To().Params.Get("tag")
	sup.sendAsync(rawRequest{method: "ACK", callID: "dl-1@raw", fromTag: "t2", toTag: toTag})
	ms := sup.next(sip.MESSAGE, "<CmdType>MediaStatus</CmdType>")
	if ms.CallID().Value() != "dl-1@raw" || !strings.Contains(string(ms.Body()), "<NotifyType>121</NotifyType>") ||
		!strings.Contains(string(ms.Body()), "<DeviceID>"+shared+"</DeviceID>") {
		t.Fatalf("MediaStatus to the superior in call %s: %s", ms.CallID().Value(), ms.Body())
	}
	bye := sup.next(sip.BYE, "")
	if bye.CallID().Value() != "dl-1@raw" {
		t.Fatalf("BYE in call %s", bye.CallID().Value())
	}
	msSeq, byeSeq := ms.CSeq().SeqNo, bye.CSeq().SeqNo
	if byeSeq <= msSeq {
		t.Fatalf("our CSeq in the dialog: MESSAGE %d, then BYE %d", msSeq, byeSeq)
	}
}

// TestUpwardEvents: a device's alarms on a channel shared with a superior
// reach it — by MESSAGE without a subscription, by NOTIFY in its alarm
// subscription when they meet its conditions — without coordinates unless
// it has the location right; alarms of channels it is not granted never
// do. With a mobile-position subscription it is told positions of the
// channels it may locate, at most once per channel per its interval.
func TestUpwardEvents(t *testing.T) {
	h, _, dev, _ := trustSetup(t, "udp")
	sup, id := rawSuperior(t, h, `INSERT INTO platform_grants (platform_id, scope_kind, channel_ids, rights)
		VALUES ($1, 'channels', $2, '{live}')`, []string{trustCh1})
	alarm := func(ch string, priority int, description string) string {
		return fmt.Sprintf(`<?xml version="1.0"?><Notify><CmdType>Alarm</CmdType><SN>5</SN><DeviceID>%s</DeviceID>`+
			`<AlarmPriority>%d</AlarmPriority><AlarmMethod>5</AlarmMethod><AlarmTime>2026-12-06T10:00:00</AlarmTime>`+
			`<AlarmDescription>%s</AlarmDescription><Longitude>118.38</Longitude><Latitude>31.33</Latitude>`+
			`<Info><AlarmType>2</AlarmType></Info></Notify>`, ch, priority, description)
	}
	send := func(body string) {
		t.Helper()
		if code := dev.message(body); code != 200 {
			t.Fatalf("device's MESSAGE: %d", code)
		}
	}

	// Another registered device claiming the shared channel is not believed.
	const other = "34020000001320000902"
	dev2 := newRawDevice(t, "udp", h.sipAddr(), "127.0.0.1", other)
	dev2.register(testPassword)
	q := dev2.next(sip.MESSAGE, "<CmdType>Catalog</CmdType>")
	if code := dev2.message(catalogResponse(other, snOf(t, q), "34020000001310000777")); code != 200 {
		t.Fatalf("second device's catalog: %d", code)
	}
	if code := dev2.message(alarm(trustCh1, 1, "forged")); code != 200 {
		t.Fatalf("second device's alarm: %d", code)
	}

	// No subscription: by MESSAGE, for the shared channel only, no coordinates.
	send(alarm(trustCh2, 1, "not-shared"))
	send(alarm(trustCh1, 1, "door"))
	got := sup.next(sip.MESSAGE, "<AlarmDescription>door</AlarmDescription>")
	if b := string(got.Body()); !strings.Contains(b, "<DeviceID>"+trustCh1+"</DeviceID>") || strings.Contains(b, "<Longitude>") ||
		!strings.Contains(b, "<AlarmPriority>1</AlarmPriority>") || !strings.Contains(b, "<AlarmType>2</AlarmType>") {
		t.Fatalf("alarm forwarded as %s", b)
	}

	subscribe := func(callID, body string) *sip.Response {
		t.Helper()
		code, res := sup.send(rawRequest{
			method: "SUBSCRIBE", callID: callID, fromTag: "st-" + callID, body: body,
			contentType: "Application/MANSCDP+xml", headers: []string{"Event: presence", "Expires: 3600"},
		})
		if code != 200 || res.GetHeader("Expires") == nil || res.GetHeader("Expires").Value() != "3600" {
			t.Fatalf("SUBSCRIBE %s: %d", body, code)
		}
		return res
	}
	lowerID := h.cfg.ID
	subscribe("alarm-sub@raw", `<?xml version="1.0"?><Query><CmdType>Alarm</CmdType><SN>11</SN><DeviceID>`+lowerID+
		`</DeviceID><StartAlarmPriority>1</StartAlarmPriority><EndAlarmPriority>2</EndAlarmPriority><AlarmMethod>0</AlarmMethod></Query>`)
	send(alarm(trustCh1, 3, "low"))
	send(alarm(trustCh1, 2, "window"))
	got = sup.next(sip.NOTIFY, "<AlarmDescription>window</AlarmDescription>")
	if got.CallID().Value() != "alarm-sub@raw" || !strings.Contains(string(got.Body()), "<Notify>") {
		t.Fatalf("alarm NOTIFY in call %s: %s", got.CallID().Value(), got.Body())
	}

	// The location right: coordinates, and positions.
	if _, err := h.store.Pool.Exec(context.Background(), `UPDATE platform_grants SET rights = '{live,location}' WHERE platform_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	send(alarm(trustCh1, 1, "gate"))
	got = sup.next(sip.NOTIFY, "<AlarmDescription>gate</AlarmDescription>")
	if b := string(got.Body()); !strings.Contains(b, "<Longitude>118.38</Longitude>") {
		t.Fatalf("alarm with the location right: %s", b)
	}
	subscribe("pos-sub@raw", `<?xml version="1.0"?><Query><CmdType>MobilePosition</CmdType><SN>12</SN><DeviceID>`+lowerID+
		`</DeviceID><Interval>3600</Interval></Query>`)
	send(positionBody(trustDevice, 117.1)) // the device's own position: told for its shared channel
	got = sup.next(sip.NOTIFY, "<CmdType>MobilePosition</CmdType>")
	if b := string(got.Body()); got.CallID().Value() != "pos-sub@raw" || !strings.Contains(b, "<DeviceID>"+trustCh1+"</DeviceID>") ||
		!strings.Contains(b, "<Longitude>117.1</Longitude>") {
		t.Fatalf("position NOTIFY in call %s: %s", got.CallID().Value(), b)
	}
	send(positionBody(trustCh1, 117.2)) // within the interval: not told

	// The last alarm comes after everything before it was handled: nothing
	// else reached the superior.
	send(alarm(trustCh1, 1, "last"))
	sup.next(sip.NOTIFY, "<AlarmDescription>last</AlarmDescription>")
	for _, req := range sup.skipped {
		if b := string(req.Body()); strings.Contains(b, "not-shared") || strings.Contains(b, ">low<") || strings.Contains(b, "forged") ||
			strings.Contains(b, "117.2") {
			t.Fatalf("told the superior %s %s", req.Method, b)
		}
	}
}

// TestUpwardPTZPriority: a superior's PTZ passes the same locks as the
// console's operators, with its grant's ptz_priority: refused (486) while
// an operator of equal or higher priority controls the camera, taking it
// over from a lower one, and refusing the operators while it holds it.
func TestUpwardPTZPriority(t *testing.T) {
	// The server's clock is the test's, from the real time on (the
	// set-up's waits compare with it).
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	h, _, _, _ := trustSetupWith(t, "udp", func(s *Server) { s.Now, s.PTZLockIdle = clock, 30*time.Second })
	sup, _ := rawSuperior(t, h, `INSERT INTO platform_grants (platform_id, scope_kind, channel_ids, rights, ptz_priority)
		VALUES ($1, 'channels', $2, '{live,ptz}', 6)`, []string{trustCh1})
	ptz := func() int {
		t.Helper()
		code, _ := sup.send(rawRequest{method: "MESSAGE", body: `<?xml version="1.0"?><Control><CmdType>DeviceControl</CmdType><SN>9</SN><DeviceID>` +
			trustCh1 + `</DeviceID><PTZCmd>A50F01081F1F0000</PTZCmd></Control>`})
		return code
	}
	user := func(id string, prio int) sipapi.PTZLock {
		return h.srv.LockPTZ(trustDevice, trustCh1, sipapi.PTZController{ID: id, Name: id, Priority: prio})
	}
	if l := user("user:1", 6); !l.Granted {
		t.Fatalf("operator of priority 6 on a free camera: %+v", l)
	}
	if code := ptz(); code != 486 {
		t.Fatalf("superior (6) while an operator (6) controls: %d, want 486", code)
	}
	advance(31 * time.Second)
	if l := user("user:2", 5); !l.Granted {
		t.Fatalf("operator of priority 5 after the lock expired: %+v", l)
	}
	if code := ptz(); code != 200 {
		t.Fatalf("superior (6) over an operator (5): %d, want 200", code)
	}
	if l := user("user:2", 5); l.Granted || l.Holder.ID == "user:2" || l.Holder.Priority != 6 || l.Holder.Name != "上级" {
		t.Fatalf("operator (5) while the superior controls: %+v", l)
	}
	if l := user("user:3", 9); !l.Granted || l.TookOver == nil || l.TookOver.Name != "上级" {
		t.Fatalf("owner (9) over the superior: %+v", l)
	}
}

// TestUpwardSessionsSurviveRestart: a restart of the sipserver neither
// unregisters from the superior nor ends the streams it sends up; the next
// start takes back the sessions whose senders still run (the superior's
// BYE then finds its dialog) and ends, with a BYE, the one whose sender
// went away meanwhile.
func TestUpwardSessionsSurviveRestart(t *testing.T) {
	mg, lower, sup, _, shared, _ := upwardSetup(t, "{live}")
	invite := func(callID, tag string) string {
		t.Helper()
		offer, err := sdp.NewPlayOffer(sdp.Endpoint{ID: upperID, IP: "127.0.0.1", Port: 50000}, 7)
		if err != nil {
			t.Fatal(err)
		}
		code, res := sup.send(rawRequest{
			method: "INVITE", body: string(offer.Marshal()), contentType: "APPLICATION/SDP",
			callID: callID, fromTag: tag, headers: []string{"Subject: " + shared + ":7," + upperID + ":0"},
		})
		if code != 200 {
			t.Fatalf("INVITE %s: %d", callID, code)
		}
		toTag, _ := res.To().Params.Get("tag")
		sup.sendAsync(rawRequest{method: "ACK", callID: callID, fromTag: tag, toTag: toTag})
		return toTag
	}
	keptTag := invite("kept@raw", "k1")
	invite("gone@raw", "g1")
	rows := func() int {
		var n int
		if err := lower.store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM upward_sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != 2 {
		t.Fatalf("upward sessions stored: %d, want 2", n)
	}
	// The second one's sender ends while we are down (mediagw could not
	// tell us).
	mg.mu.Lock()
	gone := mg.senderOpens[1]
	for id, snd := range mg.senders {
		if snd.SSRC == gone.SSRC && snd.ID == "s2" {
			delete(mg.senders, id)
		}
	}
	closesBefore := len(mg.senderCloses)
	mg.mu.Unlock()

	cfg := lower.cfg
	cfg.Listen = lower.sipAddr()
	lower.close()
	mg.mu.Lock()
	closedAtStop := len(mg.senderCloses) - closesBefore
	mg.mu.Unlock()
	if closedAtStop != 0 {
		t.Fatalf("the stop closed %d senders", closedAtStop)
	}
	again := startSessionServerOn(t, mg, lower.store, cfg)
	// The superior's BYE of the kept one at once: it waits for the
	// session to be taken back, and finds it.
	if code, _ := sup.send(rawRequest{method: "BYE", callID: "kept@raw", fromTag: "k1", toTag: keptTag}); code != 200 {
		t.Fatalf("the superior's BYE of the kept session right after the restart: %d, want 200", code)
	}
	bye := sup.next(sip.BYE, "")
	if bye.CallID().Value() != "gone@raw" {
		t.Fatalf("BYE after the restart in call %s, want gone@raw", bye.CallID().Value())
	}
	testsupport.Eventually(t, again.settle(), "the kept one's sender closed and forgotten", func() bool {
		mg.mu.Lock()
		closed := slices.Contains(mg.senderCloses, "s1")
		mg.mu.Unlock()
		return closed && rows() == 0
	})
	// No REGISTER with Expires 0 reached the superior: the restart did not
	// unregister.
	for _, req := range sup.skipped {
		if h := req.GetHeader("Expires"); req.Method == sip.REGISTER && h != nil && h.Value() == "0" {
			t.Fatal("the restart unregistered from the superior")
		}
	}
}

// TestUpwardExposedNames: a superior that knows a channel by another ID
// and name (platform_channel_names) sees only those — in the Catalog
// answer, in the INVITE's answer — and plays, queries and controls the
// channel by its exposed ID; asked by our own ID, the channel is not found.
func TestUpwardExposedNames(t *testing.T) {
	mg, lower, sup, id, shared, _ := upwardSetup(t, "{live,ptz}")
	const exposed, name = "34010000001310000042", "城市编号四十二"
	if _, err := lower.store.Pool.Exec(context.Background(), `INSERT INTO platform_channel_names (platform_id, channel_id,
		exposed_id, exposed_name) VALUES ($1, $2, $3, $4)`, id, shared, exposed, name); err != nil {
		t.Fatal(err)
	}
	catalog := func() string {
		t.Helper()
		if code := sup.message(`<?xml version="1.0"?><Query><CmdType>Catalog</CmdType><SN>77</SN><DeviceID>` + lower.cfg.ID +
			`</DeviceID></Query>`); code != 200 {
			t.Fatalf("Catalog query: %d", code)
		}
		return string(sup.next(sip.MESSAGE, "<CmdType>Catalog</CmdType>").Body())
	}
	// The renumbering reaches the link by the table's trigger.
	var answer string
	testsupport.Eventually(t, lower.settle(), "the Catalog answer shows the exposed ID", func() bool {
		answer = catalog()
		return strings.Contains(answer, "<DeviceID>"+exposed+"</DeviceID>")
	})
	msg, err := manscdp.Decode([]byte(answer))
	cat, ok := msg.(*manscdp.CatalogResponse)
	if err != nil || !ok || cat.DeviceList == nil || len(cat.DeviceList.Items) == 0 {
		t.Fatalf("Catalog answer %T: %v", msg, err)
	}
	for _, it := range cat.DeviceList.Items {
		if it.DeviceID == shared || (it.DeviceID == exposed && it.Name != name) {
			t.Fatalf("the Catalog answer shows our own ID or name: %+v", it)
		}
	}

	invite := func(channel, callID string) (int, *sip.Response) {
		offer, err := sdp.NewPlayOffer(sdp.Endpoint{ID: upperID, IP: "127.0.0.1", Port: 50000}, 42)
		if err != nil {
			t.Fatal(err)
		}
		return sup.send(rawRequest{
			method: "INVITE", body: string(offer.Marshal()), contentType: "APPLICATION/SDP",
			callID: callID, fromTag: "x-" + callID, headers: []string{"Subject: " + channel + ":42," + upperID + ":0"},
		})
	}
	if code, _ := invite(shared, "own@raw"); code != 404 {
		t.Fatalf("INVITE by our own ID of a renumbered channel: %d, want 404", code)
	}
	code, res := invite(exposed, "exposed@raw")
	if code != 200 {
		t.Fatalf("INVITE by the exposed ID: %d", code)
	}
	if ans, err := sdp.Parse(res.Body()); err != nil || ans.Origin.Username != exposed || strings.Contains(string(res.Body()), shared) {
		t.Fatalf("answer %s: %v", res.Body(), err)
	}
	mg.mu.Lock()
	last := mg.senderOpens[len(mg.senderOpens)-1]
	mg.mu.Unlock()
	if last.Path != "live/"+shared {
		t.Fatalf("sender of %s, want our channel", last.Path)
	}
	if code := sup.message(`<?xml version="1.0"?><Query><CmdType>PresetQuery</CmdType><SN>78</SN><DeviceID>` + exposed +
		`</DeviceID></Query>`); code != 200 {
		t.Fatalf("PresetQuery by the exposed ID: %d", code)
	}
	if b := string(sup.next(sip.MESSAGE, "<CmdType>PresetQuery</CmdType>").Body()); !strings.Contains(b, "<DeviceID>"+exposed+"</DeviceID>") {
		t.Fatalf("PresetQuery answer %s", b)
	}
}

// TestUpwardVirtualOrg: a platform with a virtual organisation of its own
// sees its groups in the Catalog — the business group under us, the
// virtual organisation under it — and our shared channels under their
// groups (a channel placed in none under us), not under our tree; a
// change reaches the next answer; without groups it sees our tree again.
func TestUpwardVirtualOrg(t *testing.T) {
	_, lower, sup, id, shared, _ := upwardSetup(t, "{live}")
	const bg, vo = "34020000002150000001", "34020000002160000001"
	ctx := context.Background()
	set := func(group string) {
		t.Helper()
		if _, err := lower.store.Pool.Exec(ctx, `DELETE FROM platform_groups WHERE platform_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if group == "" {
			return
		}
		if _, err := lower.store.Pool.Exec(ctx, `INSERT INTO platform_groups (platform_id, group_id, name, parent_id)
			VALUES ($1, $2, '治安监控', ''), ($1, $3, '城区路口', $2)`, id, bg, vo); err != nil {
			t.Fatal(err)
		}
		if _, err := lower.store.Pool.Exec(ctx, `INSERT INTO platform_group_channels (platform_id, channel_id, group_id)
			VALUES ($1, $2, $3)`, id, shared, group); err != nil {
			t.Fatal(err)
		}
	}
	sn := 90
	catalog := func() map[string]manscdp.CatalogItem {
		t.Helper()
		sn++
		if code := sup.message(`<?xml version="1.0"?><Query><CmdType>Catalog</CmdType><SN>` + strconv.Itoa(sn) + `</SN><DeviceID>` +
			lower.cfg.ID + `</DeviceID></Query>`); code != 200 {
			t.Fatalf("Catalog query: %d", code)
		}
		items := map[string]manscdp.CatalogItem{}
		for n := 0; ; n++ {
			msg, err := manscdp.Decode(sup.next(sip.MESSAGE, "<SN>"+strconv.Itoa(sn)+"</SN>").Body())
			cat, ok := msg.(*manscdp.CatalogResponse)
			if err != nil || !ok {
				t.Fatalf("Catalog answer %T: %v", msg, err)
			}
			if cat.DeviceList != nil {
				for _, it := range cat.DeviceList.Items {
					items[it.DeviceID] = it
				}
			}
			if len(items) >= cat.SumNum || n > 100 {
				return items
			}
		}
	}
	set(vo)
	var items map[string]manscdp.CatalogItem
	testsupport.Eventually(t, lower.settle(), "the Catalog answer shows the virtual organisation", func() bool {
		items = catalog()
		return items[shared].ParentID == vo
	})
	local := lower.cfg.ID
	if g := items[bg]; g.Name != "治安监控" || g.ParentID != local {
		t.Errorf("business group %+v", g)
	}
	if g := items[vo]; g.Name != "城区路口" || g.ParentID != bg || g.BusinessGroupID != bg {
		t.Errorf("virtual organisation %+v", g)
	}
	for did, it := range items {
		if did != bg && did != vo && did != shared && it.ParentID != local {
			t.Errorf("a channel not placed hangs under %s, not us", it.ParentID)
		}
		if isGroup(did) && did != bg && did != vo {
			t.Errorf("our own tree's group %s shown", did)
		}
	}

	// Moved: the next answer has it under the business group.
	set(bg)
	testsupport.Eventually(t, lower.settle(), "the channel under the business group", func() bool {
		return catalog()[shared].ParentID == bg
	})
	// No groups: our own tree.
	set("")
	testsupport.Eventually(t, lower.settle(), "our own tree again", func() bool {
		items := catalog()
		_, shown := items[bg]
		return !shown && items[shared].ParentID != bg
	})
}
