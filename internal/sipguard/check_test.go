package sipguard_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/sipguard"
)

const keepaliveXML = `<?xml version="1.0" encoding="GB2312"?>
<Notify>
<CmdType>Keepalive</CmdType>
<SN>43</SN>
<DeviceID>34020000001320000001</DeviceID>
<Status>OK</Status>
</Notify>
`

// message returns a keepalive MESSAGE as a Hikvision camera sends it, with
// lines replaced or added by the edits ("Name: value" replaces the header
// of that name, "-Name" removes it, "+line" appends a line, "=line"
// replaces the start line).
func message(edits ...string) string {
	headers := []string{
		"MESSAGE sip:34020000002000000001@3402000000 SIP/2.0",
		"Via: SIP/2.0/UDP 192.168.1.64:5060;rport;branch=z9hG4bK1590443907",
		"From: <sip:34020000001320000001@3402000000>;tag=1216428343",
		"To: <sip:34020000002000000001@3402000000>",
		"Call-ID: 1873316839@192.168.1.64",
		"CSeq: 20 MESSAGE",
		"Content-Type: Application/MANSCDP+xml",
		"Max-Forwards: 70",
		"User-Agent: IP Camera",
		"Content-Length: " + strconv.Itoa(len(keepaliveXML)),
	}
	for _, e := range edits {
		switch {
		case strings.HasPrefix(e, "+"):
			headers = append(headers, e[1:])
		case strings.HasPrefix(e, "-"):
			for i, h := range headers {
				if strings.HasPrefix(h, e[1:]+":") {
					headers = append(headers[:i], headers[i+1:]...)
					break
				}
			}
		case strings.HasPrefix(e, "="):
			headers[0] = e[1:]
		default:
			name, _, _ := strings.Cut(e, ":")
			for i, h := range headers {
				if strings.HasPrefix(h, name+":") {
					headers[i] = e
				}
			}
		}
	}
	return strings.Join(headers, "\r\n") + "\r\n\r\n" + keepaliveXML
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		msg  string
		want error
	}{
		{"keepalive", message(), nil},
		{"compact forms", message("-Via", "-From", "-To", "-Call-ID", "-Content-Length",
			"+v: SIP/2.0/UDP 10.0.0.1:5060", "+f: <sip:a@b>;tag=1", "+t: <sip:c@d>", "+i: x", "+l: "+strconv.Itoa(len(keepaliveXML))), nil},
		{"mixed case names", message("-CSeq", "+CSEQ : 20 MESSAGE", "-Call-ID", "+call-id:x"), nil},
		{"bare LF", strings.ReplaceAll(message(), "\r\n", "\n"), nil},
		{"no Content-Length", message("-Content-Length"), nil},
		{"padding after body", message() + "\r\n\x00", nil},
		{"folded Via", message("+Via: SIP/2.0/UDP 10.0.0.1:5060;", "+ branch=z9hG4bK1"), nil},
		{"two Vias", message("+Via: SIP/2.0/UDP 10.0.0.1:5060"), nil},
		{"GB display name", message("From: \"\xc9\xe3\xcf\xf1\xbb\xfa\" <sip:34020000001320000001@3402000000>;tag=1"), nil},
		{"lower-case CSeq method", message("CSeq: 20 message"), nil},
		{"response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n" +
			"Call-ID: x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n", nil},
		{"response without reason", "SIP/2.0 200 \r\nv: x\r\nf: x\r\nt: x\r\ni: x\r\nCSeq: 1 ACK\r\n\r\n", nil},

		{"empty", "", sipguard.ErrMalformed},
		{"garbage", "hello world\r\n\r\n", sipguard.ErrMalformed},
		{"HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", sipguard.ErrMalformed},
		{"bad URI", message("=MESSAGE http://x SIP/2.0"), sipguard.ErrMalformed},
		{"bare scheme", message("=MESSAGE sip: SIP/2.0"), sipguard.ErrMalformed},
		{"bad version", message("=MESSAGE sip:x SIP/3.0"), sipguard.ErrMalformed},
		{"bad method", message("=MES(SAGE sip:x SIP/2.0"), sipguard.ErrMalformed},
		{"bad status", "SIP/2.0 2000 OK\r\nv: x\r\nf: x\r\nt: x\r\ni: x\r\nCSeq: 1 ACK\r\n\r\n", sipguard.ErrMalformed},
		{"status 700", "SIP/2.0 700 X\r\nv: x\r\nf: x\r\nt: x\r\ni: x\r\nCSeq: 1 ACK\r\n\r\n", sipguard.ErrMalformed},
		{"no empty line", strings.TrimSuffix(message("-Content-Length"), "\r\n\r\n"+keepaliveXML), sipguard.ErrMalformed},
		{"no empty line, CRLF", strings.TrimSuffix(message("-Content-Length"), "\r\n"+keepaliveXML), sipguard.ErrMalformed},
		{"no Via", message("-Via"), sipguard.ErrMalformed},
		{"no From", message("-From"), sipguard.ErrMalformed},
		{"no To", message("-To"), sipguard.ErrMalformed},
		{"no Call-ID", message("-Call-ID"), sipguard.ErrMalformed},
		{"no CSeq", message("-CSeq"), sipguard.ErrMalformed},
		{"empty Call-ID", message("Call-ID: "), sipguard.ErrMalformed},
		{"two Call-IDs", message("+i: y"), sipguard.ErrMalformed},
		{"CSeq method differs", message("CSeq: 20 INVITE"), sipguard.ErrMalformed},
		{"CSeq not numeric", message("CSeq: x MESSAGE"), sipguard.ErrMalformed},
		{"CSeq without method", message("CSeq: 20"), sipguard.ErrMalformed},
		{"CSeq too big", message("CSeq: 2147483648 MESSAGE"), sipguard.ErrMalformed},
		{"folded CSeq", message("-CSeq", "+CSeq: 20", "+ MESSAGE"), sipguard.ErrMalformed},
		{"continuation first", "MESSAGE sip:x SIP/2.0\r\n x\r\n\r\n", sipguard.ErrMalformed},
		{"bad header line", message("+no colon here"), sipguard.ErrMalformed},
		{"NUL in header", message("User-Agent: IP\x00Camera"), sipguard.ErrMalformed},
		{"Content-Length not numeric", message("Content-Length: 1x"), sipguard.ErrMalformed},
		{"two Content-Lengths", message("+l: 0"), sipguard.ErrMalformed},
		{"body shorter", message("Content-Length: " + strconv.Itoa(len(keepaliveXML)+1)), sipguard.ErrMalformed},
		{"body longer", message("Content-Length: 10"), sipguard.ErrMalformed},
		{"Content-Length over limit", message("Content-Length: 100000"), sipguard.ErrTooLarge},
		{"Content-Length absurd", message("Content-Length: 99999999999999999999"), sipguard.ErrTooLarge},
		{"message over limit", message("+X-Pad: " + strings.Repeat("x", 65536)), sipguard.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := sipguard.Check([]byte(c.msg), 64<<10)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestReply(t *testing.T) {
	req := message("+Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK2", "CSeq: 20 INVITE") // malformed: CSeq method
	got := sipguard.Reply([]byte(req), 400, "Bad Request")
	if err := sipguard.Check(got, 0); err != nil {
		t.Fatalf("reply fails Check: %v\n%s", err, got)
	}
	s := string(got)
	lines := strings.Split(s, "\r\n")
	want := []string{
		"SIP/2.0 400 Bad Request",
		"Via: SIP/2.0/UDP 192.168.1.64:5060;rport;branch=z9hG4bK1590443907",
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK2",
		"From: <sip:34020000001320000001@3402000000>;tag=1216428343",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Fatalf("line %d: %q, want %q", i, lines[i], w)
		}
	}
	if toTag := "To: <sip:34020000002000000001@3402000000>;tag="; !strings.HasPrefix(lines[4], toTag) || len(lines[4]) != len(toTag)+16 {
		t.Fatalf("To: %q", lines[4])
	}
	if !strings.HasSuffix(s, "\r\nCall-ID: 1873316839@192.168.1.64\r\nCSeq: 20 INVITE\r\nContent-Length: 0\r\n\r\n") {
		t.Fatalf("%s", got)
	}

	// Compact and folded headers, a To tag kept, 503 with Retry-After.
	req = "OPTIONS sip:x SIP/2.0\nv: SIP/2.0/UDP 10.0.0.1\n ;branch=z9hG4bK3\nf: <sip:a@b>;tag=1\nt: sip:c@d;TAG=9\ni: id\nCSeq: 7 OPTIONS\n"
	got = sipguard.Reply([]byte(req), 503, "Busy\r\nX: y")
	wantS := "SIP/2.0 503 BusyX: y\r\nVia: SIP/2.0/UDP 10.0.0.1 ;branch=z9hG4bK3\r\nFrom: <sip:a@b>;tag=1\r\nTo: sip:c@d;TAG=9\r\n" +
		"Call-ID: id\r\nCSeq: 7 OPTIONS\r\nRetry-After: 10\r\nContent-Length: 0\r\n\r\n"
	if string(got) != wantS {
		t.Fatalf("got\n%q\nwant\n%q", got, wantS)
	}

	for name, msg := range map[string]string{
		"response":  "SIP/2.0 200 OK\r\nv: x\r\nf: x\r\nt: x\r\ni: x\r\nCSeq: 1 MESSAGE\r\n\r\n",
		"ACK":       "ACK sip:x SIP/2.0\r\nv: x\r\nf: x\r\nt: x\r\ni: x\r\nCSeq: 1 ACK\r\n\r\n",
		"garbage":   "\x00\x01\x02",
		"no Via":    message("-Via"),
		"no CSeq":   message("-CSeq"),
		"bad CSeq":  message("CSeq: MESSAGE"),
		"NUL in To": message("To: <sip:a\x00>"),
	} {
		if got := sipguard.Reply([]byte(msg), 400, "Bad Request"); got != nil {
			t.Errorf("%s: got %q", name, got)
		}
	}
}

// FuzzCheck checks Check and Reply never panic, Check returns only its
// sentinels, and every reply passes Check.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(message()))
	f.Add([]byte(strings.ReplaceAll(message("CSeq: 1 INVITE"), "\r\n", "\n")))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if err := sipguard.Check(msg, 4096); err != nil && !errors.Is(err, sipguard.ErrMalformed) && !errors.Is(err, sipguard.ErrTooLarge) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		for _, code := range []int{400, 413, 503} {
			out := sipguard.Reply(msg, code, "Reason")
			if out == nil {
				continue
			}
			if err := sipguard.Check(out, 0); err != nil {
				t.Fatalf("reply fails Check: %v\n%q\n%q", err, msg, out)
			}
			if !bytes.HasPrefix(out, []byte("SIP/2.0 "+strconv.Itoa(code)+" ")) {
				t.Fatalf("status line of %q", out)
			}
		}
	})
}

// BenchmarkCheck measures Check on a typical keepalive MESSAGE of about 500 bytes.
func BenchmarkCheck(b *testing.B) {
	msg := []byte(message())
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := sipguard.Check(msg, 64<<10); err != nil {
			b.Fatal(err)
		}
	}
}
