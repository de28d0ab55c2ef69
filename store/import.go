package store

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// This file holds the CSV import of tags (ixkio's Associate Data, research
// ixkio.md §1.10) and of per-tag keys, and the CSV export of tags. An
// import is all or nothing: every cell is checked before the one write
// transaction, and any error leaves the store untouched. Errors name the
// row (1-based, the header is row 1) and the column; they never show key
// material.

// Columns of the tags CSV (ixkio's Associate Data columns), in export
// order, and the optional key columns that a tags or keys CSV may carry.
const (
	ColXUID        = "XUID"
	ColUID         = "UID"
	ColCUID        = "CUID"
	ColTagName     = "TAGNAME"
	ColResponse    = "RESPONSE"
	ColStatus      = "STATUS"
	ColAssigned    = "ASSIGNED"
	ColNFTContract = "NFTCONTRACT"
	ColNFTToken    = "NFTTOKEN"
	ColNFTChain    = "NFTCHAIN"
	ColNFTOwner    = "NFTOWNER"
	ColNFTMeta     = "NFTMETA"
	ColFileKey     = "FILE_KEY"
	ColMetaKey     = "META_KEY"
)

// TagColumns are the columns of the tags CSV, in the order export writes
// them. Key columns are never exported.
var TagColumns = []string{ColXUID, ColUID, ColCUID, ColTagName, ColResponse, ColStatus, ColAssigned,
	ColNFTContract, ColNFTToken, ColNFTChain, ColNFTOwner, ColNFTMeta}

// NFTMetaField is the extended-data field that holds a tag's NFTMETA (JSON);
// a folder that defines a json field of this name shows it in responses.
const NFTMetaField = "nft_meta"

// Limits of an import.
const (
	// MaxImportRows is the most data rows one import may hold.
	MaxImportRows = 1_000_000
	// maxNFTText bounds NFTCONTRACT, NFTTOKEN and NFTOWNER (bytes), as the
	// Management API does; maxNFTMeta bounds NFTMETA.
	maxNFTText = 256
	maxNFTMeta = 16 << 10
	maxCell    = 64 << 10
)

// TagRow is one data row of a tags CSV. An empty field leaves the tag's
// value unchanged (for a new tag: the default). Row is the row number in
// the file, which errors name (the header is row 1).
type TagRow struct {
	Row  int
	XUID string
	// UID is uppercase hex after checking.
	UID, CUID, Name string
	// Response sets the tag's own default response (breaking the link to
	// the group's ruleset, as the Management API's ix_dr does).
	Response string
	// Status is "Active" or "Inactive"; Assigned "Assigned" or
	// "Unassigned".
	Status, Assigned string
	// NFT data; NFTChain is one of etherium_main, etherium_test,
	// polygon_main, polygon_test; NFTMeta is JSON, kept in the extended
	// field NFTMetaField.
	NFTContract, NFTToken, NFTChain, NFTOwner, NFTMeta string
	// Keys, if not nil, are the tag's own keys (FILE_KEY, META_KEY).
	Keys *tagd.Keys
}

// KeyRow is one data row of a keys CSV: the tag, its UID (checked against
// the tag's, or set when the tag has none) and its keys. An empty meta key
// keeps the tag's current one.
type KeyRow struct {
	Row  int
	XUID string
	UID  string
	Keys tagd.Keys
}

// rowErr returns the CodeInvalid error of a cell.
func rowErr(row int, col, format string, args ...any) *tagd.Error {
	return rowErrCode(tagd.CodeInvalid, row, col, format, args...)
}

// rowErrCode returns an error about a cell with the given code.
func rowErrCode(code tagd.Code, row int, col, format string, args ...any) *tagd.Error {
	return &tagd.Error{Code: code, Field: fmt.Sprintf("row %d column %s", row, col),
		Message: fmt.Sprintf("row %d, column %s: %s", row, col, fmt.Sprintf(format, args...))}
}

// quote shows a cell in an error, shortened. A cell that could be key
// material (16 or more hex digits, such as a key in the wrong column) is
// not shown.
func quote(s string) string {
	if len(s) >= 16 {
		if _, err := hex.DecodeString(s[:len(s)&^1]); err == nil {
			return "(a hex string, not shown)"
		}
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}

// csvReader reads an import file: one header that fixes the number of
// fields, comma-separated, leading spaces trimmed, strict quotes.
type csvReader struct {
	r    *csv.Reader
	cols []string // canonical column names, in file order
	row  int      // rows read, the header included
}

// newCSVReader reads the header of r: known column names (any case), no
// repeats, XUID and the required columns present, and at least one more.
func newCSVReader(r io.Reader, known, required []string) (*csvReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" { // a spreadsheet's BOM
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	c := &csvReader{r: cr, row: 1}
	hdr, err := cr.Read()
	if err == io.EOF {
		return nil, rowErr(1, "-", "the file is empty: the first line must name the columns (%s and more)", strings.Join(required, ", "))
	}
	if err != nil {
		return nil, c.parseErr(err, nil)
	}
	for i, h := range hdr {
		name := strings.ToUpper(strings.TrimSpace(h))
		if !slices.Contains(known, name) {
			return nil, rowErr(1, strconv.Itoa(i+1), "unknown column (the first line names the columns: %s)", strings.Join(known, ", "))
		}
		if slices.Contains(c.cols, name) {
			return nil, rowErr(1, name, "column %s appears twice", name)
		}
		c.cols = append(c.cols, name)
	}
	for _, want := range required {
		if !slices.Contains(c.cols, want) {
			return nil, rowErr(1, want, "the header has no %s column", want)
		}
	}
	if len(c.cols) == len(required) {
		return nil, rowErr(1, "-", "the header needs at least one column besides %s", strings.Join(required, ", "))
	}
	return c, nil
}

// next returns the cells of the next data row by column name, or io.EOF.
// The map is reused by the next call.
func (c *csvReader) next(cells map[string]string) error {
	rec, err := c.r.Read()
	if err == io.EOF {
		return io.EOF
	}
	c.row++
	if err != nil {
		return c.parseErr(err, rec)
	}
	if c.row-1 > MaxImportRows {
		return rowErr(c.row, "-", "an import holds at most %d rows", MaxImportRows)
	}
	for i, v := range rec {
		if len(v) > maxCell {
			return rowErr(c.row, c.cols[i], "the cell is longer than %d bytes", maxCell)
		}
		cells[c.cols[i]] = v
	}
	return nil
}

// parseErr turns an encoding/csv error into a row and column error. It
// never shows cell contents (a key cell may be the one in error).
func (c *csvReader) parseErr(err error, rec []string) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err // a read error of the underlying reader
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		if len(rec) < len(c.cols) {
			return rowErr(c.row, c.cols[len(rec)], "the row has %d cells, the header %d (every row carries all commas)", len(rec), len(c.cols))
		}
		return rowErr(c.row, strconv.Itoa(len(c.cols)+1), "the row has %d cells, the header %d", len(rec), len(c.cols))
	}
	return rowErr(c.row, "at character "+strconv.Itoa(pe.Column), "%v", pe.Err)
}

// ParseTagsCSV reads a tags CSV (research ixkio.md §1.10: XUID and at least
// one of UID, CUID, TAGNAME, RESPONSE, STATUS, ASSIGNED, NFTCONTRACT,
// NFTTOKEN, NFTCHAIN, NFTOWNER, NFTMETA, and optionally the key columns
// FILE_KEY and META_KEY) and checks every cell. Errors are CodeInvalid
// naming the row and column.
func ParseTagsCSV(r io.Reader) ([]TagRow, error) {
	known := append(slices.Clone(TagColumns), ColFileKey, ColMetaKey)
	c, err := newCSVReader(r, known, []string{ColXUID})
	if err != nil {
		return nil, err
	}
	if slices.Contains(c.cols, ColMetaKey) && !slices.Contains(c.cols, ColFileKey) {
		return nil, rowErr(1, ColMetaKey, "META_KEY needs a FILE_KEY column")
	}
	var rows []TagRow
	cells := make(map[string]string, len(c.cols))
	for {
		err := c.next(cells)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		tr := TagRow{Row: c.row, XUID: cells[ColXUID], UID: cells[ColUID], CUID: cells[ColCUID], Name: cells[ColTagName],
			Response: cells[ColResponse], Status: cells[ColStatus], Assigned: cells[ColAssigned],
			NFTContract: cells[ColNFTContract], NFTToken: cells[ColNFTToken], NFTChain: cells[ColNFTChain],
			NFTOwner: cells[ColNFTOwner], NFTMeta: cells[ColNFTMeta]}
		if slices.Contains(c.cols, ColFileKey) {
			k, err := parseKeyCells(c.row, cells[ColFileKey], cells[ColMetaKey], false)
			if err != nil {
				return nil, err
			}
			if k != nil {
				tr.Keys = k
			}
		}
		if err := checkTagRow(&tr); err != nil {
			return nil, err
		}
		rows = append(rows, tr)
	}
	return rows, checkTagRows(rows)
}

// ParseKeysCSV reads a keys CSV: columns XUID, UID, FILE_KEY and optionally
// META_KEY, keys as 32 hex digits. Errors name the row and column and
// never show a key.
func ParseKeysCSV(r io.Reader) ([]KeyRow, error) {
	c, err := newCSVReader(r, []string{ColXUID, ColUID, ColFileKey, ColMetaKey}, []string{ColXUID, ColUID})
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.cols, ColFileKey) {
		return nil, rowErr(1, ColFileKey, "the header has no FILE_KEY column")
	}
	var rows []KeyRow
	cells := make(map[string]string, len(c.cols))
	for {
		err := c.next(cells)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		kr := KeyRow{Row: c.row, XUID: cells[ColXUID], UID: cells[ColUID]}
		k, err := parseKeyCells(c.row, cells[ColFileKey], cells[ColMetaKey], true)
		if err != nil {
			return nil, err
		}
		kr.Keys = *k
		if err := checkKeyRow(&kr); err != nil {
			return nil, err
		}
		rows = append(rows, kr)
	}
	return rows, checkKeyRows(rows)
}

// parseKeyCells decodes the key cells of a row; nil when both are empty
// and the file key is not required. Errors never show the cells.
func parseKeyCells(row int, file, meta string, required bool) (*tagd.Keys, error) {
	if file == "" && meta == "" && !required {
		return nil, nil
	}
	if file == "" {
		return nil, rowErr(row, ColFileKey, "the file key is missing (32 hex digits)")
	}
	var k tagd.Keys
	var err error
	if k.File, err = parseKey(row, ColFileKey, file); err != nil {
		return nil, err
	}
	if meta != "" {
		if k.Meta, err = parseKey(row, ColMetaKey, meta); err != nil {
			return nil, err
		}
	}
	return &k, nil
}

// parseKey decodes one AES-128 key of 32 hex digits.
func parseKey(row int, col, s string) (tagd.Secret, error) {
	if len(s) != 32 {
		return nil, rowErr(row, col, "a key is 32 hex digits (16 bytes), this cell has %d characters", len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, rowErr(row, col, "a key is 32 hex digits (16 bytes), this cell is not hex")
	}
	return tagd.Secret(b), nil
}

// checkTagRow checks and normalises the cells of one row.
func checkTagRow(r *TagRow) error {
	if r.XUID == "" {
		return rowErr(r.Row, ColXUID, "the XUID is missing")
	}
	if !validXUID(r.XUID) {
		return rowErr(r.Row, ColXUID, "%s is not an XUID (8 or 16 lowercase letters and digits)", quote(r.XUID))
	}
	if r.UID != "" {
		u, ok := normUID(r.UID)
		if !ok {
			return rowErr(r.Row, ColUID, "%s is not 7 bytes of hex (14 hex digits; or a 4-byte UID, 8)", quote(r.UID))
		}
		r.UID = u
	}
	if r.CUID != "" && checkCUID(r.CUID) != nil {
		return rowErr(r.Row, ColCUID, "a CUID is at most %d characters of text without control characters", maxCUIDLen)
	}
	if checkText("name", r.Name, maxNameLen) != nil {
		return rowErr(r.Row, ColTagName, "a tag name is at most %d bytes of text without control characters", maxNameLen)
	}
	if checkText("response", r.Response, maxCell) != nil {
		return rowErr(r.Row, ColResponse, "a response is at most %d bytes of text without control characters", maxCell)
	}
	if r.Status != "" {
		w, ok := oneOfFold(r.Status, string(tagd.TagActive), string(tagd.TagInactive))
		if !ok {
			return rowErr(r.Row, ColStatus, "%s is not Active or Inactive", quote(r.Status))
		}
		r.Status = w
	}
	if r.Assigned != "" {
		w, ok := oneOfFold(r.Assigned, "Assigned", "Unassigned")
		if !ok {
			return rowErr(r.Row, ColAssigned, "%s is not Assigned or Unassigned", quote(r.Assigned))
		}
		r.Assigned = w
	}
	if r.NFTChain != "" {
		w, ok := oneOfFold(r.NFTChain, "etherium_main", "etherium_test", "polygon_main", "polygon_test")
		if !ok {
			return rowErr(r.Row, ColNFTChain, "%s is not etherium_main, etherium_test, polygon_main or polygon_test", quote(r.NFTChain))
		}
		r.NFTChain = w
	}
	for _, f := range []struct{ col, v string }{{ColNFTContract, r.NFTContract}, {ColNFTToken, r.NFTToken}, {ColNFTOwner, r.NFTOwner}} {
		if checkText(f.col, f.v, maxNFTText) != nil {
			return rowErr(r.Row, f.col, "at most %d bytes of text without control characters", maxNFTText)
		}
	}
	if r.NFTMeta != "" {
		if len(r.NFTMeta) > maxNFTMeta || !json.Valid([]byte(r.NFTMeta)) {
			return rowErr(r.Row, ColNFTMeta, "NFT metadata is JSON of at most %d bytes", maxNFTMeta)
		}
	}
	if r.Keys != nil {
		return checkRowKeys(r.Row, r.Keys)
	}
	return nil
}

// checkRowKeys checks the keys of one imported row: a 16-byte file key,
// an optional 16-byte meta key, no master key.
func checkRowKeys(row int, k *tagd.Keys) error {
	if len(k.File) != 16 {
		return rowErr(row, ColFileKey, "the file key must be 16 bytes")
	}
	if n := len(k.Meta); n != 0 && n != 16 {
		return rowErr(row, ColMetaKey, "the meta key must be 16 bytes")
	}
	if len(k.Master) != 0 {
		return rowErr(row, ColFileKey, "an imported tag has no master key")
	}
	return nil
}

// checkTagRows rejects an XUID, UID or CUID given twice in one file.
func checkTagRows(rows []TagRow) error {
	xuids := make(map[string]int, len(rows))
	uids := make(map[string]int, len(rows))
	cuids := make(map[string]int)
	for _, r := range rows {
		if first, ok := xuids[r.XUID]; ok {
			return rowErrCode(tagd.CodeConflict, r.Row, ColXUID, "XUID %s is also on row %d", r.XUID, first)
		}
		xuids[r.XUID] = r.Row
		if r.UID != "" {
			if first, ok := uids[r.UID]; ok {
				return rowErrCode(tagd.CodeConflict, r.Row, ColUID, "UID %s is also on row %d", r.UID, first)
			}
			uids[r.UID] = r.Row
		}
		if r.CUID != "" {
			if first, ok := cuids[r.CUID]; ok {
				return rowErrCode(tagd.CodeConflict, r.Row, ColCUID, "CUID %s is also on row %d", quote(r.CUID), first)
			}
			cuids[r.CUID] = r.Row
		}
	}
	return nil
}

// checkKeyRow checks one row of a keys import.
func checkKeyRow(r *KeyRow) error {
	if !validXUID(r.XUID) {
		return rowErr(r.Row, ColXUID, "%s is not an XUID (8 or 16 lowercase letters and digits)", quote(r.XUID))
	}
	u, ok := normUID(r.UID)
	if !ok {
		return rowErr(r.Row, ColUID, "%s is not 7 bytes of hex (14 hex digits; or a 4-byte UID, 8)", quote(r.UID))
	}
	r.UID = u
	return checkRowKeys(r.Row, &r.Keys)
}

// checkKeyRows rejects an XUID given twice in one file.
func checkKeyRows(rows []KeyRow) error {
	seen := make(map[string]int, len(rows))
	for _, r := range rows {
		if first, ok := seen[r.XUID]; ok {
			return rowErrCode(tagd.CodeConflict, r.Row, ColXUID, "XUID %s is also on row %d", r.XUID, first)
		}
		seen[r.XUID] = r.Row
	}
	return nil
}

// oneOfFold returns the word of words that s equals ignoring case.
func oneOfFold(s string, words ...string) (string, bool) {
	for _, w := range words {
		if strings.EqualFold(s, w) {
			return w, true
		}
	}
	return "", false
}

// ImportTags creates and updates the tags of batch batchID from rows, all
// or nothing, in one write transaction. A row whose XUID does not exist
// creates a tag in the batch (AID from the batch's account); a row whose
// XUID is a tag of the batch updates the non-empty cells. A tag of another
// batch, a UID or CUID held by another tag of the account, or an XUID,
// UID or CUID twice in rows is an error naming the row and column, and
// nothing is written. Row keys are sealed with the KEK.
func (db *DB) ImportTags(ctx context.Context, batchID string, rows []TagRow) error {
	return db.importTags(ctx, batchID, slices.Clone(rows))
}

// bigImport is the number of rows from which an import collects garbage
// between its phases, to keep the peak memory of 100,000-row imports low.
const bigImport = 10_000

// bigImportGCPercent is the GOGC of the process during a big import.
const bigImportGCPercent = 25

// bigImportMu serialises the GOGC changes of big imports.
var bigImportMu sync.Mutex

// idxChange is a tag whose UID or CUID index entries an import changes.
type idxChange struct {
	row                  int
	old                  *tagd.Tag // nil: a new tag
	xuid, aid, uid, cuid string
}

// importTags is ImportTags on rows that it may change and clear.
func (db *DB) importTags(ctx context.Context, batchID string, rows []TagRow) error {
	if err := checkID("batch_id", batchID); err != nil {
		return err
	}
	for i := range rows {
		if rows[i].Row == 0 {
			rows[i].Row = i + 2
		}
		if err := checkTagRow(&rows[i]); err != nil {
			return err
		}
	}
	if err := checkTagRows(rows); err != nil {
		return err
	}
	big := len(rows) >= bigImport
	if big {
		// A big import holds every row, then bbolt holds every new page
		// until the commit: collect garbage more often meanwhile (imports
		// are serialised by the write transaction anyway).
		bigImportMu.Lock()
		defer bigImportMu.Unlock()
		defer debug.SetGCPercent(debug.SetGCPercent(bigImportGCPercent))
		runtime.GC()
	}
	now := db.now()
	return db.update(ctx, func(tx *bolt.Tx) error {
		aid, err := batchAccount(tx, batchID)
		if err != nil {
			return err
		}
		tags := bkt(tx, bucketTags)
		var changes []idxChange
		for i := range rows {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			r := &rows[i]
			var old, nt *tagd.Tag
			if data := tags.Get([]byte(r.XUID)); data != nil {
				if old, err = decodeTag(data); err != nil {
					return fmt.Errorf("tags %q: %w", r.XUID, err)
				}
				if old.BatchID != batchID {
					return rowErrCode(tagd.CodeConflict, r.Row, ColXUID, "tag %s belongs to batch %q, not %q", r.XUID, old.BatchID, batchID)
				}
				nt = cloneTag(old)
			} else {
				nt = &tagd.Tag{XUID: strings.Clone(r.XUID), AID: aid, BatchID: batchID, Status: tagd.TagActive, CreatedAt: now}
			}
			r.apply(nt, now)
			if err := checkTag(nt); err != nil {
				var te *tagd.Error
				if errors.As(err, &te) {
					return rowErr(r.Row, strings.ToUpper(te.Field), "%s", te.Message)
				}
				return err
			}
			if old == nil || old.UID != nt.UID || old.CUID != nt.CUID {
				changes = append(changes, idxChange{row: r.Row, old: old, xuid: nt.XUID, aid: nt.AID, uid: strings.Clone(nt.UID), cuid: strings.Clone(nt.CUID)})
			}
			if err := put(tx, bucketTags, nt.XUID, nt); err != nil {
				return err
			}
			if k := r.Keys; k != nil {
				keys := *k
				if len(keys.Meta) == 0 && old != nil {
					if keys.Meta, err = db.keptMeta(tx, nt.XUID); err != nil {
						return err
					}
				}
				if err := db.putKeys(tx, tagKeyID(nt.XUID), keys); err != nil {
					return err
				}
			}
			*r = TagRow{Row: r.Row} // done with its cells
		}
		// Indexes: first drop the entries of the tags that change a UID or
		// CUID, then add the new entries, so that tags may swap them.
		for _, c := range changes {
			if c.old != nil {
				if err := removeIndexes(tx, c.old); err != nil {
					return err
				}
			}
		}
		for i, c := range changes {
			t := &tagd.Tag{XUID: c.xuid, AID: c.aid, UID: c.uid, CUID: c.cuid}
			if err := addIndexes(tx, t); err != nil {
				var te *tagd.Error
				if errors.As(err, &te) && te.Code == tagd.CodeConflict {
					return rowErrCode(tagd.CodeConflict, c.row, strings.ToUpper(te.Field), "%s", te.Message)
				}
				return err
			}
			changes[i] = idxChange{}
		}
		if big {
			changes = nil
			runtime.GC() // before the commit allocates its pages
		}
		return nil
	})
}

// keptMeta returns the meta key that tag xuid has now, if any.
func (db *DB) keptMeta(tx *bolt.Tx, xuid string) (tagd.Secret, error) {
	k, ok, err := db.getKeys(tx, tagKeyID(xuid))
	if err != nil || !ok || len(k.Meta) == 0 {
		return nil, err
	}
	return tagd.Secret(slices.Clone([]byte(k.Meta))), nil
}

// apply sets the non-empty cells of r on t; now stamps an assignment.
func (r *TagRow) apply(t *tagd.Tag, now time.Time) {
	if r.UID != "" {
		t.UID = r.UID
	}
	if r.CUID != "" {
		t.CUID = r.CUID
	}
	if r.Name != "" {
		t.Name = r.Name
	}
	if r.Response != "" {
		if t.Ruleset == nil {
			t.Ruleset = &tagd.Ruleset{Default: r.Response} // break the link
		} else {
			t.Ruleset.Default = r.Response // keep the tag's own rule groups
		}
	}
	if r.Status != "" {
		t.Status = tagd.Status(r.Status)
	}
	if r.Assigned != "" {
		assigned := r.Assigned == "Assigned"
		if assigned && !t.Assigned {
			t.AssignedAt = now
		}
		t.Assigned = assigned
	}
	if r.NFTContract != "" {
		t.NFT.Contract = r.NFTContract
	}
	if r.NFTToken != "" {
		t.NFT.Token = r.NFTToken
	}
	if r.NFTChain != "" {
		t.NFT.Chain = r.NFTChain
	}
	if r.NFTOwner != "" {
		t.NFT.Owner = r.NFTOwner
	}
	if r.NFTMeta != "" {
		if t.Extended == nil {
			t.Extended = map[string]string{}
		}
		t.Extended[NFTMetaField] = r.NFTMeta
	}
}

// ImportKeys sets the keys of existing tags from rows, all or nothing, in
// one write transaction, sealed with the KEK. Each row's UID must be the
// tag's; a tag without a UID gets it (CodeConflict when another tag of the
// account holds it). An empty meta key keeps the tag's current one.
// Errors name the row and column and never show a key.
func (db *DB) ImportKeys(ctx context.Context, rows []KeyRow) error {
	rows = slices.Clone(rows)
	for i := range rows {
		if rows[i].Row == 0 {
			rows[i].Row = i + 2
		}
		if err := checkKeyRow(&rows[i]); err != nil {
			return err
		}
	}
	if err := checkKeyRows(rows); err != nil {
		return err
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		for i, r := range rows {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			t, err := get(tx, bucketTags, r.XUID, decodeTag)
			if err != nil {
				return err
			}
			if t == nil {
				return rowErrCode(tagd.CodeNotFound, r.Row, ColXUID, "tag %s not found", r.XUID)
			}
			switch {
			case t.UID == "":
				t.UID = r.UID
				if err := addIndexes(tx, t); err != nil {
					var te *tagd.Error
					if errors.As(err, &te) && te.Code == tagd.CodeConflict {
						return rowErrCode(tagd.CodeConflict, r.Row, ColUID, "%s", te.Message)
					}
					return err
				}
				if err := put(tx, bucketTags, t.XUID, t); err != nil {
					return err
				}
			case t.UID != r.UID:
				return rowErrCode(tagd.CodeConflict, r.Row, ColUID, "tag %s has UID %s, not %s", t.XUID, t.UID, r.UID)
			}
			keys := r.Keys
			if len(keys.Meta) == 0 {
				if keys.Meta, err = db.keptMeta(tx, r.XUID); err != nil {
					return err
				}
			}
			if err := db.putKeys(tx, tagKeyID(r.XUID), keys); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImportTagsCSV parses a tags CSV (ParseTagsCSV) and imports it into batch
// batchID (ImportTags); it returns the number of rows imported.
func (db *DB) ImportTagsCSV(ctx context.Context, batchID string, r io.Reader) (int, error) {
	rows, err := ParseTagsCSV(r)
	if err != nil {
		return 0, err
	}
	n := len(rows)
	if err := db.importTags(ctx, batchID, rows); err != nil {
		return 0, err
	}
	return n, nil
}

// ImportKeysCSV parses a keys CSV (ParseKeysCSV) and imports it
// (ImportKeys); it returns the number of rows imported.
func (db *DB) ImportKeysCSV(ctx context.Context, r io.Reader) (int, error) {
	rows, err := ParseKeysCSV(r)
	if err != nil {
		return 0, err
	}
	defer func() {
		for _, kr := range rows {
			clear(kr.Keys.File)
			clear(kr.Keys.Meta)
		}
	}()
	if err := db.ImportKeys(ctx, rows); err != nil {
		return 0, err
	}
	return len(rows), nil
}

// ExportTagsCSV writes the tags of batch batchID as CSV in the columns
// TagColumns, ordered by XUID, and returns the number of tags. It never
// writes keys. Nothing is written when the batch does not exist
// (CodeNotFound).
func (db *DB) ExportTagsCSV(ctx context.Context, batchID string, w io.Writer) (int, error) {
	n := 0
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if _, err := getBatch(tx, batchID); err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		if err := cw.Write(TagColumns); err != nil {
			return err
		}
		rec := make([]string, len(TagColumns))
		err := bkt(tx, bucketTags).ForEach(func(k, v []byte) error {
			t, err := decodeTag(v)
			if err != nil {
				return fmt.Errorf("tags %q: %w", k, err)
			}
			if t.BatchID != batchID {
				return nil
			}
			n++
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			tagRecord(rec, t)
			return cw.Write(rec)
		})
		if err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
	return n, err
}

// tagRecord fills rec with the TagColumns of t.
func tagRecord(rec []string, t *tagd.Tag) {
	resp := ""
	if t.Ruleset != nil {
		resp = t.Ruleset.Default
	}
	assigned := "Unassigned"
	if t.Assigned {
		assigned = "Assigned"
	}
	copy(rec, []string{t.XUID, t.UID, t.CUID, t.Name, resp, string(t.Status), assigned,
		t.NFT.Contract, t.NFT.Token, t.NFT.Chain, t.NFT.Owner, t.Extended[NFTMetaField]})
}

// BatchAccount returns the AID of the account that batch id belongs to;
// CodeNotFound with Field "batch_id" when there is no such batch.
func (db *DB) BatchAccount(ctx context.Context, id string) (string, error) {
	var aid string
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		aid, err = batchAccount(tx, id)
		return err
	})
	return aid, err
}
