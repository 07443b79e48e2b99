package vod

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

const channel = "34020000001320000001"

func TestParseRequest(t *testing.T) {
	base := Prefix + "recording/" + channel + "/"
	cases := []struct {
		path, query string
		want        request
		err         error
	}{
		{base + "index.m3u8", "start=2026-12-07T08:00:00Z&end=2026-12-07T09:00:00%2B08:00&token=x", request{
			Channel: channel, Path: "recording/" + channel, File: filePlaylist, Token: "x",
			Start: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC),
		}, ErrBadRequest}, // end before start
		{base + "index.m3u8", "start=2026-12-07T08:00:00.5Z&end=2026-12-08T08:00:00.5Z", request{
			Channel: channel, Path: "recording/" + channel, File: filePlaylist,
			Start: time.Date(2026, 12, 7, 8, 0, 0, 5e8, time.UTC), End: time.Date(2026, 12, 8, 8, 0, 0, 5e8, time.UTC),
		}, nil},
		{base + "index.m3u8", "start=2026-12-07T08:00:00Z&end=2026-12-08T08:00:01Z", request{}, ErrBadRequest},
		{base + "index.m3u8", "start=2026-12-07 08:00:00&end=2026-12-08T08:00:01Z", request{}, ErrBadRequest},
		{base + "init/42.mp4", "token=t", request{Channel: channel, Path: "recording/" + channel, File: fileInit, ID: 42, Token: "t"}, nil},
		{base + "seg/42.m4s", "shift=1500000", request{
			Channel: channel, Path: "recording/" + channel, File: fileSeg, ID: 42, Shift: 1500 * time.Millisecond,
		}, nil},
		{base + "seg/42.m4s", "shift=-1", request{}, ErrBadRequest},
		{base + "seg/42.m4s", "shift=90000000001", request{}, ErrBadRequest},
		{base + "seg/42.m4s", "shift=90000000000", request{
			Channel: channel, Path: "recording/" + channel, File: fileSeg, ID: 42, Shift: 25 * time.Hour,
		}, nil},
		{base + "index.m3u8", "start=2026-12-07T08:00:00Z&end=2026-12-07T09:00:00Z&video=h264", request{
			Channel: channel, Path: "recording/" + channel, File: filePlaylist, H264: true,
			Start: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC),
		}, nil},
		{base + "index.m3u8", "start=2026-12-07T08:00:00Z&end=2026-12-07T09:00:00Z&video=h265", request{}, ErrBadRequest},
		{base + "h264/init/42.mp4", "token=t", request{Channel: channel, Path: "recording/" + channel, File: fileH264Init, ID: 42, Token: "t"}, nil},
		{base + "h264/seg/42.m4s", "from=1000000&to=5000000&shift=7", request{
			Channel: channel, Path: "recording/" + channel, File: fileH264Seg, ID: 42,
			From: time.Second, To: 5 * time.Second, Shift: 7 * time.Microsecond,
		}, nil},
		{base + "h264/seg/42.m4s", "from=0", request{Channel: channel, Path: "recording/" + channel, File: fileH264Seg, ID: 42}, nil},
		{base + "h264/seg/42.m4s", "from=0&to=1000000&first=1", request{
			Channel: channel, Path: "recording/" + channel, File: fileH264Seg, ID: 42, To: time.Second, First: true,
		}, nil},
		{base + "h264/seg/42.m4s", "from=0&first=yes", request{}, ErrBadRequest},
		{base + "h264/seg/42.m4s", "", request{}, ErrBadRequest},
		{base + "h264/seg/42.m4s", "from=5&to=5", request{}, ErrBadRequest},
		{base + "h264/seg/42.m4s", "from=x", request{}, ErrBadRequest},
		{base + "h264/seg/42.m4s", "from=0&to=-1", request{}, ErrBadRequest},
		{base + "h264/seg/42.mp4", "from=0", request{}, ErrNotFound},
		{base + "h264/42.m4s", "from=0", request{}, ErrNotFound},
		{base + "seg/042.m4s", "", request{}, ErrNotFound},
		{base + "seg/0.m4s", "", request{}, ErrNotFound},
		{base + "seg/99999999999999999999.m4s", "", request{}, ErrNotFound},
		{base + "seg/+1.m4s", "", request{}, ErrNotFound},
		{base + "seg/1.mp4", "", request{}, ErrNotFound},
		{base + "init/1.m4s", "", request{}, ErrNotFound},
		{base + "seg/1.m4s/x", "", request{}, ErrNotFound},
		{base + "other.m3u8", "", request{}, ErrNotFound},
		{Prefix + "recording/123/index.m3u8", "", request{}, ErrNotFound},
		{Prefix + "live/" + channel + "/index.m3u8", "", request{}, ErrNotFound},
		{"/hls/recording/" + channel + "/index.m3u8", "", request{}, ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.path+"?"+c.query, func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseRequest(c.path, q)
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("parseRequest = %+v, %v; want %v", got, err, c.err)
			}
			if err == nil && got != c.want {
				t.Fatalf("parseRequest = %+v, want %+v", got, c.want)
			}
		})
	}
}

// FuzzParseRequest: whatever the URL, parseRequest does not panic, and
// what it accepts is a 20-digit channel with a positive ID or a range of at
// most MaxRange, and refusals are ErrNotFound or ErrBadRequest.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		Prefix + "recording/" + channel + "/index.m3u8?start=2026-12-07T08:00:00Z&end=2026-12-07T09:00:00Z&token=x",
		Prefix + "recording/" + channel + "/seg/12.m4s?token=x&shift=4000000",
		Prefix + "recording/" + channel + "/init/12.mp4",
		Prefix + "recording/" + channel + "/index.m3u8?start=2026-12-07T08:00:00Z&end=2026-12-07T09:00:00Z&video=h264",
		Prefix + "recording/" + channel + "/h264/seg/12.m4s?token=x&shift=4000000&from=1000000&to=5000000",
		Prefix + "recording/" + channel + "/h264/init/12.mp4",
		"/vod/recording//index.m3u8", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		r, err := parseRequest(u.Path, u.Query())
		if err != nil {
			if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrBadRequest) {
				t.Fatalf("parseRequest(%q): %v", raw, err)
			}
			return
		}
		if len(r.Channel) != 20 || r.Path != "recording/"+r.Channel {
			t.Fatalf("parseRequest(%q) = %+v", raw, r)
		}
		switch r.File {
		case filePlaylist:
			if !r.Start.Before(r.End) || r.End.Sub(r.Start) > MaxRange {
				t.Fatalf("parseRequest(%q): range %s–%s", raw, r.Start, r.End)
			}
		case fileInit, fileSeg, fileH264Init:
			if r.ID <= 0 || r.Shift < 0 || r.Shift > maxShift {
				t.Fatalf("parseRequest(%q) = %+v", raw, r)
			}
		case fileH264Seg:
			if r.ID <= 0 || r.Shift < 0 || r.Shift > maxShift || r.From < 0 || r.To < 0 || r.To != 0 && r.To <= r.From {
				t.Fatalf("parseRequest(%q) = %+v", raw, r)
			}
		default:
			t.Fatalf("parseRequest(%q): file %q", raw, r.File)
		}
	})
}
