package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagd-nfc/tagd"
)

// journalBytes frames records as a journal file of the given epoch.
func journalBytes(epoch uint64, recs ...journalRecord) []byte {
	j := &journal{fepoch: epoch}
	j.buf = append(j.buf, journalMagic...)
	j.buf = binary.BigEndian.AppendUint64(j.buf, epoch)
	for i := range recs {
		j.appendRecord(&recs[i])
	}
	return j.buf
}

// sampleRecords is a tap and a tag-less scan.
func sampleRecords() []journalRecord {
	return []journalRecord{
		{kind: recTap, xuid: "q8w3sbcz", state: tapState{LastCounter: 7, HasCounter: true, ChipCount: 7, ScanCount: 3}, seq: 1,
			scan: []byte(`{"seq":1,"time":"2026-11-25T09:00:00Z","source":"api","xuid":"q8w3sbcz","scan_count":3}`)},
		{kind: recScan, seq: 2, scan: []byte(`{"seq":2,"time":"2026-11-25T09:00:01Z","source":"api","error":"xuid_not_found"}`)},
	}
}

// TestJournalFrames decodes what appendRecord frames, and nothing of
// another epoch.
func TestJournalFrames(t *testing.T) {
	recs := sampleRecords()
	data := journalBytes(5, recs...)
	_, got, err := readJournal(bytes.NewReader(append(data, make([]byte, 64)...))) // the preallocated zeros
	if err != nil || len(got) != 2 {
		t.Fatalf("readJournal: %d records, %v", len(got), err)
	}
	for i := range recs {
		if got[i].kind != recs[i].kind || got[i].xuid != recs[i].xuid || got[i].state != recs[i].state ||
			got[i].seq != recs[i].seq || !bytes.Equal(got[i].scan, recs[i].scan) {
			t.Errorf("record %d: %+v, want %+v", i, got[i], recs[i])
		}
	}
	// The same frames under a header of the next epoch are stale.
	stale := bytes.Clone(data)
	binary.BigEndian.PutUint64(stale[8:], 6)
	if _, got, err := readJournal(bytes.NewReader(stale)); err != nil || len(got) != 0 {
		t.Errorf("frames of epoch 5 under a header of epoch 6: %d records, %v", len(got), err)
	}
	// A zero header is a journal that was never initialised.
	if _, got, err := readJournal(bytes.NewReader(make([]byte, 100))); err != nil || len(got) != 0 {
		t.Errorf("zero journal: %d records, %v", len(got), err)
	}
	// One flipped bit in the second frame keeps the first only.
	flipped := bytes.Clone(data)
	flipped[len(flipped)-2] ^= 1
	if _, got, _ := readJournal(bytes.NewReader(flipped)); len(got) != 1 || got[0].seq != 1 {
		t.Errorf("flipped bit in the last frame: %d records", len(got))
	}
}

// FuzzReadJournal feeds arbitrary bytes to the journal decoder: it never
// panics, and whatever it accepts is a well-formed record.
func FuzzReadJournal(f *testing.F) {
	data := journalBytes(1, sampleRecords()...)
	f.Add(data)
	f.Add(data[:len(data)-3])
	f.Add([]byte(journalMagic + "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x05"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, recs, err := readJournal(bytes.NewReader(data))
		if err != nil && len(recs) != 0 {
			t.Fatalf("records with an error: %d, %v", len(recs), err)
		}
		for _, r := range recs {
			if r.seq == 0 || (r.kind != recTap && r.kind != recScan) || (r.kind == recTap && r.xuid == "") {
				t.Fatalf("accepted a malformed record %+v", r)
			}
			if _, err := decodeScan(r.scan); err != nil {
				t.Fatalf("accepted a record whose scan does not decode: %v", err)
			}
		}
	})
}

// TestJournalWriteFailureIsSticky breaks the journal's file under an open
// store: the scan being written is refused, so is every later one, and Err
// says why (the appliance's /readyz).
func TestJournalWriteFailureIsSticky(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "tagd.db"), Options{KEK: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendScan(ctx, tagd.Scan{Source: "api", Error: "xuid_not_found"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Err(); err != nil {
		t.Fatalf("Err of a healthy store: %v", err)
	}
	db.j.f.Close() // the disk goes away
	for i := range 2 {
		if s, err := db.AppendScan(ctx, tagd.Scan{Source: "api", Error: "xuid_not_found"}); err == nil {
			t.Fatalf("append %d on a broken journal acknowledged %+v", i, s)
		}
	}
	if err := db.Err(); err == nil || !strings.Contains(err.Error(), "journal") {
		t.Fatalf("Err after the failure: %v", err)
	}
	if err := db.Close(); err == nil {
		t.Error("Close of a store with a failed journal reported nothing")
	}
}
