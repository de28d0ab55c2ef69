package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// The tap journal makes a tap durable with one append and one fdatasync of
// a small file, shared by every tap that arrives while the previous sync
// runs, instead of a bbolt commit (page writes and two fdatasyncs) per
// group. A tap's record holds the tag's counters after the tap (absolute
// values, so replaying a record twice is harmless) and its scan-log entry.
// The journal is folded into the bbolt file in one transaction when it has
// foldAt scans, before any other write or read of the store that is not
// part of the check flow, and on Close; after a crash, Open replays it.
//
// The file starts with a 16-byte header, "TAGDJNL1" and the journal's
// epoch (u64); it is preallocated (written with zeros) so that a sync
// flushes data blocks only, not the file's size. A fold empties the
// journal by bumping the epoch in the header: records of an older epoch
// fail their CRC.
//
// Frame: u32 payload length, u32 CRC-32C of the epoch and the payload,
// payload. Payload:
// kind (1 tap, 2 scan only); for a tap the XUID (uvarint length + bytes),
// LastCounter (u32), HasCounter (byte), ChipCount and ScanCount (uvarints);
// then the scan's stored record (the bytes of the scans bucket) to the end.
// A frame that is short or fails its CRC ends the journal: it was being
// written when the process stopped, so it was never acknowledged.

const (
	// journalSuffix names the journal beside the database file.
	journalSuffix = ".journal"
	// foldAt is the number of journaled scans that triggers a fold; so
	// does a journal that has outgrown its preallocated size (scans with
	// long responses).
	foldAt = 4096
	// maxFrame bounds one journal payload (a scan record is a few hundred
	// bytes).
	maxFrame = 1 << 20

	// journalMagic starts the journal's header; the epoch follows.
	journalMagic = "TAGDJNL1"
	// journalHeader is the size of the header.
	journalHeader = 16
	// journalPrealloc is the size the journal is preallocated to: more
	// than foldAt records of a usual size.
	journalPrealloc = 4 << 20

	recTap  = 1
	recScan = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// tapState is the part of a tag that taps change.
type tapState struct {
	LastCounter uint32
	HasCounter  bool
	ChipCount   uint64
	ScanCount   uint64
}

// stateOf returns t's tap state.
func stateOf(t *tagd.Tag) tapState {
	return tapState{LastCounter: t.LastCounter, HasCounter: t.HasCounter, ChipCount: t.ChipCount, ScanCount: t.ScanCount}
}

// apply sets t's tap state to s.
func (s tapState) apply(t *tagd.Tag) {
	t.LastCounter, t.HasCounter, t.ChipCount, t.ScanCount = s.LastCounter, s.HasCounter, s.ChipCount, s.ScanCount
}

// journalRecord is one decoded journal frame.
type journalRecord struct {
	kind  byte
	xuid  string
	state tapState
	seq   uint64
	scan  []byte // the scans-bucket record
}

// pendingScan is a journaled scan not yet in the bbolt file.
type pendingScan struct {
	seq  uint64
	data []byte
}

// journal is the tap journal of a DB and the in-memory state it implies.
type journal struct {
	// mu orders taps: a tap reads the tag's state, appends its record and
	// updates the overlay while holding it. Folds and the store's other
	// writes hold it too.
	mu   sync.Mutex
	cond *sync.Cond // on mu: a sync ended

	f      *os.File
	off    int64  // where the next write goes
	fepoch uint64 // the epoch in the file's header
	noSync bool
	closed bool
	err    error // sticky: after a failed write or fold nothing is acknowledged

	buf, spare []byte // records not yet written; the other buffer
	gen        uint64 // generation of the records in buf
	durable    uint64 // every generation up to this one is durable
	syncing    bool   // a leader is writing and syncing a generation

	seq     uint64              // the last scan sequence number handed out
	scans   []pendingScan       // journaled scans not yet folded
	dirty   map[string]tapState // tags changed since the last fold
	pending atomic.Int64        // len(scans), for lock-free checks
}

// openJournal opens (creating) the journal at path, replays what it holds
// into b and empties it.
func (db *DB) openJournal(path string, noSync bool) error {
	j := &db.j
	j.cond = sync.NewCond(&j.mu)
	j.noSync = noSync
	j.gen, j.durable = 1, 0
	j.dirty = map[string]tapState{}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: open journal: %w", err)
	}
	j.f = f
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return fmt.Errorf("store: open journal: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("store: open journal: %w", err)
	}
	// Only the valid records are read, not the preallocated rest.
	epoch, recs, err := readJournal(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return fmt.Errorf("store: journal %s: %w", path, err)
	}
	if len(recs) > 0 {
		if err := db.bolt.Update(func(tx *bolt.Tx) error { return db.replay(tx, recs) }); err != nil {
			f.Close()
			return fmt.Errorf("store: replay journal %s: %w", path, err)
		}
	}
	j.fepoch = epoch
	if err := j.prealloc(fi.Size()); err != nil {
		f.Close()
		return err
	}
	if err := j.reset(); err != nil {
		f.Close()
		return err
	}
	return db.bolt.View(func(tx *bolt.Tx) error {
		j.seq = bkt(tx, bucketScans).Sequence()
		return nil
	})
}

// checkJournal refuses a journal at path that is not a tagd journal, before
// Open touches the database: its records may be acknowledged taps.
func checkJournal(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: open journal: %w", err)
	}
	defer f.Close()
	if _, _, err := readJournal(io.LimitReader(f, journalHeader)); err != nil {
		return fmt.Errorf("store: journal %s: %w", path, err)
	}
	return nil
}

// replay applies journal records to the bbolt file. Records hold absolute
// values, so records already folded before a crash apply again harmlessly.
// A record of a tag that no longer exists is skipped.
func (db *DB) replay(tx *bolt.Tx, recs []journalRecord) error {
	last := map[string]tapState{}
	for _, r := range recs {
		if r.kind == recTap {
			last[r.xuid] = r.state
		}
	}
	if err := db.foldTags(tx, last); err != nil {
		return err
	}
	scans := make([]pendingScan, 0, len(recs))
	for _, r := range recs {
		scans = append(scans, pendingScan{seq: r.seq, data: r.scan})
	}
	return db.foldScans(tx, scans)
}

// foldTags writes the tap states into the tags bucket.
func (db *DB) foldTags(tx *bolt.Tx, states map[string]tapState) error {
	for xuid, st := range states {
		t, err := get(tx, bucketTags, xuid, decodeTag)
		if err != nil {
			return err
		}
		if t == nil {
			continue
		}
		st.apply(t)
		if err := put(tx, bucketTags, xuid, t); err != nil {
			return err
		}
	}
	return nil
}

// foldScans appends scans, in order, to the scan log, pruning it to the
// retention after each. A scan whose number the log has passed is
// already there.
func (db *DB) foldScans(tx *bolt.Tx, scans []pendingScan) error {
	b := bkt(tx, bucketScans)
	for _, s := range scans {
		if s.seq <= b.Sequence() {
			if b.Get(seqKey(s.seq)) == nil && s.seq+db.retention > b.Sequence() {
				if err := b.Put(seqKey(s.seq), s.data); err != nil {
					return err
				}
			}
			continue
		}
		if err := b.SetSequence(s.seq); err != nil {
			return err
		}
		if err := b.Put(seqKey(s.seq), s.data); err != nil {
			return err
		}
		if err := db.prune(b); err != nil {
			return err
		}
	}
	return nil
}

// prealloc writes zeros from size up to journalPrealloc and syncs the
// file (data and size).
func (j *journal) prealloc(size int64) error {
	if size < journalPrealloc {
		if _, err := j.f.WriteAt(make([]byte, journalPrealloc-size), size); err != nil {
			return fmt.Errorf("store: preallocate journal: %w", err)
		}
	}
	if j.noSync {
		return nil
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("store: sync journal: %w", err)
	}
	return nil
}

// reset empties the journal durably: a new epoch in its header.
func (j *journal) reset() error {
	j.fepoch++
	h := make([]byte, 0, journalHeader)
	h = append(h, journalMagic...)
	h = binary.BigEndian.AppendUint64(h, j.fepoch)
	if _, err := j.f.WriteAt(h, 0); err != nil {
		return fmt.Errorf("store: reset journal: %w", err)
	}
	if !j.noSync {
		if err := fdatasync(j.f); err != nil {
			return fmt.Errorf("store: sync journal: %w", err)
		}
	}
	j.off = journalHeader
	return nil
}

// readJournal reads a journal file's header and its valid records, and
// returns its epoch: none for an empty or never initialised (all-zero
// header) file, an error for a file that is not a journal, and an error of
// the reader. Reading stops at the first zero length (the preallocated
// rest) and at a frame that is cut short, corrupt or of another epoch
// (the tail of an unacknowledged write, or an emptied journal's old
// records); it reads no further than that.
func readJournal(r io.Reader) (epoch uint64, recs []journalRecord, err error) {
	h := make([]byte, journalHeader)
	n, err := io.ReadFull(r, h)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, nil, err
	}
	if n < journalHeader || allZero(h) {
		return 0, nil, nil
	}
	if string(h[:len(journalMagic)]) != journalMagic {
		return 0, nil, errors.New("not a tagd journal (bad header)")
	}
	epoch = binary.BigEndian.Uint64(h[len(journalMagic):])
	var fh [8]byte
	for {
		if _, err := io.ReadFull(r, fh[:]); err != nil {
			return epoch, recs, nil // the end, or a frame header cut short
		}
		n, sum := binary.BigEndian.Uint32(fh[:]), binary.BigEndian.Uint32(fh[4:])
		if n == 0 || n > maxFrame {
			return epoch, recs, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil || frameSum(epoch, payload) != sum {
			return epoch, recs, nil
		}
		rec, err := decodeJournalPayload(payload)
		if err != nil {
			return epoch, recs, nil
		}
		recs = append(recs, rec)
	}
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// frameSum is the CRC of a frame: over the epoch and the payload.
func frameSum(epoch uint64, payload []byte) uint32 {
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], epoch)
	return crc32.Update(crc32.Checksum(e[:], castagnoli), castagnoli, payload)
}

// appendRecord frames a record into buf; the caller holds mu.
func (j *journal) appendRecord(r *journalRecord) {
	start := len(j.buf)
	j.buf = append(j.buf, 0, 0, 0, 0, 0, 0, 0, 0)
	j.buf = append(j.buf, r.kind)
	if r.kind == recTap {
		j.buf = binary.AppendUvarint(j.buf, uint64(len(r.xuid)))
		j.buf = append(j.buf, r.xuid...)
		j.buf = binary.BigEndian.AppendUint32(j.buf, r.state.LastCounter)
		hc := byte(0)
		if r.state.HasCounter {
			hc = 1
		}
		j.buf = append(j.buf, hc)
		j.buf = binary.AppendUvarint(j.buf, r.state.ChipCount)
		j.buf = binary.AppendUvarint(j.buf, r.state.ScanCount)
	}
	j.buf = binary.AppendUvarint(j.buf, r.seq)
	j.buf = append(j.buf, r.scan...)
	payload := j.buf[start+8:]
	binary.BigEndian.PutUint32(j.buf[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(j.buf[start+4:], frameSum(j.fepoch, payload))
}

// decodeJournalPayload decodes one frame's payload.
func decodeJournalPayload(p []byte) (journalRecord, error) {
	var r journalRecord
	bad := func(what string) (journalRecord, error) {
		return journalRecord{}, fmt.Errorf("journal: record with a bad %s", what)
	}
	r.kind, p = p[0], p[1:]
	switch r.kind {
	case recTap:
		n, k := binary.Uvarint(p)
		if k <= 0 || n == 0 || n > uint64(len(p)-k) || n > 64 {
			return bad("xuid")
		}
		r.xuid, p = string(p[k:k+int(n)]), p[k+int(n):]
		if len(p) < 5 || p[4] > 1 {
			return bad("counter")
		}
		r.state.LastCounter, r.state.HasCounter, p = binary.BigEndian.Uint32(p), p[4] == 1, p[5:]
		if r.state.ChipCount, k = binary.Uvarint(p); k <= 0 {
			return bad("chip count")
		}
		p = p[k:]
		if r.state.ScanCount, k = binary.Uvarint(p); k <= 0 {
			return bad("scan count")
		}
		p = p[k:]
	case recScan:
	default:
		return bad("kind")
	}
	seq, k := binary.Uvarint(p)
	if k <= 0 || seq == 0 {
		return bad("sequence number")
	}
	r.seq, p = seq, p[k:]
	if _, err := decodeScan(p); err != nil {
		return bad("scan")
	}
	r.scan = p
	return r, nil
}

// commit makes the records of generation gen durable: the first caller
// that finds no sync running writes and syncs everything buffered (its
// own records and those of every tap that queued meanwhile); the others
// wait for it. The caller holds mu; commit may release and retake it.
func (db *DB) commit(gen uint64) error {
	j := &db.j
	for j.durable < gen {
		if j.err != nil {
			return j.err
		}
		if j.syncing {
			j.cond.Wait()
			continue
		}
		data, g, at := j.buf, j.gen, j.off
		j.buf, j.spare = j.spare[:0], nil
		j.gen++
		j.off += int64(len(data))
		j.syncing = true
		j.mu.Unlock()
		_, err := j.f.WriteAt(data, at)
		if err == nil && !j.noSync {
			err = fdatasync(j.f)
		}
		j.mu.Lock()
		j.syncing = false
		j.spare = data[:0]
		if err != nil {
			j.err = fmt.Errorf("store: write journal: %w", err)
		} else {
			j.durable = g
		}
		j.cond.Broadcast()
		if err == nil && (len(j.scans) >= foldAt || j.off >= journalPrealloc) {
			if err := db.foldLocked(); err != nil {
				return err
			}
		}
	}
	return nil
}

// foldLocked writes everything journaled into the bbolt file in one
// transaction and empties the journal. The caller holds mu.
func (db *DB) foldLocked() error {
	j := &db.j
	for j.syncing {
		j.cond.Wait()
	}
	if j.err != nil {
		return j.err
	}
	if len(j.scans) == 0 && len(j.dirty) == 0 {
		return nil
	}
	db.swap.RLock()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := db.foldTags(tx, j.dirty); err != nil {
			return err
		}
		return db.foldScans(tx, j.scans)
	})
	db.swap.RUnlock()
	if err == nil {
		err = j.reset()
	}
	if err != nil {
		j.err = fmt.Errorf("store: fold journal: %w", err)
		j.cond.Broadcast()
		return j.err
	}
	// Everything buffered is now in the bbolt file: durable.
	j.buf = j.buf[:0]
	j.durable = j.gen
	j.gen++
	j.scans = j.scans[:0]
	j.pending.Store(0)
	clear(j.dirty)
	if db.live.size() >= maxLive {
		db.live.clear() // everything is in the bbolt file now
	}
	j.cond.Broadcast()
	return nil
}

// fold writes everything journaled into the bbolt file, if anything is.
func (db *DB) fold() error {
	if db.j.pending.Load() == 0 {
		return nil
	}
	db.j.mu.Lock()
	defer db.j.mu.Unlock()
	return db.foldLocked()
}

// closeJournal folds the journal and closes its file; later taps fail.
func (db *DB) closeJournal() error {
	j := &db.j
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed || j.f == nil {
		return nil
	}
	err := db.foldLocked()
	j.closed = true
	if j.err == nil {
		j.err = errors.New("store: database closed")
	}
	j.cond.Broadcast()
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("store: close journal: %w", cerr)
	}
	// The emptied file stays: the next Open reuses its preallocated blocks
	// instead of writing 4 MiB of zeros again (every CLI command opens the
	// store, and an SD card wears).
	return err
}

// Err reports why the store can no longer acknowledge taps (a failed
// journal write or fold), or nil; the appliance's readiness check.
func (db *DB) Err() error {
	j := &db.j
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	return j.err
}
