package tagd

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxScanLimit is the most scans one query may ask for (ScanQuery.Limit).
const MaxScanLimit = 1_000_000

// Verdicts of ScanQuery.Verdict: the scan's Auth, with "none" for a scan
// that ran no SUN check (a standard tag, an error).
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
	VerdictNone = "none"
)

// ScanQuery selects entries of the scan log. Zero fields select
// everything; set fields must all match. The log is read newest first.
type ScanQuery struct {
	XUID string
	// UID is the chip UID, uppercase hex (Validate upper-cases it).
	UID    string
	AID    string
	Source string // "api" or "reader:NAME"
	// Verdict is VerdictPass, VerdictFail or VerdictNone.
	Verdict string
	// Reason is a verdict reason (mac_mismatch, replay, …) or a Response
	// API error (xuid_not_found, tag_inactive, …): it matches a scan whose
	// Reason or Error is that code.
	Reason string
	// Since and Until bound the scan's Time: Since <= Time < Until.
	Since, Until time.Time
	// Before is a cursor: only scans with Seq < Before (0: from the
	// newest).
	Before uint64
	// Limit is the most scans returned (0: no limit).
	Limit int
}

// ScanReasons returns the codes a ScanQuery.Reason may name: the verdict
// reasons and the Response API's errors, in a stable order.
func ScanReasons() []string {
	out := make([]string, 0, 20)
	for _, c := range VerdictCodes() {
		out = append(out, string(c))
	}
	for _, e := range []string{ErrMissingIdentifier, ErrAIDNotFound, ErrXUIDNotFound, ErrCUIDNotFound, ErrUIDNotFound,
		ErrTokenInvalid, ErrFolderInactive, ErrTGInactive, ErrBatchInactive, ErrTagInactive, ErrUIDAmbiguous, ErrInternal} {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// maxScanField bounds the text fields of a ScanQuery (bytes).
const maxScanField = 256

// Validate checks q and upper-cases its UID. The error is CodeInvalid with
// Field naming the query parameter (xuid, uid, aid, source, verdict,
// reason, until, before, limit) and a message that starts with it.
func (q *ScanQuery) Validate() error {
	for _, f := range []struct{ name, v string }{{"xuid", q.XUID}, {"aid", q.AID}, {"source", q.Source}} {
		if !utf8.ValidString(f.v) || len(f.v) > maxScanField || strings.IndexFunc(f.v, unicode.IsControl) >= 0 {
			return scanErr(f.name, "want at most "+strconv.Itoa(maxScanField)+" bytes of text without control characters")
		}
	}
	if q.UID != "" {
		u := strings.ToUpper(q.UID)
		if len(u)%2 != 0 || len(u) > 32 || strings.IndexFunc(u, func(r rune) bool { return !('0' <= r && r <= '9' || 'A' <= r && r <= 'F') }) >= 0 {
			return scanErr("uid", "want the chip UID in hex, such as 04AABBCC112233")
		}
		q.UID = u
	}
	switch q.Verdict {
	case "", VerdictPass, VerdictFail, VerdictNone:
	default:
		return scanErr("verdict", "want pass, fail or none")
	}
	if q.Reason != "" && !slices.Contains(ScanReasons(), q.Reason) {
		return scanErr("reason", "want one of "+strings.Join(ScanReasons(), ", "))
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return scanErr("until", "until must be later than since")
	}
	if q.Limit < 0 || q.Limit > MaxScanLimit {
		return scanErr("limit", "want a number from 1 to "+strconv.Itoa(MaxScanLimit))
	}
	return nil
}

// scanErr returns the CodeInvalid error of a ScanQuery field.
func scanErr(field, msg string) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: field + ": " + msg}
}

// Match reports whether s is selected by q (Limit aside).
func (q *ScanQuery) Match(s *Scan) bool {
	switch {
	case q.XUID != "" && s.XUID != q.XUID,
		q.UID != "" && s.UID != q.UID,
		q.AID != "" && s.AID != q.AID,
		q.Source != "" && s.Source != q.Source,
		q.Reason != "" && string(s.Reason) != q.Reason && s.Error != q.Reason,
		!q.Since.IsZero() && s.Time.Before(q.Since),
		!q.Until.IsZero() && !s.Time.Before(q.Until),
		q.Before != 0 && s.Seq >= q.Before:
		return false
	}
	switch q.Verdict {
	case VerdictPass, VerdictFail:
		return s.Auth == q.Verdict
	case VerdictNone:
		return s.Auth != VerdictPass && s.Auth != VerdictFail
	}
	return true
}

// ScanCSVHeader returns the header row of the scan log's CSV export, the
// JSON names of the Scan fields.
func ScanCSVHeader() []string {
	return []string{"seq", "time", "source", "xuid", "aid", "uid", "counter", "auth", "reason", "tamper", "response", "error", "scan_count"}
}

// CSVRecord returns s as a row of the CSV export, in ScanCSVHeader's
// columns: the time in RFC 3339 (UTC, with fractions of a second when it
// has them), the counter empty when the tap carried none.
func (s *Scan) CSVRecord() []string {
	ctr := ""
	if s.HasCounter {
		ctr = strconv.FormatUint(uint64(s.Counter), 10)
	}
	return []string{strconv.FormatUint(s.Seq, 10), s.Time.UTC().Format(time.RFC3339Nano), s.Source, s.XUID, s.AID, s.UID,
		ctr, s.Auth, string(s.Reason), s.Tamper, s.Response, s.Error, strconv.FormatUint(s.ScanCount, 10)}
}
