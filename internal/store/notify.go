package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notification channels (PostgreSQL LISTEN/NOTIFY) the store publishes change events on.
// Events are sent inside the transaction that makes the change, so listeners get them
// only once it commits.
const (
	// ChannelStatus carries a StatusEvent per applied online/offline transition.
	ChannelStatus = "sharpeyes_status"
	// ChannelCatalog carries a CatalogEvent per catalog change of a device.
	ChannelCatalog = "sharpeyes_catalog"
	// ChannelSession carries a SessionEvent per media session state change.
	ChannelSession = "sharpeyes_session"
	// ChannelRecordPlans carries, per statement that changes the record plans
	// or the ownership they follow, the name of the table changed (a trigger
	// in migration 00013 sends it, so the writers need not).
	ChannelRecordPlans = "sharpeyes_record_plans"
	// ChannelCascade carries, per statement that changes the superior
	// platforms or their grants, the name of the table changed (a trigger in
	// migration 00015 sends it).
	ChannelCascade = "sharpeyes_cascade"
	// ChannelListening is no database channel: Listen calls its fn with it
	// (and an empty payload) each time its connection listens, at the start
	// and after a reconnect. Notifications sent before that moment never
	// arrive, so a consumer that caches state reads it again then.
	ChannelListening = ""
)

// StatusEvent is the JSON payload on ChannelStatus.
type StatusEvent struct {
	DeviceID string `json:"device_id"`
	// ChannelID is empty when the device itself changed.
	ChannelID string    `json:"channel_id,omitempty"`
	Online    bool      `json:"online"`
	Cause     string    `json:"cause"`
	At        time.Time `json:"at"`
}

// CatalogEvent is the JSON payload on ChannelCatalog: how many channels of a device
// one catalog write added, updated and removed.
type CatalogEvent struct {
	DeviceID string `json:"device_id"`
	Added    int    `json:"added"`
	Updated  int    `json:"updated"`
	Removed  int    `json:"removed"`
}

// SessionEvent is the JSON payload on ChannelSession.
type SessionEvent struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	DeviceID  string `json:"device_id"`
	ChannelID string `json:"channel_id"`
	Path      string `json:"path"`
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"`
	// Owner is the console user who started a playback or download.
	Owner string    `json:"owner,omitempty"`
	At    time.Time `json:"at"`
}

// ListenerApplicationName is the application_name of Listen's sessions unless the
// database URL sets one.
const ListenerApplicationName = "sharpeyes listener"

// Backoff bounds of Listen's reconnects.
const (
	listenMinBackoff = 250 * time.Millisecond
	listenMaxBackoff = 15 * time.Second
)

// Listen calls fn for each notification on channels until ctx is done, then returns nil.
// It holds one connection of its own, outside the pool so that it never takes a slot
// the queries need, and reconnects with bounded backoff when that connection fails.
// PostgreSQL does not queue notifications for a listener that is away, so events sent
// before it listens, or while it reconnects, are lost: fn is called with
// ChannelListening each time the connection listens, and consumers that need
// every change re-read the state then.
// fn runs on Listen's goroutine; a slow fn delays the following notifications.
func (s *Store) Listen(ctx context.Context, channels []string, fn func(channel, payload string)) error {
	if len(channels) == 0 {
		return fmt.Errorf("listen: no channels: %w", ErrInvalid)
	}
	backoff := listenMinBackoff
	for {
		listening := false
		err := s.listen(ctx, channels, fn, func() { listening = true })
		select {
		case <-ctx.Done():
			return nil // err is the cancellation's
		default:
		}
		if listening {
			backoff = listenMinBackoff
		}
		s.logger().Warn("database listener failed; reconnecting", "channels", channels, "retry_in", backoff, "error", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listen runs one connection's worth of Listen and calls ready once it listens.
func (s *Store) listen(ctx context.Context, channels []string, fn func(channel, payload string), ready func()) error {
	cfg := s.Pool.Config().ConnConfig
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		// Names the session in pg_stat_activity, where an operator looks for it.
		cfg.RuntimeParams["application_name"] = ListenerApplicationName
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		// ctx may be done already; the goodbye to the server gets a moment of its own.
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	ready()
	fn(ChannelListening, "")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		fn(n.Channel, n.Payload)
	}
}

// Notify publishes v as JSON on channel within tx: change events are sent
// inside the writing transaction, so listeners get them only once it commits.
func Notify(ctx context.Context, tx pgx.Tx, channel string, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, string(payload)); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

func (s *Store) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}
