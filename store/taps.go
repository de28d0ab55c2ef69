package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
)

// RecordTap atomically records a tap of tag t.XUID and returns the stored
// scan and the tag as updated. The tap is a replay when both it and the
// tag have a counter and t.Counter is not greater than the tag's
// LastCounter. An authenticated tap that is not a replay stores its
// counter as the tag's LastCounter and ChipCount; an unauthenticated tap
// with a counter on a standard tag updates ChipCount only. Every tap
// increments ScanCount and appends one scan: t.Render's result (t.Scan
// when Render is nil) with Seq, XUID, AID and ScanCount set by the store,
// UID set to the tag's when empty, and Time set to now when zero.
//
// The tap is durable before RecordTap returns: its record is fsynced in the
// journal (journal.go), one sync for all the taps that queue meanwhile.
// Render runs once, with the journal's lock held: it must be quick and
// must not call the store.
// It is CodeNotFound with Field "xuid" when the tag does not exist.
func (db *DB) RecordTap(ctx context.Context, t tagd.Tap) (tagd.Scan, *tagd.Tag, error) {
	if !validXUID(t.XUID) {
		return tagd.Scan{}, nil, tagd.NotFound("xuid", "tag %q not found", t.XUID)
	}
	if err := ctx.Err(); err != nil {
		return tagd.Scan{}, nil, err
	}
	now := db.now()
	j := &db.j
	// Read the tag (and whether its group is standard) before taking the
	// journal's lock; its counters are taken under the lock from the
	// overlay, or from this read when nothing changed them since.
	epoch := db.live.current()
	cur, standard, err := db.tapTag(ctx, t.XUID)
	if err != nil {
		return tagd.Scan{}, nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return tagd.Scan{}, nil, j.err
	}
	if db.live.current() != epoch {
		// the store was written meanwhile: read again
		if cur, standard, err = db.tapTag(ctx, t.XUID); err != nil {
			return tagd.Scan{}, nil, err
		}
	}
	st, ok := db.live.state(t.XUID)
	if !ok {
		st = stateOf(cur)
	}
	replay := t.HasCounter && st.HasCounter && t.Counter <= st.LastCounter
	switch {
	case t.Authenticated && !replay && t.HasCounter:
		st.LastCounter, st.HasCounter = t.Counter, true
		st.ChipCount = uint64(t.Counter)
	case !t.Authenticated && t.HasCounter && standard:
		st.ChipCount = uint64(t.Counter)
	}
	st.ScanCount++
	st.apply(cur)
	s := t.Scan
	if t.Render != nil {
		s = t.Render(cloneTag(cur), replay)
	}
	s.Seq, s.XUID, s.AID, s.ScanCount = j.seq+1, cur.XUID, cur.AID, cur.ScanCount
	if s.UID == "" {
		s.UID = cur.UID
	}
	if s.Time.IsZero() {
		s.Time = now
	}
	data, err := encode(&s)
	if err != nil {
		return tagd.Scan{}, nil, err
	}
	j.seq++
	j.appendRecord(&journalRecord{kind: recTap, xuid: cur.XUID, state: st, seq: s.Seq, scan: data})
	j.scans = append(j.scans, pendingScan{seq: s.Seq, data: data})
	j.pending.Store(int64(len(j.scans)))
	j.dirty[cur.XUID] = st
	db.live.setState(cur.XUID, st)
	if err := db.commit(j.gen); err != nil {
		return tagd.Scan{}, nil, err
	}
	return s, cur, nil
}

// tapTag reads tag xuid for a tap (its counters may be behind the live
// state), and whether its group is standard.
func (db *DB) tapTag(ctx context.Context, xuid string) (t *tagd.Tag, standard bool, err error) {
	v, err := db.FindTag(ctx, tagd.Lookup{XUID: xuid})
	if err != nil {
		return nil, false, err
	}
	return &v.Tag, v.Group.Type == tagd.GroupStandard, nil
}
