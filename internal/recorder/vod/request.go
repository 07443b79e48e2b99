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
)

// request is a parsed VOD URL.
type request struct {
	// Channel is the 20-digit channel ID; Path its stream path.
	Channel, Path string
	// File is filePlaylist, fileInit or fileSeg.
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
}

// parseRequest reads a URL path and query of the server:
//
//	/vod/recording/<channel>/index.m3u8?start=<RFC3339>&end=<RFC3339>&token=…
//	/vod/recording/<channel>/init/<id>.mp4?token=…
//	/vod/recording/<channel>/seg/<id>.m4s?token=…[&shift=<µs>]
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
		return r, r.parseRange(query)
	case strings.HasPrefix(file, fileInit+"/"):
		r.File = fileInit
		r.ID, ok = parseID(strings.TrimPrefix(file, fileInit+"/"), ".mp4")
	case strings.HasPrefix(file, fileSeg+"/"):
		r.File = fileSeg
		r.ID, ok = parseID(strings.TrimPrefix(file, fileSeg+"/"), ".m4s")
		if v := query.Get("shift"); ok && v != "" {
			us, err := strconv.ParseInt(v, 10, 64)
			if err != nil || us < 0 || us > maxShift.Microseconds() {
				return request{}, fmt.Errorf("%w: shift: want 0 to %d microseconds, got %q", ErrBadRequest, maxShift.Microseconds(), v)
			}
			r.Shift = time.Duration(us) * time.Microsecond
		}
	default:
		ok = false
	}
	if !ok {
		return request{}, fmt.Errorf("%w: %q", ErrNotFound, path)
	}
	return r, nil
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
