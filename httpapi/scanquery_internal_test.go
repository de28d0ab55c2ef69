package httpapi

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
)

// TestParseScanQuery checks the parser of GET /api/v1/scans against the
// query's definition (scanquery.go): values, defaults, and one error per
// bad parameter, naming it.
func TestParseScanQuery(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		raw    string
		want   tagd.ScanQuery
		format string
	}{
		{"", tagd.ScanQuery{Limit: 100}, "json"},
		{"format=csv", tagd.ScanQuery{}, "csv"},
		{"format=csv&limit=5", tagd.ScanQuery{Limit: 5}, "csv"},
		{"last=7", tagd.ScanQuery{Limit: 7}, "json"},
		{"limit=1000000", tagd.ScanQuery{Limit: 1000000}, "json"},
		{"xuid=q8w3sbcz&uid=04aabbcc112233&aid=demo&source=reader:ACR%20122&verdict=fail&reason=replay",
			tagd.ScanQuery{XUID: "q8w3sbcz", UID: "04AABBCC112233", AID: "demo", Source: "reader:ACR 122", Verdict: "fail", Reason: "replay", Limit: 100}, "json"},
		{"since=2026-03-01T11:00:00Z&until=2026-03-01T13:00:00%2B01:00", tagd.ScanQuery{Since: t0.Add(-time.Hour), Until: t0, Limit: 100}, "json"},
		// an unencoded "+" arrives as a space
		{"since=2026-03-01T13:00:00+01:00", tagd.ScanQuery{Since: t0, Limit: 100}, "json"},
		{"before=42&limit=2", tagd.ScanQuery{Before: 42, Limit: 2}, "json"},
		{"xuid=&limit=", tagd.ScanQuery{Limit: 100}, "json"},
	} {
		v, err := url.ParseQuery(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		got, format, err := parseScanQuery(v)
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if !sameScanQuery(got, tc.want) || format != tc.format {
			t.Errorf("%s: got %+v %s, want %+v %s", tc.raw, got, format, tc.want, tc.format)
		}
	}
	for _, tc := range []struct{ raw, field, msg string }{
		{"xiud=q8w3sbcz", "xiud", "xiud: unknown parameter"},
		{"xuid=a&xuid=b", "xuid", "xuid: given more than once"},
		{"uid=04GG", "uid", "uid: want the chip UID in hex"},
		{"verdict=ok", "verdict", "verdict: want pass, fail or none"},
		{"reason=nope", "reason", "reason: want one of mac_mismatch, "},
		{"since=yesterday", "since", "since: want an RFC 3339 time"},
		{"until=2026-03-01", "until", "until: want an RFC 3339 time"},
		{"since=2026-03-01T12:00:00Z&until=2026-03-01T12:00:00Z", "until", "until: until must be later than since"},
		{"before=0", "before", "before: want the seq of a scan"},
		{"before=-3", "before", "before: want the seq of a scan"},
		{"limit=0", "limit", "limit: want a number from 1 to 1000000"},
		{"limit=1000001", "limit", "limit: want a number from 1 to 1000000"},
		{"last=x", "last", "last: want a number from 1 to 1000000"},
		{"last=1&limit=1", "last", "last: give limit or last, not both"},
		{"format=xml", "format", "format: want json or csv"},
		{"source=a%00b", "source", "source: want at most"},
	} {
		v, _ := url.ParseQuery(tc.raw)
		_, _, err := parseScanQuery(v)
		var e *tagd.Error
		if !errors.As(err, &e) || e.Code != tagd.CodeInvalid || e.Field != tc.field || !strings.HasPrefix(e.Message, tc.msg) {
			t.Errorf("%s: error %#v, want invalid %s %q…", tc.raw, err, tc.field, tc.msg)
		}
	}
}

// sameScanQuery compares two queries, times by instant.
func sameScanQuery(a, b tagd.ScanQuery) bool {
	ta, tb := a, b
	ta.Since, ta.Until, tb.Since, tb.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return ta == tb && a.Since.Equal(b.Since) && a.Until.Equal(b.Until)
}

// FuzzParseScanQuery feeds arbitrary query strings to the scan-log query
// parser: it never panics; an error is CodeInvalid with Field naming a
// parameter of the query and a message that starts with it; a parsed
// query validates, and ScanQueryValues writes it back as a query that
// parses to the same thing.
func FuzzParseScanQuery(f *testing.F) {
	for _, s := range []string{"", "format=csv", "last=7", "limit=3&before=9", "xuid=q8w3sbcz&verdict=pass",
		"uid=04aabbcc112233&reason=replay", "since=2026-03-01T12:00:00Z&until=2026-03-02T00:00:00.5+01:00",
		"aid=demo&source=reader:x", "xiud=1", "limit=1&last=1", "before=18446744073709551615", "until=2026-03-01T12:00:00Z&since=2027-01-01T00:00:00Z", "=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, format, err := parseScanQuery(v)
		if err != nil {
			var e *tagd.Error
			if !errors.As(err, &e) || e.Code != tagd.CodeInvalid || e.Field == "" {
				t.Fatalf("%q: error %#v, want CodeInvalid with a field", raw, err)
			}
			if _, ok := v[e.Field]; !ok {
				t.Fatalf("%q: error names %q, which is not in the query", raw, e.Field)
			}
			if !strings.HasPrefix(e.Message, e.Field+": ") && !strings.HasPrefix(e.Message, "a parameter: ") {
				t.Fatalf("%q: message %q does not start with the parameter", raw, e.Message)
			}
			return
		}
		if format != ScanFormatJSON && format != ScanFormatCSV {
			t.Fatalf("%q: format %q", raw, format)
		}
		again := q
		if err := again.Validate(); err != nil || again != q {
			t.Fatalf("%q: parsed %+v does not validate unchanged: %v", raw, q, err)
		}
		q2, format2, err := parseScanQuery(ScanQueryValues(q, format))
		if err != nil || format2 != format || !sameScanQuery(q, q2) {
			t.Fatalf("%q: %+v written as %q parses to %+v %s (%v)", raw, q, ScanQueryValues(q, format).Encode(), q2, format2, err)
		}
	})
}
