package repair

import (
	"context"
	"fmt"

	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// DB is the recordings index with the one write repair needs that
// recordingdb does not have yet: removing an open segment's row
// (recordingdb.DeleteSegments removes only rows the sweeper marked). It
// belongs in recordingdb; until it is there it lives here.
type DB struct{ *recordingdb.DB }

// DeleteSegment removes the row of open segment id; a row closed meanwhile
// or gone already is left alone.
func (d DB) DeleteSegment(ctx context.Context, id int64) error {
	if _, err := d.Pool.Exec(ctx, `DELETE FROM recordings WHERE id = $1 AND open`, id); err != nil {
		return fmt.Errorf("delete segment %d: %w", id, err)
	}
	return nil
}
