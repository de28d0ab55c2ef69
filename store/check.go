package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// maxProblems caps the problems a CheckError lists.
const maxProblems = 100

// CheckError is the result of a failed Check: the problems found, at most
// 100 of them, and how many more there were.
type CheckError struct {
	Problems []string
	More     int
}

// Error lists the problems, one a line.
func (e *CheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store: check found %d problems:", len(e.Problems)+e.More)
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n\t… and %d more", e.More)
	}
	return b.String()
}

// ErrorCode is tagd.CodeInternal: an inconsistent database is a fault.
func (e *CheckError) ErrorCode() string { return string(tagd.CodeInternal) }

// checker collects problems.
type checker struct{ e CheckError }

// addf records a problem.
func (c *checker) addf(format string, args ...any) {
	if len(c.e.Problems) < maxProblems {
		c.e.Problems = append(c.e.Problems, fmt.Sprintf(format, args...))
	} else {
		c.e.More++
	}
}

// Check checks the consistency of the database in one read transaction:
// bbolt's own page check; every record decodes and sits under its own id;
// every folder, group, batch and tag has the records above it and the tag's
// AID is its folder's; every UID and CUID of a tag is indexed and every
// index entry points to a tag with that UID or CUID; every key record
// belongs to a group or tag and decrypts; every API key's account exists;
// scan sequence numbers increase
// and do not pass the bucket's sequence. It returns nil or a *CheckError.
func (db *DB) Check(ctx context.Context) error {
	var c checker
	err := db.view(ctx, func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			c.addf("bbolt: %v", err)
		}
		accounts := map[string]bool{}
		folders := map[string]*tagd.Folder{}
		groups := map[string]bool{}
		batches := map[string]*tagd.Batch{}
		groupOf := map[string]string{}  // batch → group
		folderOf := map[string]string{} // group → folder
		tags := map[string]*tagd.Tag{}

		each(tx, bucketAccounts, &c, decodeAccount, func(k string, a *tagd.Account) {
			if a.AID != k {
				c.addf("account %q: record has aid %q", k, a.AID)
			}
			accounts[k] = true
		})
		each(tx, bucketFolders, &c, decodeFolder, func(k string, f *tagd.Folder) {
			if f.ID != k {
				c.addf("folder %q: record has id %q", k, f.ID)
			}
			folders[k] = f
		})
		each(tx, bucketGroups, &c, decodeGroup, func(k string, g *tagd.TagGroup) {
			if g.ID != k {
				c.addf("group %q: record has id %q", k, g.ID)
			}
			groups[k] = true
			folderOf[k] = g.FolderID
		})
		each(tx, bucketBatches, &c, decodeBatch, func(k string, b *tagd.Batch) {
			if b.ID != k {
				c.addf("batch %q: record has id %q", k, b.ID)
			}
			batches[k] = b
			groupOf[k] = b.GroupID
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		for id, f := range folders {
			if !accounts[f.AID] {
				c.addf("folder %q: account %q is missing", id, f.AID)
			}
		}
		for id, fid := range folderOf {
			if folders[fid] == nil {
				c.addf("group %q: folder %q is missing", id, fid)
			}
		}
		for id, gid := range groupOf {
			if !groups[gid] {
				c.addf("batch %q: group %q is missing", id, gid)
			}
		}
		uidIdx, cuidIdx := bkt(tx, bucketUID), bkt(tx, bucketCUID)
		uidAny := bkt(tx, bucketUIDAny)
		each(tx, bucketTags, &c, decodeTag, func(k string, t *tagd.Tag) {
			if t.XUID != k {
				c.addf("tag %q: record has xuid %q", k, t.XUID)
			}
			tags[k] = t
			b := batches[t.BatchID]
			if b == nil {
				c.addf("tag %q: batch %q is missing", k, t.BatchID)
			} else if f := folders[folderOf[b.GroupID]]; f != nil && f.AID != t.AID {
				c.addf("tag %q: aid %q but its folder %q is in account %q", k, t.AID, f.ID, f.AID)
			}
			if !accounts[t.AID] {
				c.addf("tag %q: account %q is missing", k, t.AID)
			}
			if t.UID != "" {
				if x := uidIdx.Get(indexKey(t.AID, t.UID)); string(x) != k {
					c.addf("tag %q: idx_uid[%s %s] is %q", k, t.AID, t.UID, x)
				}
				if x := uidAny.Get(indexKey(t.UID, t.AID)); string(x) != k {
					c.addf("tag %q: idx_uid_any[%s %s] is %q", k, t.UID, t.AID, x)
				}
			}
			if t.CUID != "" {
				if x := cuidIdx.Get(indexKey(t.AID, t.CUID)); string(x) != k {
					c.addf("tag %q: idx_cuid[%s %q] is %q", k, t.AID, t.CUID, x)
				}
			}
		})
		if err := ctx.Err(); err != nil {
			return err
		}
		checkIndex(tx, bucketUID, &c, tags, func(a, b string, t *tagd.Tag) bool { return t.AID == a && t.UID == b })
		checkIndex(tx, bucketUIDAny, &c, tags, func(a, b string, t *tagd.Tag) bool { return t.UID == a && t.AID == b })
		checkIndex(tx, bucketCUID, &c, tags, func(a, b string, t *tagd.Tag) bool { return t.AID == a && t.CUID == b })

		_ = bkt(tx, bucketKeys).ForEach(func(k, _ []byte) error {
			id := string(k)
			kind, name, _ := strings.Cut(id, ":")
			switch {
			case kind == "group" && groups[name], kind == "tag" && tags[name] != nil:
			default:
				c.addf("key record %q belongs to no group or tag", id)
			}
			if _, _, err := db.getKeys(tx, id); err != nil {
				c.addf("%v", err)
			}
			return nil
		})

		each(tx, bucketAPIKeys, &c, decodeAPIKey, func(k string, key *tagd.APIKey) {
			if key.ID != k {
				c.addf("API key %q: record has id %q", k, key.ID)
			}
			if key.AID != "" && !accounts[key.AID] {
				c.addf("API key %q: account %q is missing", k, key.AID)
			}
		})

		scans := bkt(tx, bucketScans)
		var prev uint64
		_ = scans.ForEach(func(k, v []byte) error {
			seq, err := decodeSeqKey(k)
			if err != nil {
				c.addf("scans: %v", err)
				return nil
			}
			if seq <= prev {
				c.addf("scan %d: sequence does not increase (after %d)", seq, prev)
			}
			prev = seq
			if seq > scans.Sequence() {
				c.addf("scan %d: beyond the bucket's sequence %d", seq, scans.Sequence())
			}
			s, err := decodeScan(v)
			if err != nil {
				c.addf("scan %d: %v", seq, err)
			} else if s.Seq != seq {
				c.addf("scan %d: record has seq %d", seq, s.Seq)
			}
			return nil
		})
		return nil
	})
	if err != nil {
		return err
	}
	if len(c.e.Problems) > 0 {
		return &c.e
	}
	return nil
}

// each decodes every record of a bucket and passes it to fn; records that
// do not decode are problems.
func each[T any](tx *bolt.Tx, bucket string, c *checker, dec func([]byte) (*T, error), fn func(k string, v *T)) {
	_ = bkt(tx, bucket).ForEach(func(k, v []byte) error {
		r, err := dec(v)
		if err != nil {
			c.addf("%s %q: %v", bucket, k, err)
			return nil
		}
		fn(string(k), r)
		return nil
	})
}

// checkIndex checks that every entry of an index bucket points to a tag
// that matches the two parts of its key.
func checkIndex(tx *bolt.Tx, bucket string, c *checker, tags map[string]*tagd.Tag, match func(a, b string, t *tagd.Tag) bool) {
	_ = bkt(tx, bucket).ForEach(func(k, v []byte) error {
		a, b, err := splitIndexKey(k)
		if err != nil {
			c.addf("%s %q: %v", bucket, k, err)
			return nil
		}
		t := tags[string(v)]
		switch {
		case t == nil:
			c.addf("%s[%q %q] points to missing tag %q", bucket, a, b, v)
		case !match(a, b, t):
			c.addf("%s[%q %q] points to tag %q, which has aid %q uid %q cuid %q", bucket, a, b, v, t.AID, t.UID, t.CUID)
		}
		return nil
	})
}
