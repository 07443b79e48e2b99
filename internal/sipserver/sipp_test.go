package sipserver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// sippRun is one sipp run (UDP, one socket) against the harness's server:
// one call of scenario per device.
type sippRun struct {
	scenario  string   // file in testdata/sipp
	ooc       string   // -oocsf scenario answering the server's requests, if any
	devices   []string // one call each, in order
	keepalive int      // keepalives per device (-set ka), for register_keepalive_unregister.xml
	pause     time.Duration
}

// sippResult is what a finished sipp run left behind.
type sippResult struct {
	err      error // nil when sipp exited 0: every call passed
	output   string
	messages string // -trace_msg
	errors   string // -trace_err
}

// runSipp runs sipp to completion, bounded by a timeout. The -inf CSV has
// per device: ID, the [authentication] keyword with the right password,
// and one with a wrong password.
func (h *harness) runSipp(sipp string, r sippRun) sippResult {
	h.t.Helper()
	dir := h.t.TempDir()
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for _, id := range r.devices {
		fmt.Fprintf(&csv, "%s;[authentication username=%s password=%s];[authentication username=%s password=wrong-%s]\n",
			id, id, testPassword, id, testPassword)
	}
	csvPath := filepath.Join(dir, "devices.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o644); err != nil {
		h.t.Fatal(err)
	}
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join("testdata", "sipp", name))
		if err != nil {
			h.t.Fatal(err)
		}
		return p
	}
	msgFile, errFile := filepath.Join(dir, "messages.log"), filepath.Join(dir, "errors.log")
	args := []string{
		h.sipAddr(), "-sf", abs(r.scenario), "-inf", csvPath,
		"-set", "srvid", h.cfg.ID, "-set", "domain", h.cfg.Domain,
		"-i", "127.0.0.1", "-t", "u1", "-nd", "-nostdin",
		"-m", strconv.Itoa(len(r.devices)), "-r", "10",
		"-timeout", "40s", "-timeout_error",
		"-trace_msg", "-message_file", msgFile, "-trace_err", "-error_file", errFile,
	}
	if r.ooc != "" {
		args = append(args, "-oocsf", abs(r.ooc))
	}
	if r.keepalive > 0 {
		args = append(args, "-set", "ka", strconv.Itoa(r.keepalive))
	}
	if r.pause > 0 {
		args = append(args, "-d", strconv.Itoa(int(r.pause/time.Millisecond)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	res := sippResult{err: cmd.Run()}
	res.output = out.String()
	msgs, _ := os.ReadFile(msgFile)
	errs, _ := os.ReadFile(errFile)
	res.messages, res.errors = string(msgs), string(errs)
	return res
}

// check fails the test if sipp did not pass every call.
func (r sippResult) check(t *testing.T) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("sipp: %v\nerrors:\n%s\noutput (tail):\n%s\nmessages (tail):\n%s", r.err, r.errors, tail(r.output, 3000), tail(r.messages, 6000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func TestSippRegisterKeepaliveUnregister(t *testing.T) {
	sipp := testsupport.Tool(t, "sipp", "sip-tester")
	h := startServer(t, openStore(t), testConfig())
	devices := []string{"34020000001320001001", "34020000001320001002"}
	r := h.runSipp(sipp, sippRun{
		scenario: "register_keepalive_unregister.xml", ooc: "catalog_ooc.xml",
		devices: devices, keepalive: 3, pause: 200 * time.Millisecond,
	})
	r.check(t)
	for _, want := range []string{`qop="auth"`, "Authorization: Digest", "Expires: 0", "Date: "} {
		if !strings.Contains(r.messages, want) {
			t.Errorf("sipp saw no %q", want)
		}
	}
	for _, id := range devices {
		testsupport.Eventually(t, h.settle(), id+" unregistration stored", func() bool {
			return strings.Join(h.deviceLog(id), ",") == "+register,-unregister"
		})
		if h.device(id).Online {
			t.Errorf("%s online after the unregister", id)
		}
	}
	if n := h.srv.metricsKeepalives(); n != 3*len(devices) {
		t.Errorf("%d keepalives accepted, want %d", n, 3*len(devices))
	}
}

func TestSippWrongPassword(t *testing.T) {
	sipp := testsupport.Tool(t, "sipp", "sip-tester")
	h := startServer(t, openStore(t), testConfig())
	id := "34020000001320001101"
	r := h.runSipp(sipp, sippRun{scenario: "wrong_password.xml", devices: []string{id}})
	r.check(t)
	if !strings.Contains(r.messages, "SIP/2.0 403") {
		t.Fatalf("no 403 in sipp's messages:\n%s", r.messages)
	}
	if d := h.device(id); d.Online {
		t.Fatal("device online with a wrong password")
	}
	if log := h.deviceLog(id); len(log) != 0 {
		t.Fatalf("status log %v, want none", log)
	}
}

func TestSippKeepaliveUnknown(t *testing.T) {
	sipp := testsupport.Tool(t, "sipp", "sip-tester")
	h := startServer(t, openStore(t), testConfig())
	r := h.runSipp(sipp, sippRun{scenario: "keepalive_unknown.xml", devices: []string{"34020000001320001201"}})
	r.check(t)
	if n := h.srv.metricsKeepalives(); n != 0 {
		t.Fatalf("%d keepalives accepted from an unknown device", n)
	}
}

// TestSippCatalogOutOfCall: the device answers the server's DeviceInfo and
// Catalog queries (new Call-IDs, so sipp's out-of-call scenario) while it
// stays registered with keepalives.
func TestSippCatalogOutOfCall(t *testing.T) {
	sipp := testsupport.Tool(t, "sipp", "sip-tester")
	h := startServer(t, openStore(t), testConfig())
	id := "34020000001320001301"
	done := make(chan sippResult, 1)
	go func() {
		done <- h.runSipp(sipp, sippRun{
			scenario: "register_keepalive_unregister.xml", ooc: "catalog_ooc.xml",
			devices: []string{id}, keepalive: 10, pause: 500 * time.Millisecond,
		})
	}()
	testsupport.Eventually(t, h.settle(), "catalog stored", func() bool { return len(h.channels(id)) == 2 })
	testsupport.Eventually(t, h.settle(), "device info stored", func() bool { return h.device(id).Manufacturer == "sipp" })
	r := <-done
	r.check(t)
	chs := h.channels(id)
	for i, ch := range chs {
		if want := fmt.Sprintf("3402000000131000000%d", i+1); ch.ID != want || ch.Name == "" || ch.CivilCode != "340200" {
			t.Errorf("channel %d: %+v, want ID %s with name and civil code", i, ch, want)
		}
	}
	for _, want := range []string{"<CmdType>DeviceInfo</CmdType>", "<CmdType>Catalog</CmdType>", "<SumNum>2</SumNum>"} {
		if !strings.Contains(r.messages, want) {
			t.Errorf("sipp saw no %q", want)
		}
	}
	testsupport.Eventually(t, h.settle(), "unregistration stored", func() bool {
		return strings.Join(h.deviceLog(id), ",") == "+register,-unregister"
	})
}
