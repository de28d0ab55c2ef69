package store

import (
	"sync"

	"github.com/tagd-nfc/tagd"
)

// live is what the check flow reads without a bbolt transaction: the tap
// state (counters) of every tag tapped since it was last cleared, newer
// than the bbolt file until the journal is folded, and the views (a tag
// with everything above it) that lookups found. Everything but a tap
// changes the store through DB.update, which clears both; a cleared live
// has a new epoch, so a reader that began before the clear does not put a
// stale view back.
type live struct {
	mu     sync.RWMutex
	epoch  uint64
	states map[string]tapState
	views  map[string]*tagd.TagView
}

// maxLive bounds the tags and views kept; beyond it, they are dropped.
const maxLive = 1 << 16

// current returns the epoch.
func (l *live) current() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epoch
}

// clear drops every state and view and starts a new epoch. The caller
// holds the journal's lock and has folded the journal, so the bbolt file
// has every state being dropped.
func (l *live) clear() {
	l.mu.Lock()
	clear(l.states)
	clear(l.views)
	l.epoch++
	l.mu.Unlock()
}

// state returns the latest tap state of tag xuid, if known.
func (l *live) state(xuid string) (tapState, bool) {
	l.mu.RLock()
	st, ok := l.states[xuid]
	l.mu.RUnlock()
	return st, ok
}

// setState records the state of tag xuid after a tap; the caller holds the
// journal's lock. (A fold drops the states when there are maxLive.)
func (l *live) setState(xuid string, st tapState) {
	l.mu.Lock()
	if l.states == nil {
		l.states = map[string]tapState{}
	}
	l.states[xuid] = st
	l.mu.Unlock()
}

// size returns the number of states kept.
func (l *live) size() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.states)
}

// view returns a copy of the view found under key, with its tag's latest
// tap state.
func (l *live) view(key string) (*tagd.TagView, bool) {
	l.mu.RLock()
	v, ok := l.views[key]
	var st tapState
	var has bool
	if ok {
		st, has = l.states[v.Tag.XUID]
	}
	l.mu.RUnlock()
	if !ok {
		return nil, false
	}
	c := *v
	if has {
		st.apply(&c.Tag)
	}
	return &c, true
}

// putView keeps a copy of v under key, unless the live state was cleared
// since epoch (v may then be stale).
func (l *live) putView(key string, v *tagd.TagView, epoch uint64) {
	c := *v
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epoch != epoch {
		return
	}
	if l.views == nil || len(l.views) >= maxLive {
		l.views = map[string]*tagd.TagView{}
	}
	l.views[key] = &c
}
