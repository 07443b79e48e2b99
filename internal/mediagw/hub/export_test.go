package hub

// CheckIdle runs one idle check now, so tests need not wait for the ticker.
func (h *Hub) CheckIdle() { h.checkIdle() }
