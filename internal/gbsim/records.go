package gbsim

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// recordDays is how far back the synthetic recordings go.
const recordDays = 3

// recordBitrate sizes the synthetic files, bits per second.
const recordBitrate = 2_000_000

// recordings returns the channel's synthetic recordings that overlap
// [start, end): hourly files over the last recordDays days, with gaps (a
// missing hour now and then, a few seconds between files), deterministic
// per channel so repeated queries agree.
func (c *channel) recordings(now, start, end time.Time, typ string) []manscdp.RecordItem {
	first := now.Add(-recordDays * 24 * time.Hour).Truncate(time.Hour)
	if start.Before(first) {
		start = first
	}
	if end.After(now) {
		end = now
	}
	var items []manscdp.RecordItem
	for h := start.Truncate(time.Hour); h.Before(end); h = h.Add(time.Hour) {
		r := hash64(c.id, h.Unix())
		if r%9 == 0 {
			continue // a gap: the camera was not recording that hour
		}
		fileType := manscdp.RecordTypeTime
		if r%13 == 0 {
			fileType = manscdp.RecordTypeAlarm
		}
		if typ != "" && typ != manscdp.RecordTypeAll && typ != fileType {
			continue
		}
		s := h.Add(time.Duration(r>>8%30) * time.Second)
		e := h.Add(time.Hour - time.Duration(r>>16%90)*time.Second)
		if e.After(now) {
			e = now
		}
		if !e.After(s) || !e.After(start) || !s.Before(end) {
			continue
		}
		items = append(items, manscdp.RecordItem{
			DeviceID:   c.id,
			Name:       c.name,
			FilePath:   fmt.Sprintf("/record/%s/%s.mp4", c.id, s.Format("20060102150405")),
			Address:    "安徽省芜湖市" + c.name,
			StartTime:  manscdp.NewTime(s),
			EndTime:    manscdp.NewTime(e),
			Secrecy:    0,
			Type:       fileType,
			RecorderID: c.dev.id,
			FileSize:   int64(e.Sub(s).Seconds() * recordBitrate / 8),
		})
	}
	return items
}

func hash64(s string, n int64) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	var b [8]byte
	for i := range b {
		b[i] = byte(n >> (8 * i))
	}
	_, _ = h.Write(b[:])
	return h.Sum64()
}
