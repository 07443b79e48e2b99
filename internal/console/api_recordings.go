package console

import (
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Sources of GET /channels/{id}/recordings.
const (
	sourcePlatform = "platform"
	sourceDevice   = "device"
)

// spanJSON is a recorded span of a timeline.
type spanJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// gapJSON is a hole of a timeline that a plan says should be recorded.
type gapJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Cause string    `json:"cause"`
	// Detail is what happened (the stream's error, …), when known.
	Detail string `json:"detail,omitempty"`
}

// timelineJSON is what is recorded of a channel in a time range.
type timelineJSON struct {
	Source   string     `json:"source"`
	Segments []spanJSON `json:"segments"`
	Gaps     []gapJSON  `json:"gaps"`
	// Partial says the device answered only part of its records in time.
	Partial bool `json:"partial,omitempty"`
}

// recordings answers the timeline of channel {id} in [start, end): the
// platform's segments merged into spans and its gaps with their causes,
// or (source=device) the device's own records as spans. It needs the
// playback right and is audited (recordings).
func (a *API) recordings(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	// The grant first: someone without it learns nothing, not even that
	// their range was bad.
	ch, err := a.grantedChannel(r, sess, catalogview.RightPlayback)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	start, end, err := svcapi.ParseRange(q.Get("start"), q.Get("end"))
	if err != nil {
		return err
	}
	if err := checkRange(start, end); err != nil {
		return err
	}
	source := q.Get("source")
	switch source {
	case "":
		source = sourcePlatform
	case sourcePlatform, sourceDevice:
	default:
		return badRequest("source must be platform or device, got %q", source)
	}
	err = a.audit(r, sess, "recordings", ch.ID, map[string]any{
		"source": source, "start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return err
	}
	out := timelineJSON{Source: source, Segments: []spanJSON{}, Gaps: []gapJSON{}}
	if source == sourceDevice {
		recs, err := a.Sip.Records(r.Context(), ch.DeviceID, ch.ID, start, end)
		if err != nil {
			return err
		}
		out.Segments, out.Partial = deviceSpans(recs.Items, start, end), recs.Partial
		svcapi.WriteJSON(w, http.StatusOK, out)
		return nil
	}
	tl, err := recordingdb.New(a.Store.Store).Timeline(r.Context(), ch.ID, start, end)
	if err != nil {
		return err
	}
	out.Segments, out.Gaps = timelineJSONOf(tl)
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// timelineJSONOf is the platform's timeline as the API shows it (empty
// lists, never null).
func timelineJSONOf(tl recordingdb.Timeline) ([]spanJSON, []gapJSON) {
	spans, gaps := make([]spanJSON, 0, len(tl.Segments)), make([]gapJSON, 0, len(tl.Gaps))
	for _, s := range tl.Segments {
		spans = append(spans, spanJSON{Start: s.Start, End: s.End})
	}
	for _, g := range tl.Gaps {
		gaps = append(gaps, gapJSON{Start: g.Start, End: g.End, Cause: string(g.Cause), Detail: redactTokens(g.Detail)})
	}
	return spans, gaps
}

// deviceSpans are a device's records as a timeline's spans: clipped to
// [start, end), in order, merged where they overlap or touch (a device
// lists a time recording and the alarm recording inside it both), as the
// platform's segments are.
func deviceSpans(recs []sipapi.Record, start, end time.Time) []spanJSON {
	out := make([]spanJSON, 0, len(recs))
	for _, rec := range recs {
		s, e := maxTime(rec.Start, start), minTime(rec.End, end)
		if e.After(s) {
			out = append(out, spanJSON{Start: s, End: e})
		}
	}
	slices.SortFunc(out, func(x, y spanJSON) int { return x.Start.Compare(y.Start) })
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && !s.Start.After(merged[n-1].End.Add(recordingdb.MergeWithin)) {
			merged[n-1].End = maxTime(merged[n-1].End, s.End)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// tokenParam is a token in a URL's query, as an error naming a stream URL
// may carry it.
var tokenParam = regexp.MustCompile(`token=[A-Za-z0-9._~%-]+`)

// redactTokens hides the tokens a gap's detail may quote: the recorder's
// own play token opens every live stream.
func redactTokens(s string) string { return tokenParam.ReplaceAllString(s, "token=REDACTED") }
