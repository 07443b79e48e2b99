package e2e

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/peertest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

// TestStrictSuperiorSipp: sipp plays a strict superior platform
// (testdata/sipp/strict_superior.xml) — a qop=auth digest it verifies, a
// Catalog query, an INVITE of the shared camera with TCP passive media —
// and the PS we send it is captured from the TCP connection and read back
// by our demuxer and by ffprobe, frame for frame.
func TestStrictSuperiorSipp(t *testing.T) {
	sipp := testsupport.Tool(t, "sipp", "sip-tester")
	ffprobe := testsupport.Tool(t, "ffprobe", "ffmpeg")
	const upID, password = "34020000002000000099", "strict-superior-secret"
	lower := newStack(t, nil)
	lower.startMediagw()
	lower.startSipserver()
	lower.startSim(nil)
	shared := channelID(1)
	// The camera's clip is ready before sipp's fixed hold starts (a cold
	// gbsim waits for its clip).
	if code := lower.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": "live/" + shared}, nil); code != http.StatusOK {
		t.Fatalf("warm the camera: %d", code)
	}
	lower.live("live/"+shared, "h264")

	media, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer media.Close()
	sipPort := peertest.FreePort(t, "udp")
	db, err := pgx.Connect(context.Background(), lower.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	var id int64
	if err := db.QueryRow(context.Background(), `INSERT INTO cascade_platforms (name, server_id, domain, host, port, transport,
		password, gb_version, charset, expires, keepalive_interval, keepalive_count)
		VALUES ('严格的上级', $1, '3402000000', '127.0.0.1', $2, 'udp', $3, '2016', 'GB2312', 3600, 60, 3) RETURNING id`,
		upID, sipPort, password).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(context.Background(), `INSERT INTO platform_grants (platform_id, scope_kind, channel_ids, rights)
		VALUES ($1, 'channels', $2, '{live}')`, id, []string{shared}); err != nil {
		t.Fatal(err)
	}

	// The media: RFC 4571 frames of RTP, whose payloads are the PS.
	captured := make(chan []byte, 1)
	go func() {
		var out bytes.Buffer
		defer func() { captured <- out.Bytes() }()
		conn, err := media.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		rd := rtptcp.NewReader(conn)
		for {
			b, err := rd.ReadPacket()
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(b) == nil && p.SSRC == 100000917 {
				out.Write(p.Payload)
			}
		}
	}()

	dir := t.TempDir()
	scenario, err := filepath.Abs(filepath.Join("testdata", "sipp", "strict_superior.xml"))
	if err != nil {
		t.Fatal(err)
	}
	lowerID := lower.sipCfg.SIP.ID
	msgFile, errFile := filepath.Join(dir, "messages.log"), filepath.Join(dir, "errors.log")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(sipPort), "-t", "u1",
		"-set", "user", lowerID, "-set", "pass", password, "-set", "upid", upID, "-set", "lowerid", lowerID,
		"-set", "chan", shared, "-set", "lowersip", lower.sipAddr, "-set", "mport", strconv.Itoa(media.Addr().(*net.TCPAddr).Port),
		"-d", "3000", "-nd", "-nostdin", "-timeout", "60s", "-timeout_error",
		"-trace_msg", "-message_file", msgFile, "-trace_err", "-error_file", errFile)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	msgs, _ := os.ReadFile(msgFile)
	if runErr != nil {
		errs, _ := os.ReadFile(errFile)
		t.Fatalf("sipp: %v\nerrors:\n%s\noutput:\n%s\nmessages:\n%s", runErr, errs, tailOf(out.String(), 3000), tailOf(string(msgs), 8000))
	}
	trace := string(msgs)
	// Our Catalog answer (a Response, in the query's SN): exactly the
	// shared camera, under us.
	answer := regexp.MustCompile(`(?s)<Response>\s*<CmdType>Catalog</CmdType>\s*<SN>917</SN>.*?</Response>`).FindString(trace)
	if !strings.Contains(answer, "<SumNum>1</SumNum>") || !strings.Contains(answer, "<DeviceID>"+shared+"</DeviceID>") ||
		strings.Contains(answer, channelID(2)) {
		t.Errorf("the Catalog answer is not exactly the shared camera: %q\n%s", answer, tailOf(trace, 6000))
	}

	var capture []byte
	select {
	case capture = <-captured:
	case <-time.After(30 * time.Second):
		t.Fatal("the media connection did not end after the BYE")
	}
	if len(capture) == 0 {
		t.Fatal("no PS arrived over the TCP media connection")
	}
	psFile := filepath.Join(dir, "capture.ps")
	if err := os.WriteFile(psFile, capture, 0o644); err != nil {
		t.Fatal(err)
	}

	// Our demuxer: every video access unit (the frames of a call are valid
	// until the next one).
	var d ps.Demuxer
	var ours []int
	sizes := func(frames []ps.Frame) {
		for _, f := range frames {
			if f.Codec == ps.CodecH264 {
				ours = append(ours, len(f.Payload))
			}
		}
	}
	frames, err := d.Write(capture)
	if err != nil {
		t.Logf("demuxer: %v", err)
	}
	sizes(frames)
	sizes(d.Flush())
	// ffprobe: the same file as MPEG-PS, packet by packet.
	probe, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-f", "mpeg", "-select_streams", "v:0",
		"-show_entries", "packet=size", "-of", "csv=p=0", psFile).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var theirs []int
	for _, l := range strings.Fields(string(probe)) {
		n, err := strconv.Atoi(strings.TrimSuffix(l, ","))
		if err != nil {
			t.Fatalf("ffprobe line %q", l)
		}
		theirs = append(theirs, n)
	}
	t.Logf("%d bytes of PS over TCP: %d video frames by our demuxer, %d by ffprobe", len(capture), len(ours), len(theirs))
	// The sender stops at the BYE, possibly within a frame: the last one
	// may be cut, and the two may keep or drop it differently. Every frame
	// before it must be the same in both.
	n := min(len(ours), len(theirs))
	if n < 25 || len(ours)-n > 1 || len(theirs)-n > 1 {
		t.Fatalf("frames: ours %d, ffprobe's %d\nours %v\ntheirs %v", len(ours), len(theirs), ours, theirs)
	}
	for i := range n - 1 {
		if ours[i] != theirs[i] {
			t.Fatalf("frame %d: %d bytes by our demuxer, %d by ffprobe\nours %v\ntheirs %v", i, ours[i], theirs[i], ours, theirs)
		}
	}
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
