package auth

import "time"

// SetClock makes s read the time from now.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// KeyCacheTTL is how long a key's principal is remembered.
const KeyCacheTTL = keyCacheTTL
