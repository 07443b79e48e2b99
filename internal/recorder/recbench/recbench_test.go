package recbench

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestParseStat(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want Stat
		err  bool
	}{
		{
			name: "plain",
			in:   "4242 (mediagw) S 1 4242 4242 0 -1 4194560 1 0 0 0 250 50 7 3 20 0 12 0 100 0 0",
			want: Stat{PID: 4242, Comm: "mediagw", PPID: 1, CPU: 3100 * time.Millisecond},
		},
		{
			name: "comm with spaces and parentheses",
			in:   "7 (a b) c)) R 3 7 7 0 -1 0 0 0 0 0 100 0 0 0 20 0 1 0 5 0 0\n",
			want: Stat{PID: 7, Comm: "a b) c)", PPID: 3, CPU: time.Second},
		},
		{name: "no comm", in: "7 mediagw S 1", err: true},
		{name: "short", in: "7 (x) S 1 2 3", err: true},
		{name: "negative time", in: "7 (x) S 1 7 7 0 -1 0 0 0 0 0 -5 0 0 0 20", err: true},
		{name: "bad pid", in: "x (x) S 1 7 7 0 -1 0 0 0 0 0 1 0 0 0 20", err: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseStat([]byte(c.in))
			if c.err {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("err = %v, want ErrFormat", err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestParseIO(t *testing.T) {
	in := "rchar: 10\nwchar: 2000\nsyscr: 1\nsyscw: 2\nread_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n"
	got, err := ParseIO([]byte(in))
	if err != nil || got != (IO{WriteBytes: 4096, WChar: 2000}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"", "wchar: 1\n", "wchar: x\nwrite_bytes: 1\n", "wchar: 1\nwrite_bytes: -1\n"} {
		if _, err := ParseIO([]byte(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: err = %v, want ErrFormat", bad, err)
		}
	}
}

func TestSplitAccessUnits(t *testing.T) {
	aud := []byte{0, 0, 0, 1, 0x09, 0xF0}
	sps := []byte{0, 0, 0, 1, 0x67, 0x4D, 0x00, 0x28}
	idr := []byte{0, 0, 1, 0x65, 0x88, 0x84}
	p := []byte{0, 0, 0, 1, 0x41, 0x9A}
	stream := bytes.Join([][]byte{aud, sps, idr, aud, p, aud, p}, nil)
	got, err := SplitAccessUnits(stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].Key || got[1].Key || len(got[0].NALUs) != 2 || len(got[2].NALUs) != 1 {
		t.Fatalf("got %+v", got)
	}
	if !bytes.Equal(got[0].NALUs[1], idr[3:]) || !bytes.Equal(got[2].NALUs[0], p[4:]) {
		t.Fatalf("NAL units %+v", got)
	}
	for name, bad := range map[string][]byte{
		"no delimiter":   bytes.Join([][]byte{sps, idr}, nil),
		"no key first":   bytes.Join([][]byte{aud, p, aud, sps, idr}, nil),
		"empty":          nil,
		"delimiter only": aud,
	} {
		if _, err := SplitAccessUnits(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}

func TestTreeUsageOfThisProcess(t *testing.T) {
	u, err := TreeUsage(os.Getpid())
	if err != nil || u.Procs < 1 {
		t.Fatalf("got %+v, %v", u, err)
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("4242 (mediagw) S 1 4242 4242 0 -1 4194560 1 0 0 0 250 50 7 3 20 0 12 0 100 0 0"))
	f.Add([]byte("7 (a b) c)) R 3 7 7 0 -1 0 0 0 0 0 100 0 0 0 20"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := ParseStat(b); err == nil && s.CPU < 0 {
			t.Fatalf("negative CPU %v", s.CPU)
		}
	})
}

func FuzzParseIO(f *testing.F) {
	f.Add([]byte("wchar: 2000\nwrite_bytes: 4096\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if io, err := ParseIO(b); err == nil && (io.WriteBytes < 0 || io.WChar < 0) {
			t.Fatalf("negative %+v", io)
		}
	})
}

func FuzzSplitAccessUnits(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x65, 0x88})
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := SplitAccessUnits(b)
		if err == nil && (len(frames) == 0 || !frames[0].Key) {
			t.Fatalf("accepted %x", b)
		}
	})
}

func TestSumMetric(t *testing.T) {
	text := []byte(`# HELP sharpeyes_mediagw_stream_bytes_total Payload bytes.
# TYPE sharpeyes_mediagw_stream_bytes_total counter
sharpeyes_mediagw_stream_bytes_total{path="live/1"} 100
sharpeyes_mediagw_stream_bytes_total{path="live/a b} c"} 2.5e2 1700000000
stream_bytes_total 1
other_stream_bytes_total_x 1000
recorder_written_bytes_total 7
`)
	for _, c := range []struct {
		name string
		want float64
	}{
		{"stream_bytes_total", 351},
		{"recorder_written_bytes_total", 7},
		{"missing_total", 0},
	} {
		got, err := SumMetric(text, c.name)
		if err != nil || got != c.want {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := SumMetric([]byte("stream_bytes_total x\n"), "stream_bytes_total"); !errors.Is(err, ErrFormat) {
		t.Errorf("bad value: err = %v", err)
	}
}

func FuzzSumMetric(f *testing.F) {
	f.Add([]byte("a_total{x=\"1\"} 2\n# c\nb 3 4\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = SumMetric(b, "a_total")
	})
}
