// Package consoledb is the console's database: the only code that writes the
// aggregates the console owns — users, user sessions, authentication
// failures and the audit log. Catalog reads come from the shared read model
// (catalogview), which DB embeds. Only internal/console may import it outside
// tests (internal/archtest checks).
package consoledb

import (
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
)

// DB is the console's access to the database: its writes, plus the read
// model and the shared base (Pool, Listen, Ping, Close) through the embedded
// View.
type DB struct {
	*catalogview.View
}

// New returns the console's database over st.
func New(st *store.Store) *DB { return &DB{View: catalogview.New(st)} }
