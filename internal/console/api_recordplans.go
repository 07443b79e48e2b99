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

// retentionDefaults are the retentions of channels no plan gives one, as
// the recorder's defaults (recorder.retention, recorder.retention_key): the
// effective plan shows them for a "builtin" retention.
var retentionDefaults = recordingdb.Defaults{StandardDays: 30, KeyDays: 90}

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
	svcapi.WriteList(w, plans, len(plans), toPlanJSON)
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
}

// effectiveRecordPlan answers the plan channel {id} is recorded by and the
// rows that decided, for anyone who sees the channel.
func (a *API) effectiveRecordPlan(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	ch, err := a.grantedChannel(r, sess, "")
	if err != nil {
		return err
	}
	p, err := recordingdb.New(a.Store.Store).EffectivePlan(r.Context(), ch.ID, retentionDefaults)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, effectivePlanJSON{
		ChannelID: p.ChannelID, Mode: p.Mode, Schedule: p.Schedule, RetentionDays: p.RetentionDays,
		Source: p.Source, SourceTarget: p.SourceTarget, RetentionSource: p.RetentionSource, RetentionTarget: p.RetentionTarget,
	})
	return nil
}
