package console

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// builtinRetention is the retention of channels no plan gives one when no
// recorder is live to say its own (recorder.retention, retention_key and
// retention_limit at their defaults).
var builtinRetention = recordingdb.Retention{StandardDays: 30, KeyDays: 90}

// recorderLiveWithin is how recent a recorder node's heartbeat must be for
// its retention to count: a node heartbeats every lease_ttl/3 (5 s at the
// default ttl), so a minute spans a busy node's late rounds and a
// restart, and forgets a node that was stopped.
const recorderLiveWithin = time.Minute

// Where the retention defaults of an answer come from.
const (
	retentionFromRecorder = "recorder"
	retentionFromBuiltin  = "builtin"
)

// retentionJSON is the retention the recorders apply to channels no plan
// gives one, and the cap on every segment's life.
type retentionJSON struct {
	StandardDays int `json:"standard_days"`
	KeyDays      int `json:"key_days"`
	// LimitSeconds caps every segment's life below its days
	// (recorder.retention_limit); 0 is none.
	LimitSeconds int64 `json:"limit_seconds"`
	// From is "recorder" (a live recorder's configuration) or "builtin"
	// (none is live: the recorder's default configuration).
	From string `json:"from"`
}

// retention answers the retention the live recorders apply, or the built-in
// one when none is live.
func (a *API) retention(r *http.Request) (recordingdb.Retention, string, error) {
	ret, live, err := recordingdb.New(a.Store.Store).LiveRetention(r.Context(), recorderLiveWithin)
	if err != nil {
		return recordingdb.Retention{}, "", err
	}
	if !live {
		return builtinRetention, retentionFromBuiltin, nil
	}
	return ret, retentionFromRecorder, nil
}

// planJSON is a record plan as the API shows it.
type planJSON struct {
	Kind          string               `json:"kind"`
	Target        string               `json:"target"`
	Mode          recordingdb.Mode     `json:"mode"`
	Schedule      recordingdb.Schedule `json:"schedule"`
	RetentionDays *int                 `json:"retention_days"`
	UpdatedAt     time.Time            `json:"updated_at"`
	UpdatedBy     string               `json:"updated_by"`
}

func toPlanJSON(p consoledb.RecordPlan) planJSON {
	return planJSON{
		Kind: p.Kind, Target: p.Target, Mode: p.Mode, Schedule: p.Schedule, RetentionDays: p.RetentionDays,
		UpdatedAt: p.UpdatedAt, UpdatedBy: p.UpdatedBy,
	}
}

// planBody is the body of PUT /record-plans/{kind}/{target}.
type planBody struct {
	Mode recordingdb.Mode `json:"mode"`
	// Schedule is parsed by recordingdb.ParseSchedule, for its errors.
	Schedule      json.RawMessage `json:"schedule"`
	RetentionDays *int            `json:"retention_days"`
}

// planListJSON is the answer of GET /record-plans: the plans, and the
// retention a channel no plan gives one gets (the plan editor's hint).
type planListJSON struct {
	Items     []planJSON    `json:"items"`
	Total     int           `json:"total"`
	Retention retentionJSON `json:"retention"`
}

// listRecordPlans lists every record plan; admins only (a plan is about
// cameras beyond any one department's slice).
func (a *API) listRecordPlans(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, "record-plans"); err != nil {
		return err
	}
	plans, err := a.Store.RecordPlans(r.Context())
	if err != nil {
		return err
	}
	ret, from, err := a.retention(r)
	if err != nil {
		return err
	}
	out := planListJSON{Items: make([]planJSON, 0, len(plans)), Total: len(plans), Retention: retentionJSON{
		StandardDays: ret.StandardDays, KeyDays: ret.KeyDays, LimitSeconds: int64(ret.Limit / time.Second), From: from,
	}}
	for _, p := range plans {
		out.Items = append(out.Items, toPlanJSON(p))
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// planTarget returns the {kind} and {target} of the path; the default
// plan's target is "-" there and "" in the table.
func planTarget(r *http.Request) (kind, target string, err error) {
	kind, target = r.PathValue("kind"), r.PathValue("target")
	switch {
	case kind == recordingdb.KindDefault && target == "-":
		return kind, "", nil
	case kind == recordingdb.KindDefault:
		return "", "", badRequest("the default plan's target is -")
	case target == "-":
		return "", "", badRequest("a %s plan needs a target", kind)
	}
	return kind, target, nil
}

// putRecordPlan writes the record plan of a target; admins only, audited
// (record_plan) with the plan before and after.
func (a *API) putRecordPlan(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, r.PathValue("kind")+"/"+r.PathValue("target")); err != nil {
		return err
	}
	kind, target, err := planTarget(r)
	if err != nil {
		return err
	}
	var in planBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	sched, err := recordingdb.ParseSchedule(in.Schedule)
	if err != nil {
		return badRequest("schedule: %v", err)
	}
	before, after, err := a.Store.PutRecordPlan(r.Context(), consoledb.RecordPlan{
		Kind: kind, Target: target, Mode: in.Mode, Schedule: sched, RetentionDays: in.RetentionDays,
	}, sess.User.Username)
	if err != nil {
		return err
	}
	detail := map[string]any{"kind": kind, "target": target, "after": toPlanJSON(after)}
	if before != nil {
		detail["before"] = toPlanJSON(*before)
	}
	a.note(r, sess, "record_plan", kind+"/"+target, detail)
	svcapi.WriteJSON(w, http.StatusOK, toPlanJSON(after))
	return nil
}

// deleteRecordPlan removes the record plan of a target (its cameras follow
// the next plan up); admins only, audited (record_plan_delete).
func (a *API) deleteRecordPlan(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if err := a.requireAdmin(r, sess, r.PathValue("kind")+"/"+r.PathValue("target")); err != nil {
		return err
	}
	kind, target, err := planTarget(r)
	if err != nil {
		return err
	}
	before, err := a.Store.DeleteRecordPlan(r.Context(), kind, target)
	if err != nil {
		return err
	}
	a.note(r, sess, "record_plan_delete", kind+"/"+target, map[string]any{
		"kind": kind, "target": target, "before": toPlanJSON(before),
	})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// effectivePlanJSON is the plan a channel is recorded by.
type effectivePlanJSON struct {
	ChannelID       string               `json:"channel_id"`
	Mode            recordingdb.Mode     `json:"mode"`
	Schedule        recordingdb.Schedule `json:"schedule"`
	RetentionDays   int                  `json:"retention_days"`
	Source          string               `json:"source"`
	SourceTarget    string               `json:"source_target"`
	RetentionSource string               `json:"retention_source"`
	RetentionTarget string               `json:"retention_target"`
	// RetentionLimitSeconds caps the segments' life below RetentionDays
	// (recorder.retention_limit); 0 is none.
	RetentionLimitSeconds int64 `json:"retention_limit_seconds"`
	// RetentionFrom says whose defaults a "builtin" retention is: a live
	// recorder's ("recorder") or, none being live, the built-in 30/90 days.
	RetentionFrom string `json:"retention_from"`
}

// effectiveRecordPlan answers the plan channel {id} is recorded by and the
// rows that decided, for anyone who sees the channel.
func (a *API) effectiveRecordPlan(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	ch, err := a.grantedChannel(r, sess, "")
	if err != nil {
		return err
	}
	ret, from, err := a.retention(r)
	if err != nil {
		return err
	}
	p, err := recordingdb.New(a.Store.Store).EffectivePlan(r.Context(), ch.ID, recordingdb.Defaults{
		StandardDays: ret.StandardDays, KeyDays: ret.KeyDays,
	})
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, effectivePlanJSON{
		ChannelID: p.ChannelID, Mode: p.Mode, Schedule: p.Schedule, RetentionDays: p.RetentionDays,
		Source: p.Source, SourceTarget: p.SourceTarget, RetentionSource: p.RetentionSource, RetentionTarget: p.RetentionTarget,
		RetentionLimitSeconds: int64(ret.Limit / time.Second), RetentionFrom: from,
	})
	return nil
}
