// Package sipdb is the sipserver's database: the only code that writes the
// aggregates the sipserver owns — devices, channels (catalog), the device
// status log, alarms, mobile positions, registrations and keepalives, and
// stream sessions — and reads the ones only it reads. Catalog reads come
// from the shared read model (catalogview), which DB embeds. Only
// internal/sipserver (and cmd/sipserver) may import it outside tests
// (internal/archtest checks).
package sipdb

import (
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
)

// DB is the sipserver's access to the database: its writes, plus the read
// model and the shared base (Pool, Listen, Ping, Close) through the embedded
// View.
type DB struct {
	*catalogview.View
}

// New returns the sipserver's database over st.
func New(st *store.Store) *DB { return &DB{View: catalogview.New(st)} }
