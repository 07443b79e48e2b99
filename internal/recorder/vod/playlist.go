package vod

import (
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// item is one segment object in a playlist: listed whole, or, for the
// segment the playback starts in, as byte ranges of its media part.
type item struct {
	// ID is the recording's row.
	ID int64
	// Start is the segment's wall-clock start.
	Start time.Time
	// Duration is the whole segment's length (parts nil).
	Duration time.Duration
	// Base is "" for URLs relative to the playlist, else the absolute
	// "<node URL>/vod/recording/<channel>/" of the node holding the object.
	Base string
	// Parts, when set, list the segment from its first part on.
	Parts []part
	// Shift is how much later than the first segment's this one starts:
	// its seg URL asks for its decode times moved by it.
	Shift time.Duration
	// Stretches, when set, list the segment as its H.264 version (an H.265
	// segment in a video=h264 playlist), stretch by stretch.
	Stretches []stretch
}

// stretch is a part of a segment transcoded on request: from its first key
// frame at or after From to before the first one at or after To (To 0:
// its end). Duration is the stretch's length, exact when the segment was
// scanned, else nominal (within a GOP). First marks the stretch playback
// starts with (transcoded faster).
type stretch struct {
	From, To, Duration time.Duration
	First              bool
}

// stretchLength is how long the stretches of a transcoded segment are at
// least: each is one ffmpeg run of about a second of work at 1080p.
const stretchLength = 4 * time.Second

// gridLength is the length of the stretches of a segment that was not
// scanned: stretchLength, or more than the longest GOP seen, so that each
// holds a key frame (one that holds none is empty: the stretch before runs
// through it).
func gridLength(gop time.Duration) time.Duration {
	longer := gop + gop/4
	return max(stretchLength, longer.Truncate(time.Second)+time.Second)
}

// gridStretches cuts a segment of d that was not scanned into stretches of
// length (the last one to its end).
func gridStretches(d, length time.Duration) []stretch {
	var out []stretch
	for from := time.Duration(0); ; from += length {
		if d-from <= length+length/2 {
			return append(out, stretch{From: from, Duration: max(d-from, 0)})
		}
		out = append(out, stretch{From: from, To: from + length, Duration: length})
	}
}

// keyStretches cuts a scanned segment's key-frame parts into stretches of
// about stretchLength, the last one to the segment's end (a tail of half that or less
// joins the stretch before). With firstAlone (the segment playback starts
// in) the first part is a stretch of its own: the first frame waits for
// one GOP's transcode only. Cuts are at the parts' starts, which are key
// frames' decode times.
func keyStretches(parts []part, firstAlone bool) []stretch {
	var out []stretch
	for i, p := range parts {
		n := len(out)
		if n == 0 || firstAlone && i == 1 || out[n-1].Duration >= stretchLength {
			if n > 0 {
				out[n-1].To = p.Start
			}
			out = append(out, stretch{From: p.Start, Duration: p.Duration})
			continue
		}
		out[n-1].Duration = p.Start + p.Duration - out[n-1].From
	}
	if n := len(out); n >= 2 && out[n-1].Duration <= stretchLength/2 && (!firstAlone || n != 2) {
		out[n-2].To = 0
		out[n-2].Duration += out[n-1].Duration
		out = out[:n-1]
	}
	if firstAlone && len(out) > 0 {
		out[0].First = true
	}
	return out
}

// part is a byte range of a segment's media part (the bytes from its first
// moof on) that starts with a key frame.
type part struct {
	// Offset and Size are relative to the media part.
	Offset, Size int64
	// Start is the part's media time from the segment's start; Duration
	// its length.
	Start, Duration time.Duration
}

// writePlaylist writes an HLS VOD playlist (RFC 8216, version 7) of items,
// every URL carrying token. Each segment object has its own init section
// and decode times from 0, so each after the first follows a
// discontinuity; its media URL also asks for its decode times shifted by
// its wall-clock distance from the first segment, so that players that
// ignore discontinuities (ffmpeg's HLS demuxer) see one timeline too.
func writePlaylist(w io.Writer, items []item, token string) error {
	var b strings.Builder
	target := 1.0
	for _, it := range items {
		if it.Parts == nil && it.Stretches == nil {
			target = math.Max(target, math.Ceil(it.Duration.Seconds()))
		}
		for _, st := range it.Stretches {
			target = math.Max(target, math.Ceil(st.Duration.Seconds()))
		}
		for _, p := range it.Parts {
			if it.Stretches != nil {
				break
			}
			target = math.Max(target, math.Ceil(p.Duration.Seconds()))
		}
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n"+
		"#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n", int(target))
	q := ""
	if token != "" {
		q = "?token=" + url.QueryEscape(token)
	}
	for i, it := range items {
		if i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		id := strconv.FormatInt(it.ID, 10)
		sep := "&"
		if q == "" {
			sep = "?"
		}
		shift := ""
		if it.Shift > 0 {
			shift = sep + "shift=" + strconv.FormatInt(it.Shift.Microseconds(), 10)
			sep = "&"
		}
		if it.Stretches != nil {
			fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%s%s/%s.mp4%s\"\n", it.Base, fileH264Init, id, q)
			for j, st := range it.Stretches {
				if j == 0 {
					fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", dateTime(it.Start.Add(st.From)))
				}
				seg := it.Base + fileH264Seg + "/" + id + ".m4s" + q + shift + sep + "from=" + strconv.FormatInt(st.From.Microseconds(), 10)
				if st.To > 0 {
					seg += "&to=" + strconv.FormatInt(st.To.Microseconds(), 10)
				}
				if st.First {
					seg += "&first=1"
				}
				fmt.Fprintf(&b, "#EXTINF:%s,\n%s\n", seconds(st.Duration), seg)
			}
			continue
		}
		fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%sinit/%s.mp4%s\"\n", it.Base, id, q)
		seg := it.Base + "seg/" + id + ".m4s" + q + shift
		if it.Parts == nil {
			fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%s,\n%s\n", dateTime(it.Start), seconds(it.Duration), seg)
			continue
		}
		for j, p := range it.Parts {
			if j == 0 {
				fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", dateTime(it.Start.Add(p.Start)))
			}
			fmt.Fprintf(&b, "#EXTINF:%s,\n#EXT-X-BYTERANGE:%d@%d\n%s\n", seconds(p.Duration), p.Size, p.Offset, seg)
		}
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
