package auth

// HoldSlot takes a hashing slot until release is called: tests use it to
// line logins up behind one another.
func (s *Service) HoldSlot() (release func()) {
	s.sem <- struct{}{}
	return s.release
}
