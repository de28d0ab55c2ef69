package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/tagd-nfc/tagd"
)

// The Response API (research/ixkio.md §2): GET /v1/t and its legacy alias
// /k. Every outcome the check flow produces is HTTP 200 with a JSON body
// in ixkio's key order; only refusals at the HTTP level (a method other
// than GET or OPTIONS, an absurdly long query) get another status, with
// the appliance API's {"Code","Message"} body.

// maxQuery is the longest raw query accepted: "?" plus the query stays
// within the 4096 bytes the sun package parses. Anything longer is no tag
// URL and is refused with 414 before the check flow runs.
const maxQuery = 4095

// Error strings of the Response API that only this package produces.
const (
	// errInternal: the check flow failed (a non-nil error or a panic);
	// the details are logged.
	errInternal = "internal_error"
)

// Response API parameters located by parseQuery, as indexes.
const (
	paramX = iota // XUID
	paramA        // AID
	paramC        // CUID
	paramU        // chip UID
	paramR        // folder API token
	numParams
)

// paramIndex returns the index of a Response API parameter name, or -1.
func paramIndex(name string) int {
	switch name {
	case "x":
		return paramX
	case "a":
		return paramA
	case "c":
		return paramC
	case "u":
		return paramU
	case "r":
		return paramR
	}
	return -1
}

// query holds the Response API parameters of a raw query: each value is the
// exact substring of the query, not unescaped.
type query struct {
	val [numParams]string
	set [numParams]bool
}

// parseQuery locates x, a, c, u and r in a raw query (the text after '?').
// Parts are separated by '&' only and the query ends at a '#', as in the
// sun package's parser; a part without '=' has an empty value; names are
// compared as sent ("%78" is not "x"). Nothing is unescaped or reordered.
// dup is the first of the five names that occurs more than once, if any;
// the query is then unusable.
func parseQuery(raw string) (q query, dup string) {
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		name, val, _ := strings.Cut(part, "=")
		i := paramIndex(name)
		if i < 0 {
			continue
		}
		if q.set[i] {
			return q, name
		}
		q.val[i], q.set[i] = val, true
	}
	return q, ""
}

// unescape decodes a query value for use as an identifier or token. A value
// that is not validly escaped is used as sent; it then simply matches no
// tag.
func unescape(v string) string {
	if !strings.ContainsAny(v, "%+") {
		return v
	}
	if u, err := url.QueryUnescape(v); err == nil {
		return u
	}
	return v
}

// Token headers of the Response API. "X-API-Key" and "X-Api-Key" are the
// same header: Go canonicalises both to X-Api-Key.
const (
	headerAPIKey = "X-Api-Key"
	headerIxkioR = "Ixkio-R"
)

// handleLookup answers /v1/t and /k.
func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodOptions:
		handlePreflight(w)
		return
	default:
		w.Header().Set("Allow", "GET, OPTIONS")
		writeCodeMessage(w, http.StatusMethodNotAllowed, tagd.CodeInvalid, "method "+r.Method+" not allowed; use GET")
		return
	}
	raw := r.URL.RawQuery
	if len(raw) > maxQuery {
		writeCodeMessage(w, http.StatusRequestURITooLong, tagd.CodeInvalid,
			"query is "+strconv.Itoa(len(raw))+" bytes; at most "+strconv.Itoa(maxQuery)+" are accepted")
		return
	}
	q, dup := parseQuery(raw)
	if dup != "" {
		// Two values for one identifier or token: which one the client
		// meant is unknowable, so no identifier is usable. The check flow
		// does not run and no scan is recorded.
		writeJSON(w, http.StatusOK, appendResult(nil, &tagd.Result{Error: tagd.ErrMissingIdentifier}))
		return
	}
	req := tagd.Request{
		Source: "api",
		Lookup: tagd.Lookup{
			XUID: unescape(q.val[paramX]),
			AID:  unescape(q.val[paramA]),
			CUID: unescape(q.val[paramC]),
			UID:  unescape(q.val[paramU]),
		},
		RawURL: "?" + raw,
		Time:   s.now(),
	}
	req.Token, req.HasToken = token(r, q)

	res, err := s.check(r.Context(), req)
	if err != nil {
		// Log what identifies the request, never the token nor the SUN
		// values of the query.
		s.logger().ErrorContext(r.Context(), "ixkio check failed", "err", err, "path", r.URL.Path,
			"x", req.Lookup.XUID, "a", req.Lookup.AID, "c", req.Lookup.CUID, "u", req.Lookup.UID)
		res = tagd.Result{Error: errInternal}
	}
	if res.CORS != "" {
		w.Header().Set("Access-Control-Allow-Origin", res.CORS)
	}
	writeJSON(w, http.StatusOK, appendResult(make([]byte, 0, 128), &res))
}

// token returns the folder API token of a request and whether one was
// presented: query r first, then the X-API-Key header, then Ixkio-R. Of a
// header sent several times, the first value counts.
func token(r *http.Request, q query) (string, bool) {
	if q.set[paramR] {
		return unescape(q.val[paramR]), true
	}
	for _, name := range [...]string{headerAPIKey, headerIxkioR} {
		if v := r.Header.Values(name); len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

// check calls the Checker, turning a panic into an error so that the
// client still gets a well-formed internal_error reply.
func (s *Server) check(ctx context.Context, req tagd.Request) (res tagd.Result, err error) {
	if s.Checker == nil {
		return res, fmt.Errorf("httpapi: Server has no Checker")
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err = fmt.Errorf("panic in check: %v\n%s", v, debug.Stack())
		}
	}()
	return s.Checker.Check(ctx, req)
}

// handlePreflight answers OPTIONS on /v1/t and /k with 204, the allowed
// method and the token headers, but without Access-Control-Allow-Origin:
// the origin allowed is a folder setting, and the folder is only known by
// running the check flow, which records a scan and must not run for a
// preflight. Browsers can still call the API cross-origin with the token
// in the query (a simple request needs no preflight); the GET reply carries
// the folder's CORS header. Echoing the folder's origin here needs a
// side-effect-free folder lookup in the root package.
func handlePreflight(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Allow", "GET, OPTIONS")
	h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "X-API-Key, Ixkio-R")
	w.WriteHeader(http.StatusNoContent)
}

// appendResult appends res as an ixkio reply: xuid; cuid (lookup by CUID)
// or uid (lookup by UID); error if set, else response; then the extra
// fields in order, as strings, or as raw JSON when a JSON field holds valid
// JSON. An extra field with an empty key, or with a key already in the
// reply, is left out, so that the reply never holds a key twice.
func appendResult(b []byte, res *tagd.Result) []byte {
	used := [3]string{"xuid"}
	b = append(b, `{"xuid":`...)
	b = appendString(b, res.XUID)
	switch res.Kind {
	case tagd.ByCUID:
		b = append(b, `,"cuid":`...)
		b = appendString(b, res.CUID)
		used[1] = "cuid"
	case tagd.ByUID:
		b = append(b, `,"uid":`...)
		b = appendString(b, res.UID)
		used[1] = "uid"
	}
	if res.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, res.Error)
		used[2] = "error"
	} else {
		b = append(b, `,"response":`...)
		b = appendString(b, res.Response)
		used[2] = "response"
	}
	for i, f := range res.Extra {
		if f.Key == "" || f.Key == used[0] || f.Key == used[1] || f.Key == used[2] || seenKey(res.Extra[:i], f.Key) {
			continue
		}
		b = append(b, ',')
		b = appendString(b, f.Key)
		b = append(b, ':')
		ok := false
		if f.JSON {
			b, ok = appendRawJSON(b, f.Value)
		}
		if !ok {
			b = appendString(b, f.Value)
		}
	}
	return append(b, '}')
}

// seenKey reports whether one of fs has the key k.
func seenKey(fs []tagd.Field, k string) bool {
	for _, f := range fs {
		if f.Key == k {
			return true
		}
	}
	return false
}
