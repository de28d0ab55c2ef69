package tagd

import (
	"sync"
	"time"
)

// ReaderState is what the reader reports to the kiosk.
type ReaderState string

// Reader states.
const (
	ReaderStarting ReaderState = "starting" // looking for the reader
	ReaderReady    ReaderState = "ready"    // reader present, no tag in the field
	ReaderTag      ReaderState = "tag"      // a tag is in the field
	ReaderAbsent   ReaderState = "absent"   // no reader (unplugged, pcscd gone)
	ReaderError    ReaderState = "error"    // the reader fails; retrying
	ReaderNone     ReaderState = "none"     // no reader configured
)

// ReaderStatus is the observable state of a reader.
type ReaderStatus struct {
	Reader  string      `json:"reader"`
	State   ReaderState `json:"state"`
	Detail  string      `json:"detail,omitempty"`
	LastTap time.Time   `json:"last_tap,omitzero"`
	Since   time.Time   `json:"since"`
}

// EventKind names an event on the stream.
type EventKind string

// Event kinds.
const (
	EventTap    EventKind = "tap"
	EventReader EventKind = "reader"
)

// Event is one item of the in-process event stream the kiosk subscribes
// to: a verdict or a change of reader status.
type Event struct {
	Kind   EventKind     `json:"kind"`
	Time   time.Time     `json:"time"`
	Result *Result       `json:"-"`
	Reader *ReaderStatus `json:"reader,omitempty"`
}

// Events is a broadcaster of Events. Publish never blocks: a subscriber
// whose buffer is full misses events (and is told by its Dropped count),
// so a slow kiosk never slows the reader loop.
type Events struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
	last map[string]ReaderStatus // latest status per reader, for new subscribers
}

// Subscription receives events until it is closed.
type Subscription struct {
	C       <-chan Event
	c       chan Event
	e       *Events
	dropped uint64
}

// Subscribe returns a subscription with a buffer of n events; it first
// receives the latest status of every reader.
func (e *Events) Subscribe(n int) *Subscription {
	s := &Subscription{c: make(chan Event, n), e: e}
	s.C = s.c
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.subs == nil {
		e.subs = map[*Subscription]struct{}{}
	}
	e.subs[s] = struct{}{}
	for _, st := range e.last {
		st := st
		select {
		case s.c <- Event{Kind: EventReader, Time: st.Since, Reader: &st}:
		default:
		}
	}
	return s
}

// Close ends the subscription and closes its channel.
func (s *Subscription) Close() {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if _, ok := s.e.subs[s]; ok {
		delete(s.e.subs, s)
		close(s.c)
	}
}

// Dropped returns how many events the subscription missed.
func (s *Subscription) Dropped() uint64 {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	return s.dropped
}

// Publish sends ev to every subscriber that has room for it.
func (e *Events) Publish(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev.Kind == EventReader && ev.Reader != nil {
		if e.last == nil {
			e.last = map[string]ReaderStatus{}
		}
		e.last[ev.Reader.Reader] = *ev.Reader
	}
	for s := range e.subs {
		select {
		case s.c <- ev:
		default:
			s.dropped++
		}
	}
}

// Readers returns the latest status of every reader.
func (e *Events) Readers() []ReaderStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]ReaderStatus, 0, len(e.last))
	for _, st := range e.last {
		out = append(out, st)
	}
	return out
}
