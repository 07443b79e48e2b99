package vod

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
)

// Prefix is where the server is mounted on the recorder's HTTP listener;
// a recording path (streampath.Recording) follows it.
const Prefix = "/vod/"

// MaxRange is the longest range one playlist covers.
const MaxRange = 24 * time.Hour

// maxShift bounds a seg's shift: the range, and the first segment's start
// up to a segment (at most an hour, recorder.segment_duration) before it.
const maxShift = MaxRange + time.Hour

// File kinds of a request.
const (
	filePlaylist = "index.m3u8"
	fileInit     = "init"
	fileSeg      = "seg"
	// The H.264 version of an H.265 segment's init section and of a
	// stretch of its media (index.m3u8?video=h264 lists them).
	fileH264Init = "h264/init"
	fileH264Seg  = "h264/seg"
)

// videoH264 is the playlist's video query asking for H.264 everywhere.
const videoH264 = "h264"

// request is a parsed VOD URL.
type request struct {
	// Channel is the 20-digit channel ID; Path its stream path.
	Channel, Path string
	// File is filePlaylist, fileInit, fileSeg, fileH264Init or
	// fileH264Seg.
	File string
	// ID is the recording (segment row) of init and seg requests.
	ID int64
	// Start and End are the playlist's range.
	Start, End time.Time
	// Token is the play token of the query.
	Token string
	// Shift moves a seg's decode times later (the shift query, in
	// microseconds), so that the segments of a playlist share one
	// timeline.
	Shift time.Duration
	// H264 is a playlist's video=h264: H.265 segments are listed as their
	// H.264 version, for browsers that cannot decode H.265.
	H264 bool
	// From and To are an h264 seg's stretch of its segment (the from and
	// to queries, in microseconds; To 0: to the end); First its first=1,
	// the stretch a playback starts with.
	From, To time.Duration
	First    bool
}

// parseRequest reads a URL path and query of the server:
//
//	/vod/recording/<channel>/index.m3u8?start=<RFC3339>&end=<RFC3339>&token=…
//	/vod/recording/<channel>/init/<id>.mp4?token=…
//	/vod/recording/<channel>/seg/<id>.m4s?token=…[&shift=<µs>]
//	/vod/recording/<channel>/h264/init/<id>.mp4?token=…
//	/vod/recording/<channel>/h264/seg/<id>.m4s?token=…&from=<µs>[&to=<µs>][&shift=<µs>][&first=1]
//
// A path of none of these forms wraps ErrNotFound; a bad query
// ErrBadRequest.
func parseRequest(path string, query url.Values) (request, error) {
	rest, ok := strings.CutPrefix(path, Prefix+string(streampath.KindRecording)+"/")
	if !ok {
		return request{}, fmt.Errorf("%w: %q", ErrNotFound, path)
	}
	channel, file, ok := strings.Cut(rest, "/")
	if !ok {
		return request{}, fmt.Errorf("%w: %q", ErrNotFound, path)
	}
	r := request{Channel: channel, Path: streampath.Recording(channel), Token: query.Get("token")}
	if kind, _, err := streampath.Parse(r.Path); err != nil || kind != streampath.KindRecording {
		return request{}, fmt.Errorf("%w: %q: not a 20-digit channel ID", ErrNotFound, channel)
	}
	switch {
	case file == filePlaylist:
		r.File = filePlaylist
		switch v := query.Get("video"); v {
		case "":
		case videoH264:
			r.H264 = true
		default:
			return request{}, fmt.Errorf("%w: video: want %q or nothing, got %q", ErrBadRequest, videoH264, v)
		}
		return r, r.parseRange(query)
	case strings.HasPrefix(file, fileInit+"/"):
		r.File = fileInit
		r.ID, ok = parseID(strings.TrimPrefix(file, fileInit+"/"), ".mp4")
	case strings.HasPrefix(file, fileSeg+"/"):
		r.File = fileSeg
		r.ID, ok = parseID(strings.TrimPrefix(file, fileSeg+"/"), ".m4s")
	case strings.HasPrefix(file, fileH264Init+"/"):
		r.File = fileH264Init
		r.ID, ok = parseID(strings.TrimPrefix(file, fileH264Init+"/"), ".mp4")
	case strings.HasPrefix(file, fileH264Seg+"/"):
		r.File = fileH264Seg
		r.ID, ok = parseID(strings.TrimPrefix(file, fileH264Seg+"/"), ".m4s")
	default:
		ok = false
	}
	if !ok {
		return request{}, fmt.Errorf("%w: %q", ErrNotFound, path)
	}
	if r.File == fileSeg || r.File == fileH264Seg {
		var err error
		if r.Shift, err = parseMicros(query, "shift", false); err != nil {
			return request{}, err
		}
	}
	if r.File == fileH264Seg {
		var err error
		if r.From, err = parseMicros(query, "from", true); err != nil {
			return request{}, err
		}
		if r.To, err = parseMicros(query, "to", false); err != nil {
			return request{}, err
		}
		if r.To != 0 && r.To <= r.From {
			return request{}, fmt.Errorf("%w: to %s is not after from %s", ErrBadRequest, r.To, r.From)
		}
		switch v := query.Get("first"); v {
		case "":
		case "1":
			r.First = true
		default:
			return request{}, fmt.Errorf("%w: first: want 1 or nothing, got %q", ErrBadRequest, v)
		}
	}
	return r, nil
}

// parseMicros reads a query of microseconds, 0 to maxShift; absent is 0
// unless required.
func parseMicros(query url.Values, key string, required bool) (time.Duration, error) {
	v := query.Get(key)
	if v == "" && !required {
		return 0, nil
	}
	us, err := strconv.ParseInt(v, 10, 64)
	if err != nil || us < 0 || us > maxShift.Microseconds() {
		return 0, fmt.Errorf("%w: %s: want 0 to %d microseconds, got %q", ErrBadRequest, key, maxShift.Microseconds(), v)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// parseID reads "<decimal id><ext>"; the ID is positive, with no sign or
// leading zero, so that one recording has one URL.
func parseID(s, ext string) (int64, bool) {
	digits, ok := strings.CutSuffix(s, ext)
	if !ok || digits == "" || len(digits) > 19 || digits[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	return id, err == nil && id > 0
}

// parseRange reads the playlist's start and end: RFC 3339, start before
// end, at most MaxRange apart.
func (r *request) parseRange(query url.Values) error {
	var err error
	if r.Start, err = parseTime(query, "start"); err != nil {
		return err
	}
	if r.End, err = parseTime(query, "end"); err != nil {
		return err
	}
	switch {
	case !r.Start.Before(r.End):
		return fmt.Errorf("%w: start %s is not before end %s", ErrBadRequest, query.Get("start"), query.Get("end"))
	case r.End.Sub(r.Start) > MaxRange:
		return fmt.Errorf("%w: the range is %s, at most %s", ErrBadRequest, r.End.Sub(r.Start), MaxRange)
	}
	return nil
}

func parseTime(query url.Values, key string) (time.Time, error) {
	v := query.Get(key)
	if v == "" {
		return time.Time{}, fmt.Errorf("%w: %s is required (RFC 3339)", ErrBadRequest, key)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s: want RFC 3339 (2006-01-02T15:04:05Z), got %q", ErrBadRequest, key, v)
	}
	return t, nil
}
