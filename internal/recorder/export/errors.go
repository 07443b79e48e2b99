package export

import "errors"

// ErrNoRecordings fails a platform export whose range holds no segment.
var ErrNoRecordings = errors.New("export: no recording in the range")

// ErrCodecChanged fails a platform export whose segments change video
// codec or track layout in the range: one MP4 holds one of each.
var ErrCodecChanged = errors.New("export: the video codec changes in the range")

// ErrNoDevice fails a device export on a node without sipserver or mediagw
// configured.
var ErrNoDevice = errors.New("export: device exports are not configured on this node")

// ErrStopped ends a job that was deleted (or requeued) while it ran.
var ErrStopped = errors.New("export: stopped")
