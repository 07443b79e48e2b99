// Package recorderapi is the contract of the recorder's internal API for
// exports (/internal/v1/exports, docs/recorder.md): its request and answer
// types, its machine codes and the Client the console calls it with. The
// recorder's handlers (internal/recorder/export) answer with these types,
// so the two sides cannot drift; the JSON field names are the API's.
package recorderapi

import (
	"net/url"
	"time"
)

// Route paths of the calls.
const (
	// PathExports is where jobs are created (POST).
	PathExports = "/internal/v1/exports"
)

// ExportPath is the route of one job.
func ExportPath(id string) string { return PathExports + "/" + url.PathEscape(id) }

// ExportFilePath is the route of one job's file.
func ExportFilePath(id string) string { return ExportPath(id) + "/file" }

// Sources of an export.
const (
	// SourcePlatform cuts the file from the platform's own recordings.
	SourcePlatform = "platform"
	// SourceDevice fetches it from the device's own records (a download
	// session through sipserver and mediagw), at the device's pace.
	SourceDevice = "device"
)

// States of a job.
const (
	StateQueued  = "queued"
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
	// StateExpired: the file was deleted (its TTL passed, or DELETE).
	StateExpired = "expired"
)

// MaxRange is the longest range one export covers.
const MaxRange = 24 * time.Hour

// ExportRequest is the body of POST /internal/v1/exports. The console has
// checked the owner's right to the channel: the recorder trusts the
// service token, not the owner.
type ExportRequest struct {
	// Owner is the username the job belongs to.
	Owner string `json:"owner"`
	// ChannelID is the 20-digit channel.
	ChannelID string `json:"channel_id"`
	// Source is SourcePlatform or SourceDevice.
	Source string `json:"source"`
	// Start and End are the range, End after Start, at most MaxRange.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Export is a job as the API (and the console) shows it.
type Export struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Progress runs from 0 to 1.
	Progress float64 `json:"progress"`
	// Bytes is the file's size so far.
	Bytes int64 `json:"bytes"`
	// Error says why a failed job failed.
	Error     string    `json:"error,omitempty"`
	ChannelID string    `json:"channel_id"`
	Source    string    `json:"source"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	CreatedAt time.Time `json:"created_at"`
	// FinishedAt is set once the job is done or failed.
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// ExpiresAt is when the file is deleted (set when the job finishes).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Owner     string     `json:"owner"`
}

// FileName is the name offered when the file is saved:
// <channel>_<YYYYMMDDTHHMMSS>.mp4, the start in loc.
func (e Export) FileName(loc *time.Location) string {
	return e.ChannelID + "_" + e.Start.In(loc).Format("20060102T150405") + ".mp4"
}
