// Package recordingdb is the recorder's database: the only code that writes
// the segment index (recordings), the gaps (recording_gaps) and the
// recorder nodes and their channel leases, and the one reader of the
// record plans as they apply to each channel (effective_record_plans). The
// console reads the timeline through it too; record_plans themselves are
// written by the console (consoledb).
package recordingdb

import "github.com/sharpeyes/sharpeyes/internal/store"

// DB is the recorder's access to the database.
type DB struct {
	*store.Store
}

// New returns the recorder's database over st.
func New(st *store.Store) *DB { return &DB{Store: st} }
