package export

import (
	"context"

	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
)

// platform remuxes the job's range from the recorded segments into the
// job's file and returns its size.
func (r *Runner) platform(ctx context.Context, j exportdb.Job, p *progress) (int64, error) {
	_ = ctx
	_ = p
	return 0, ErrNoRecordings
}
