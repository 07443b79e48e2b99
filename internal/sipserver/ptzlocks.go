package sipserver

import (
	"errors"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/ptzlock"
)

// LockPTZ gives c the control of a camera's PTZ, or says who has it: the
// console's users and the superior platforms pass the same locks, so a
// platform's PTZ waits for a local operator of equal or higher priority
// and the other way round.
func (s *Server) LockPTZ(deviceID, channelID string, c sipapi.PTZController) sipapi.PTZLock {
	res, err := s.ptzLocks.Acquire(deviceID+"/"+channelID, ptzlock.User{ID: c.ID, Username: c.Name, Priority: c.Priority})
	var locked *ptzlock.LockedError
	if errors.As(err, &locked) {
		return sipapi.PTZLock{Holder: controllerOf(locked.Holder.User), Until: locked.Holder.Until.UTC()}
	}
	if err != nil {
		// A priority out of range: the callers check it first.
		return sipapi.PTZLock{Holder: c}
	}
	out := sipapi.PTZLock{Granted: true, Holder: c, Until: res.Holder.Until.UTC()}
	if res.TookOver != nil {
		from := controllerOf(res.TookOver.User)
		out.TookOver = &from
		s.Log.Info("PTZ control taken over", "channel", channelID, "controller", c.ID, "priority", c.Priority,
			"from", from.ID, "from_priority", from.Priority)
	}
	return out
}

func controllerOf(u ptzlock.User) sipapi.PTZController {
	return sipapi.PTZController{ID: u.ID, Name: u.Username, Priority: u.Priority}
}
