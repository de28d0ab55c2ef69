package httpapi

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiter checks the token bucket arithmetic against an explicit clock.
func TestLimiter(t *testing.T) {
	var l limiter
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r := KeyRate{PerSecond: 4, Burst: 2}
	for i := range 2 {
		if ok, _ := l.take("k", r, t0); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	ok, wait := l.take("k", r, t0)
	if ok || wait != 250*time.Millisecond {
		t.Fatalf("empty bucket: %v %v, want refused, 250ms", ok, wait)
	}
	if ok, wait := l.take("k", r, t0.Add(100*time.Millisecond)); ok || wait != 150*time.Millisecond {
		t.Fatalf("after 100ms: %v %v, want refused, 150ms", ok, wait)
	}
	if ok, _ := l.take("k", r, t0.Add(250*time.Millisecond)); !ok {
		t.Fatalf("after 250ms: refused")
	}
	// the bucket holds at most Burst tokens, however long the pause
	t1 := t0.Add(time.Hour)
	for i := range 3 {
		ok, _ := l.take("k", r, t1)
		if ok != (i < 2) {
			t.Fatalf("after an hour, take %d: %v", i, ok)
		}
	}
	// a clock going backwards earns nothing, and does not make the lost
	// time count twice
	if ok, _ := l.take("k", r, t1.Add(-time.Minute)); ok {
		t.Fatalf("backwards clock earned a token")
	}
	if ok, _ := l.take("k", r, t1.Add(250*time.Millisecond)); !ok {
		t.Fatalf("forward again: refused")
	}
	// other keys have their own buckets
	if ok, _ := l.take("other", r, t1); !ok {
		t.Fatalf("other key refused")
	}
}

// TestLimiterDefaults checks that zero and nonsense rates take the
// defaults.
func TestLimiterDefaults(t *testing.T) {
	for _, r := range []KeyRate{{}, {PerSecond: -1, Burst: -5}} {
		d := r.withDefaults()
		if d.PerSecond != DefaultKeyRatePerSecond || d.Burst != DefaultKeyBurst {
			t.Fatalf("%+v.withDefaults() = %+v", r, d)
		}
	}
	var l limiter
	t0 := time.Unix(0, 0)
	n := 0
	for {
		ok, wait := l.take("k", KeyRate{}, t0)
		if !ok {
			if wait != 100*time.Millisecond {
				t.Fatalf("wait %v at the default rate", wait)
			}
			break
		}
		n++
	}
	if n != DefaultKeyBurst {
		t.Fatalf("default burst %d, want %d", n, DefaultKeyBurst)
	}
}

// TestLimiterSweep checks that full buckets are forgotten, so that the
// map does not keep deleted keys.
func TestLimiterSweep(t *testing.T) {
	var l limiter
	r := KeyRate{PerSecond: 1, Burst: 1}
	t0 := time.Unix(1000, 0)
	for i := range sweepEvery - 1 {
		l.take(fmt.Sprint("k", i), r, t0)
	}
	if l.size() != sweepEvery-1 {
		t.Fatalf("%d buckets", l.size())
	}
	l.take("busy", r, t0.Add(time.Second)) // sweeps: everyone else is full again
	if l.size() != 1 {
		t.Fatalf("%d buckets after the sweep, want 1", l.size())
	}
}

// TestRetryAfter checks the rounding of Retry-After.
func TestRetryAfter(t *testing.T) {
	for wait, want := range map[time.Duration]int{0: 1, time.Nanosecond: 1, time.Second: 1, time.Second + 1: 2, 2500 * time.Millisecond: 3} {
		if got := retryAfter(wait); got != want {
			t.Errorf("retryAfter(%v) = %d, want %d", wait, got, want)
		}
	}
}

// TestStatusOfAPIKeyCodes pins the statuses of SPEC §7.
func TestStatusOfAPIKeyCodes(t *testing.T) {
	want := []int{400, 401, 401, 401, 401, 401, 401, 403, 403, 429}
	codes := APIKeyCodes()
	if len(codes) != len(want) {
		t.Fatalf("%d codes", len(codes))
	}
	for i, c := range codes {
		if got := statusOf(c); got != want[i] {
			t.Errorf("statusOf(%s) = %d, want %d", c, got, want[i])
		}
	}
}
