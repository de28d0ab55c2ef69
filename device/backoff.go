package device

import "time"

// Back-off bounds of DefaultBackoff.
const (
	MinBackoff = 100 * time.Millisecond
	MaxBackoff = 5 * time.Second
)

// DefaultBackoff returns the wait before retry number attempt (1, 2, …)
// after consecutive reader failures: 100 ms, doubling, at most 5 s.
func DefaultBackoff(attempt int) time.Duration {
	d := MinBackoff
	for i := 1; i < attempt && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}
