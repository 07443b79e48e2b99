package sipserver

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// rawDevice is a GB28181 device made of one socket (UDP) or one connection
// (TCP), so that a test decides exactly what is sent from where: the same
// device ID from its registered source or from an attacker's. It answers
// the server's requests itself (200, SUBSCRIBE with a tag and Expires,
// INVITE with the SDP of answerInvite) and hands them to the test.
type rawDevice struct {
	t         *testing.T
	id        string
	transport string // "UDP" or "TCP"
	server    string
	udp       net.PacketConn
	tcp       net.Conn

	// answerInvite returns the SDP answer to an INVITE; nil answers 488.
	answerInvite func(req *sip.Request) string
	// acks counts the ACKs received.
	acks atomic.Int64
	// beforeAnswer, when set, runs in the reader before a request of the
	// server is answered; it must not wait for responses (the reader reads them).
	beforeAnswer func(req *sip.Request)
	// subscribeCode answers SUBSCRIBE; 0 means 200.
	subscribeCode int

	requests chan *sip.Request
	// skipped holds requests next passed over, oldest first: the server
	// sends its post-registration queries together, in no fixed order.
	skipped   []*sip.Request
	responses chan *sip.Response
	closed    atomic.Bool
	wmu       sync.Mutex
	cseq      int
	tags      map[string]string // our To tag per Call-ID of the server's requests
	done      chan struct{}
}

// rawTimeout bounds every wait of a rawDevice: a few of the server's own
// request timeouts (testConfig), as the harness's waits (settle).
var rawTimeout = 4 * testConfig().RequestTimeout.Std()

// newRawDevice opens the device's socket (or connection) from localIP;
// opts configure it before it reads anything.
func newRawDevice(t *testing.T, transport, server, localIP, id string, opts ...func(*rawDevice)) *rawDevice {
	t.Helper()
	d := &rawDevice{
		t: t, id: id, transport: strings.ToUpper(transport), server: server,
		requests: make(chan *sip.Request, 256), responses: make(chan *sip.Response, 64), done: make(chan struct{}),
		tags: map[string]string{},
	}
	var err error
	if d.transport == "TCP" {
		dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}, Timeout: rawTimeout}
		d.tcp, err = dialer.Dial("tcp", server)
	} else {
		d.udp, err = net.ListenPacket("udp", localIP+":0")
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(d)
	}
	go d.read()
	t.Cleanup(d.close)
	return d
}

func (d *rawDevice) close() {
	d.closed.Store(true)
	if d.tcp != nil {
		d.tcp.Close()
	} else {
		d.udp.Close()
	}
	<-d.done
}

// local is the device's source address.
func (d *rawDevice) local() string {
	if d.tcp != nil {
		return d.tcp.LocalAddr().String()
	}
	return d.udp.LocalAddr().String()
}

func (d *rawDevice) read() {
	defer close(d.done)
	buf := make([]byte, 64<<10)
	if d.tcp != nil {
		ps := sip.NewParser().NewSIPStream()
		defer ps.Close()
		for {
			n, err := d.tcp.Read(buf)
			if err != nil {
				return
			}
			_ = ps.ParseSIPStream(buf[:n], d.dispatch)
		}
	}
	for {
		n, _, err := d.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if msg, err := sip.ParseMessage(append([]byte(nil), buf[:n]...)); err == nil {
			d.dispatch(msg)
		}
	}
}

func (d *rawDevice) dispatch(msg sip.Message) {
	switch m := msg.(type) {
	case *sip.Response:
		select {
		case d.responses <- m:
		default:
		}
	case *sip.Request:
		if m.IsAck() {
			d.acks.Add(1)
		}
		if d.beforeAnswer != nil {
			d.beforeAnswer(m)
		}
		d.answer(m)
		select {
		case d.requests <- m:
		default:
		}
	}
}

// answer answers one request of the server as a device would.
func (d *rawDevice) answer(req *sip.Request) {
	if req.IsAck() {
		return
	}
	code, reason, body := 200, "OK", ""
	var extra []sip.Header
	switch req.Method {
	case sip.SUBSCRIBE:
		if d.subscribeCode != 0 {
			code, reason = d.subscribeCode, "Refused"
		}
		extra = append(extra, sip.NewHeader("Expires", "3600"))
	case sip.INVITE:
		if d.answerInvite == nil {
			code, reason = 488, "Not Acceptable Here"
		} else {
			body = d.answerInvite(req)
			ct := sip.ContentTypeHeader("APPLICATION/SDP")
			extra = append(extra, &ct)
		}
	}
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	res := sip.NewResponseFromRequest(req, code, reason, b)
	if to := res.To(); to != nil && code == 200 {
		if !to.Params.Has("tag") {
			to.Params.Add("tag", token())
		}
		tag, _ := to.Params.Get("tag")
		d.wmu.Lock()
		d.tags[req.CallID().Value()] = tag
		d.wmu.Unlock()
	}
	if req.Method == sip.INVITE || req.Method == sip.SUBSCRIBE {
		host, port := splitHostPort(d.local())
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: d.id, Host: host, Port: port}})
	}
	for _, h := range extra {
		res.AppendHeader(h)
	}
	d.write(res.String())
}

func splitHostPort(addr string) (string, int) {
	h, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return h, n
}

func (d *rawDevice) write(raw string) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	var err error
	if d.tcp != nil {
		_, err = d.tcp.Write([]byte(raw))
	} else {
		var addr *net.UDPAddr
		if addr, err = net.ResolveUDPAddr("udp", d.server); err == nil {
			_, err = d.udp.WriteTo([]byte(raw), addr)
		}
	}
	if err != nil && !d.closed.Load() {
		// The reader may still be answering the server while the test ends.
		d.t.Errorf("raw device %s write: %v", d.local(), err)
	}
}

func token() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// rawRequest is a request the device sends; empty fields get fresh values.
type rawRequest struct {
	method, body, contentType string
	callID, fromTag, toTag    string
	fromUser                  string // default: the device ID
	headers                   []string
}

// send sends r and waits for its final response, returning the status code
// (0 when none came in time).
func (d *rawDevice) send(r rawRequest) (int, *sip.Response) {
	d.t.Helper()
	return d.await(d.sendAsync(r))
}

// sendAsync sends r and returns its Via branch, for await.
func (d *rawDevice) sendAsync(r rawRequest) string {
	if r.callID == "" {
		r.callID = token() + "@raw"
	}
	if r.fromTag == "" {
		r.fromTag = token()
	}
	if r.fromUser == "" {
		r.fromUser = d.id
	}
	if r.contentType == "" && r.body != "" {
		r.contentType = "Application/MANSCDP+xml"
	}
	d.wmu.Lock()
	d.cseq++
	cseq := d.cseq
	d.wmu.Unlock()
	branch := "z9hG4bK" + token()
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:34020000002000000001@3402000000 SIP/2.0\r\n", r.method)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;rport;branch=%s\r\n", d.transport, d.local(), branch)
	fmt.Fprintf(&b, "From: <sip:%s@3402000000>;tag=%s\r\n", r.fromUser, r.fromTag)
	to := "To: <sip:34020000002000000001@3402000000>"
	if r.toTag != "" {
		to += ";tag=" + r.toTag
	}
	b.WriteString(to + "\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n", r.callID, cseq, r.method)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", d.id, d.local())
	for _, h := range r.headers {
		b.WriteString(h + "\r\n")
	}
	if r.contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.contentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(r.body), r.body)
	d.write(b.String())
	return branch
}

// await waits for the final response to the request sent with branch.
func (d *rawDevice) await(branch string) (int, *sip.Response) {
	deadline := time.After(rawTimeout)
	for {
		select {
		case res := <-d.responses:
			if v := res.Via(); v == nil || !strings.Contains(v.Value(), branch) || res.IsProvisional() {
				continue
			}
			return res.StatusCode, res
		case <-deadline:
			return 0, nil
		}
	}
}

// message sends a MANSCDP body in a MESSAGE.
func (d *rawDevice) message(body string) int {
	d.t.Helper()
	code, _ := d.send(rawRequest{method: "MESSAGE", body: body})
	return code
}

// register registers with digest authentication, failing the test otherwise.
func (d *rawDevice) register(password string) {
	d.t.Helper()
	callID, tag := token()+"@raw", token()
	code, res := d.send(rawRequest{method: "REGISTER", callID: callID, fromTag: tag, headers: []string{"Expires: 3600"}})
	if code != 401 {
		d.t.Fatalf("REGISTER: %d, want a 401 challenge", code)
	}
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		d.t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: "REGISTER", URI: "sip:34020000002000000001@3402000000", Username: d.id, Password: password,
		Count: 1, Cnonce: token(),
	})
	if err != nil {
		d.t.Fatal(err)
	}
	code, _ = d.send(rawRequest{
		method: "REGISTER", callID: callID, fromTag: tag,
		headers: []string{"Expires: 3600", "Authorization: " + cred.String()},
	})
	if code != 200 {
		d.t.Fatalf("authenticated REGISTER: %d", code)
	}
}

// next returns the next request of the server with method whose body
// contains want ("" for any); the others are kept for later calls.
func (d *rawDevice) next(method sip.RequestMethod, want string) *sip.Request {
	d.t.Helper()
	match := func(req *sip.Request) bool {
		return req.Method == method && strings.Contains(string(req.Body()), want)
	}
	if i := slices.IndexFunc(d.skipped, match); i >= 0 {
		req := d.skipped[i]
		d.skipped = slices.Delete(d.skipped, i, i+1)
		return req
	}
	deadline := time.After(rawTimeout)
	for {
		select {
		case req := <-d.requests:
			if match(req) {
				return req
			}
			d.skipped = append(d.skipped, req)
		case <-deadline:
			d.t.Fatalf("device %s: no %s %q from the server", d.id, method, want)
			return nil
		}
	}
}

// tagOf returns the tag the device gave the dialog of callID.
func (d *rawDevice) tagOf(callID string) string {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	return d.tags[callID]
}

// snOf returns the SN of a MANSCDP query.
func snOf(t *testing.T, req *sip.Request) int {
	t.Helper()
	body := string(req.Body())
	_, rest, ok := strings.Cut(body, "<SN>")
	v, _, ok2 := strings.Cut(rest, "</SN>")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if !ok || !ok2 || err != nil {
		t.Fatalf("no SN in %s", body)
	}
	return n
}
