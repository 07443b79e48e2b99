// Package store is the shared base of the sharpeyes database: the pgx pool
// (Connect, Ping, Close), change events published with Notify inside the
// writing transaction and received with Listen (notify.go), the errors, the
// list helpers (Conds, ListPage), and the row types every package names.
//
// The schema is store/schema (one migration stream, one owner). Reads that
// several services share are the read model in store/catalogview; the
// writes of each aggregate live in the package of the service that owns it:
// store/sipdb (sipserver) and store/consoledb (console).
package store
