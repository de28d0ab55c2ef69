package httpapi

import (
	"math"
	"sync"
	"time"
)

// Defaults of KeyRate.
const (
	// DefaultKeyRatePerSecond is the sustained request rate of one API key.
	DefaultKeyRatePerSecond = 10
	// DefaultKeyBurst is how many requests one API key may send at once.
	DefaultKeyBurst = 20
)

// KeyRate is the token bucket of each API key: Burst tokens at most, one
// spent per request, refilled at PerSecond tokens a second. Zero fields
// take the defaults.
type KeyRate struct {
	PerSecond float64
	Burst     int
}

// withDefaults fills in zero (or negative) fields.
func (r KeyRate) withDefaults() KeyRate {
	if !(r.PerSecond > 0) || math.IsInf(r.PerSecond, 0) {
		r.PerSecond = DefaultKeyRatePerSecond
	}
	if r.Burst <= 0 {
		r.Burst = DefaultKeyBurst
	}
	return r
}

// sweepEvery is how many takes pass between two sweeps of idle buckets.
const sweepEvery = 1024

// limiter holds one token bucket per API key id. Buckets exist only for
// keys that authenticated (an unknown or forged key never gets one, so the
// map is bounded by the keys in the store); full buckets are swept now and
// then, so that deleted keys do not stay forever. The clock is the
// caller's: the limiter never reads the time itself.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	takes   int
}

// bucket is one key's tokens as of at.
type bucket struct {
	tokens float64
	at     time.Time
}

// refill adds the tokens earned since b.at. A clock that went backwards
// earns nothing (and b.at stays, so the lost time is not earned twice).
func (b *bucket) refill(r KeyRate, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = math.Min(float64(r.Burst), b.tokens+d.Seconds()*r.PerSecond)
		b.at = now
	}
}

// take spends a token of key id at now. When none is left it reports how
// long until one is.
func (l *limiter) take(id string, r KeyRate, now time.Time) (ok bool, wait time.Duration) {
	r = r.withDefaults()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[string]*bucket)
	}
	if l.takes++; l.takes >= sweepEvery {
		l.takes = 0
		l.sweep(r, now)
	}
	b := l.buckets[id]
	if b == nil {
		b = &bucket{tokens: float64(r.Burst), at: now}
		l.buckets[id] = b
	}
	b.refill(r, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration(math.Ceil((1 - b.tokens) / r.PerSecond * float64(time.Second)))
}

// sweep drops the buckets that have refilled completely: forgetting them
// changes nothing, since a new bucket starts full.
func (l *limiter) sweep(r KeyRate, now time.Time) {
	for id, b := range l.buckets {
		b.refill(r, now)
		if b.tokens >= float64(r.Burst) {
			delete(l.buckets, id)
		}
	}
}

// size returns the number of buckets held.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// retryAfter is the Retry-After value of a wait: whole seconds, rounded
// up, at least 1.
func retryAfter(wait time.Duration) int {
	s := int(math.Ceil(wait.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}
