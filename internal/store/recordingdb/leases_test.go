package recordingdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

func TestLeases(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	const ttl = 15 * time.Second
	for _, n := range []string{"a", "b"} {
		if err := db.Heartbeat(ctx, recordingdb.Beat{Node: n, URL: "http://" + n, Retention: standard}); err != nil {
			t.Fatal(err)
		}
	}
	nodes, err := db.LiveNodes(ctx, ttl)
	if err != nil || len(nodes) != 2 || nodes[0].Node != "a" || nodes[1].URL != "http://b" {
		t.Fatalf("live nodes %+v, %v", nodes, err)
	}
	chans := []string{"c1", "c2", "c3", "c4"}
	// A repeated candidate is one channel.
	a, err := db.AcquireLeases(ctx, "a", append([]string{"c1"}, chans...), 2, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 2 || a[0].ChannelID != "c1" || a[1].ChannelID != "c2" || a[0].PreviousNode != "" {
		t.Fatalf("a took %+v", a)
	}
	// a is at its share: nothing more.
	if more, err := db.AcquireLeases(ctx, "a", chans, 2, ttl); err != nil || len(more) != 0 {
		t.Fatalf("a took more: %+v, %v", more, err)
	}
	b, err := db.AcquireLeases(ctx, "b", chans, 4, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(b); !slices.Equal(got, []string{"c3", "c4"}) {
		t.Fatalf("b took %v", got)
	}

	// a's leases expire (its clock is the database's: move them back).
	if _, err := db.Pool.Exec(ctx, `UPDATE recorder_leases SET expires_at = now() - interval '1 second' WHERE node = 'a'`); err != nil {
		t.Fatal(err)
	}
	b2, err := db.AcquireLeases(ctx, "b", chans, 4, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(b2); !slices.Equal(got, []string{"c1", "c2"}) || b2[0].PreviousNode != "a" {
		t.Fatalf("b took over %+v", b2)
	}
	held, err := db.RenewLeases(ctx, "a", ttl)
	if err != nil || len(held) != 0 {
		t.Fatalf("a still holds %v, %v", held, err)
	}
	held, err = db.RenewLeases(ctx, "b", ttl)
	if err != nil || !slices.Equal(held, chans) {
		t.Fatalf("b holds %v, %v", held, err)
	}
	if err := db.ReleaseLeases(ctx, "a", chans); err != nil {
		t.Fatal(err)
	}
	if err := db.ReleaseLeases(ctx, "b", []string{"c4"}); err != nil {
		t.Fatal(err)
	}
	a, err = db.AcquireLeases(ctx, "a", chans, 2, ttl)
	if err != nil || len(a) != 1 || a[0].ChannelID != "c4" || a[0].PreviousNode != "" {
		t.Fatalf("a took %+v, %v", a, err)
	}
}

// standard is the recorder's default retention.
var standard = recordingdb.Retention{StandardDays: 30, KeyDays: 90}

// The nodes publish their retention with their heartbeat; the live ones'
// is the most recent heartbeat's, and a restart moves started_at.
func TestLiveRetention(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	const ttl = 15 * time.Second
	if _, ok, err := db.LiveRetention(ctx, ttl); ok || err != nil {
		t.Fatalf("no node: live retention %v, %v", ok, err)
	}
	capped := recordingdb.Retention{StandardDays: 1, KeyDays: 2, Limit: 2 * time.Hour}
	for _, b := range []recordingdb.Beat{
		{Node: "a", Retention: standard, Started: true},
		{Node: "b", Retention: capped, Started: true},
	} {
		if err := db.Heartbeat(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// a beat last; then it stops beating.
	exec(t, db, `UPDATE recorder_nodes SET heartbeat_at = now() - interval '1 second' WHERE node = 'b'`)
	if r, ok, err := db.LiveRetention(ctx, ttl); !ok || err != nil || r != standard {
		t.Fatalf("a beat last: %+v, %v, %v", r, ok, err)
	}
	exec(t, db, `UPDATE recorder_nodes SET heartbeat_at = now() - $1::interval WHERE node = 'a'`, 2*ttl)
	if r, ok, err := db.LiveRetention(ctx, ttl); !ok || err != nil || r != capped {
		t.Fatalf("only b live: %+v, %v, %v", r, ok, err)
	}
	nodes, err := db.LiveNodes(ctx, ttl)
	if err != nil || len(nodes) != 1 || nodes[0].Retention != capped {
		t.Fatalf("live nodes %+v, %v", nodes, err)
	}

	// A restart (a Started beat) moves started_at; a plain beat does not.
	exec(t, db, `UPDATE recorder_nodes SET started_at = now() - interval '1 day'`)
	for _, b := range []recordingdb.Beat{
		{Node: "a", Retention: standard, Started: true},
		{Node: "b", Retention: capped},
	} {
		if err := db.Heartbeat(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	var restarted, kept bool
	if err := db.Pool.QueryRow(ctx, `SELECT
    (SELECT started_at > now() - interval '1 hour' FROM recorder_nodes WHERE node = 'a'),
    (SELECT started_at < now() - interval '1 hour' FROM recorder_nodes WHERE node = 'b')`).Scan(&restarted, &kept); err != nil {
		t.Fatal(err)
	}
	if !restarted || !kept {
		t.Fatalf("started_at: restarted node moved %v, running node kept %v", restarted, kept)
	}
	for _, bad := range []recordingdb.Beat{
		{Retention: standard},
		{Node: "a"},
		{Node: "a", Retention: recordingdb.Retention{StandardDays: 1, KeyDays: 1, Limit: -time.Hour}},
	} {
		if err := db.Heartbeat(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("heartbeat %+v: %v", bad, err)
		}
	}
}

func ids(ls []recordingdb.Lease) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ChannelID)
	}
	return out
}

// Two nodes taking the same expired and free channels at once never both
// get one.
func TestLeasesRace(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	var chans []string
	for i := range 200 {
		chans = append(chans, fmt.Sprintf("c%03d", i))
	}
	// Half were held by a dead node.
	exec(t, db, `INSERT INTO recorder_leases (channel_id, node, expires_at)
SELECT c, 'dead', now() - interval '1 minute' FROM unnest($1::text[]) AS c`, chans[:100])
	nodes := []string{"a", "b", "c"}
	got := make([][]recordingdb.Lease, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = db.AcquireLeases(ctx, n, chans, len(chans), time.Minute)
		}()
	}
	wg.Wait()
	owner := map[string]string{}
	for i, ls := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, l := range ls {
			if o, ok := owner[l.ChannelID]; ok {
				t.Fatalf("%s taken by %s and %s", l.ChannelID, o, nodes[i])
			}
			owner[l.ChannelID] = nodes[i]
		}
	}
	var rows int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM recorder_leases WHERE node <> 'dead'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(owner) {
		t.Fatalf("%d leases held, %d reported taken", rows, len(owner))
	}
}

// TestRecorders: every node with its liveness and stored capacity state;
// SetCapacity refuses what is not a JSON object.
func TestRecorders(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	for _, n := range []string{"b", "a"} {
		if err := db.Heartbeat(ctx, recordingdb.Beat{Node: n, URL: "http://" + n, Retention: recordingdb.Retention{
			StandardDays: 30, KeyDays: 90, Limit: time.Hour,
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE recorder_nodes SET heartbeat_at = now() - interval '2 minutes'
WHERE node = 'b'`); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCapacity(ctx, "a", json.RawMessage(`{"alarm":true}`), ""); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCapacity(ctx, "gone", json.RawMessage(`{"alarm":true}`), ""); err != nil {
		t.Fatalf("a node without a row: %v", err)
	}
	for _, bad := range []string{``, `[]`, `{`, `1`} {
		if err := db.SetCapacity(ctx, "a", json.RawMessage(bad), ""); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("state %q: %v", bad, err)
		}
	}
	recs, err := db.Recorders(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Node.Node != "a" || !recs[0].Live || recs[1].Live ||
		string(recs[0].Capacity) != `{"alarm": true}` || recs[1].Capacity != nil ||
		recs[0].Retention.Limit != time.Hour || recs[0].URL != "http://a" {
		t.Fatalf("recorders %+v", recs)
	}
}
