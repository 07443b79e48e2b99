package auth

// HoldSlot takes a hashing slot until release is called: tests use it to
// line logins up behind one another.
func (s *Service) HoldSlot() (release func()) {
	s.sem <- struct{}{}
	return s.release
}

// TrySlot reports whether a hashing slot is free, and leaves it free.
func (s *Service) TrySlot() bool {
	select {
	case s.sem <- struct{}{}:
		s.release()
		return true
	default:
		return false
	}
}
