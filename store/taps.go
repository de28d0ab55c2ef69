package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
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
// The write is fsynced before RecordTap returns; concurrent taps share
// commits. Render may run more than once and must not have side effects.
// It is CodeNotFound with Field "xuid" when the tag does not exist.
func (db *DB) RecordTap(ctx context.Context, t tagd.Tap) (tagd.Scan, *tagd.Tag, error) {
	if !validXUID(t.XUID) {
		return tagd.Scan{}, nil, tagd.NotFound("xuid", "tag %q not found", t.XUID)
	}
	now := db.now()
	var (
		scan tagd.Scan
		tag  *tagd.Tag
		// miss is the error found while reading, before any write: it is
		// returned by RecordTap, not by the transaction function, so that
		// a tap of a missing tag does not abort a shared batch.
		miss error
	)
	err := db.groupCommit(ctx, func(tx *bolt.Tx) error {
		scan, tag, miss = tagd.Scan{}, nil, nil // this may be a rerun
		cur, err := getTag(tx, t.XUID)
		if err != nil {
			miss = err
			return nil
		}
		replay := t.HasCounter && cur.HasCounter && t.Counter <= cur.LastCounter
		switch {
		case t.Authenticated && !replay && t.HasCounter:
			cur.LastCounter, cur.HasCounter = t.Counter, true
			cur.ChipCount = uint64(t.Counter)
		case !t.Authenticated && t.HasCounter:
			standard, err := standardTag(tx, cur)
			if err != nil {
				miss = err
				return nil
			}
			if standard {
				cur.ChipCount = uint64(t.Counter)
			}
		}
		cur.ScanCount++
		s := t.Scan
		if t.Render != nil {
			s = t.Render(cloneTag(cur), replay)
		}
		seq, err := bkt(tx, bucketScans).NextSequence()
		if err != nil {
			return err
		}
		s.Seq, s.XUID, s.AID, s.ScanCount = seq, cur.XUID, cur.AID, cur.ScanCount
		if s.UID == "" {
			s.UID = cur.UID
		}
		if s.Time.IsZero() {
			s.Time = now
		}
		if err := put(tx, bucketTags, cur.XUID, cur); err != nil {
			return err
		}
		if err := db.putScan(tx, &s); err != nil {
			return err
		}
		scan, tag = s, cur
		return nil
	})
	if err == nil {
		err = wrap(miss)
	}
	if err != nil {
		return tagd.Scan{}, nil, err
	}
	return scan, tag, nil
}

// standardTag reports whether t is in a standard group.
func standardTag(tx *bolt.Tx, t *tagd.Tag) (bool, error) {
	b, err := getBatch(tx, t.BatchID)
	if err != nil {
		return false, err
	}
	g, err := getGroup(tx, b.GroupID)
	if err != nil {
		return false, err
	}
	return g.Type == tagd.GroupStandard, nil
}
