package httpapi

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tagd-nfc/tagd"
)

// The query of GET /api/v1/scans:
//
//	xuid, uid, aid, source   exact match (uid in any case)
//	verdict                  pass | fail | none
//	reason                   a verdict reason or Response API error
//	since, until             RFC 3339; since <= time < until
//	before                   a scan's seq: the page below it (cursor)
//	limit (or last)          1 … 1,000,000; JSON default 100, CSV default all
//	format                   json (default) | csv
//
// An empty value is the same as no value, and a value without a name is
// ignored. Anything else is CodeInvalid
// with Field naming the parameter and a message that starts with it.

// Formats of the scan log.
const (
	ScanFormatJSON = "json"
	ScanFormatCSV  = "csv"
)

// defaultScanLimit is the page size of a JSON scan listing without limit.
const defaultScanLimit = 100

// isScanParam reports whether the scan log takes the query parameter.
func isScanParam(name string) bool {
	switch name {
	case "xuid", "uid", "aid", "source", "verdict", "reason", "since", "until", "before", "limit", "last", "format":
		return true
	}
	return false
}

// scanParamList is scanParams for messages.
const scanParamList = "xuid, uid, aid, source, verdict, reason, since, until, before, limit (or last) and format"

// parseScanQuery parses the query of GET /api/v1/scans into a validated
// ScanQuery and the format.
func parseScanQuery(v url.Values) (tagd.ScanQuery, string, error) {
	var q tagd.ScanQuery
	format := ScanFormatJSON
	for _, name := range slices.Sorted(maps.Keys(v)) {
		vals := v[name]
		if name == "" { // "=x", a stray fragment of a hand-written query
			continue
		}
		if !isScanParam(name) {
			shown := name
			if len(shown) > 40 || strings.IndexFunc(shown, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
				shown = "a parameter"
			}
			return q, "", paramErr(name, shown+": unknown parameter; the scan log takes "+scanParamList)
		}
		if len(vals) > 1 {
			return q, "", paramErr(name, name+": given more than once")
		}
	}
	get := v.Get
	q.XUID, q.AID, q.Source, q.Verdict, q.Reason, q.UID = get("xuid"), get("aid"), get("source"), get("verdict"), get("reason"), get("uid")
	if f := get("format"); f != "" {
		if f != ScanFormatJSON && f != ScanFormatCSV {
			return q, "", paramErr("format", "format: want json or csv")
		}
		format = f
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		s := get(t.name)
		if s == "" {
			continue
		}
		// A "+" of an offset that was not percent-encoded arrives as a
		// space; RFC 3339 has no spaces, so it can only mean "+".
		tm, err := time.Parse(time.RFC3339, strings.ReplaceAll(s, " ", "+"))
		if err != nil {
			return q, "", paramErr(t.name, t.name+": want an RFC 3339 time, such as 2026-03-01T12:00:00Z")
		}
		*t.dst = tm
	}
	if s := get("before"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return q, "", paramErr("before", "before: want the seq of a scan (a positive number): the page starts below it")
		}
		q.Before = n
	}
	limit, last := get("limit"), get("last")
	name := "limit"
	switch {
	case limit != "" && last != "":
		return q, "", paramErr("last", "last: give limit or last, not both")
	case last != "":
		limit, name = last, "last"
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > tagd.MaxScanLimit {
			return q, "", paramErr(name, name+": want a number from 1 to "+strconv.Itoa(tagd.MaxScanLimit))
		}
		q.Limit = n
	} else if format == ScanFormatJSON {
		q.Limit = defaultScanLimit
	}
	if err := q.Validate(); err != nil {
		return q, "", err
	}
	return q, format, nil
}

// paramErr returns the CodeInvalid error of a query parameter.
func paramErr(field, msg string) *tagd.Error {
	return &tagd.Error{Code: tagd.CodeInvalid, Field: field, Message: msg}
}

// ScanQueryValues returns the query of GET /api/v1/scans that selects what
// q selects, in format (json or csv): the inverse of the server's parser,
// for clients such as the CLI and for the next-page link. A zero Limit
// is left out (for JSON the server then pages by 100).
func ScanQueryValues(q tagd.ScanQuery, format string) url.Values {
	v := url.Values{}
	set := func(name, val string) {
		if val != "" {
			v.Set(name, val)
		}
	}
	set("xuid", q.XUID)
	set("uid", q.UID)
	set("aid", q.AID)
	set("source", q.Source)
	set("verdict", q.Verdict)
	set("reason", q.Reason)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339Nano))
	}
	if q.Before != 0 {
		v.Set("before", strconv.FormatUint(q.Before, 10))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if format != "" && format != ScanFormatJSON {
		v.Set("format", format)
	}
	return v
}
