package scheduler

import "context"

// DB is the part of the recorder's index the scheduler uses
// (recordingdb.DB). The methods follow recordingdb as it lands.
type DB interface {
	// Heartbeat records that node is alive and serves at url.
	Heartbeat(ctx context.Context, node, url string) error
}
