package tagd

import (
	"net/url"
	"time"
)

// Request is one check: a lookup on the Response API (GET /v1/t) or a tap
// read by a reader. Both go through the same flow.
type Request struct {
	// Source is "api" or "reader:NAME"; it is recorded in the scan log.
	Source string
	// Lookup holds x, a, c and u of the request.
	Lookup Lookup
	// RawURL is the tag URL (a reader's NDEF URI) or, for an API call, the
	// request's raw query prefixed by "?"; the SUN parameters and MAC input
	// are cut from it without re-encoding.
	RawURL string
	// TagUID is the UID a reader read from the tag itself (uppercase hex),
	// used when the URL names no tag (a tag without SUN, or a line reader
	// that sends only UIDs).
	TagUID string
	// Token is the folder API token presented (query r or header), if any.
	Token    string
	HasToken bool
	// Time is when the request arrived.
	Time time.Time
}

// LookupKind says how the request named its tag, which decides the keys
// of the ixkio response.
type LookupKind uint8

// Lookup kinds.
const (
	ByXUID LookupKind = iota
	ByCUID
	ByUID
	BySUN // identified from the SUN message itself (PICCData or plain UID)
)

// Field is an extra top-level key of an API response (an extended-data
// field set to "Add to Response").
type Field struct {
	Key   string
	Value string
	// JSON says Value is raw JSON (a json-type field), not a string.
	JSON bool
}

// Result is the outcome of a check: what the Response API returns and the
// kiosk shows.
type Result struct {
	Kind LookupKind
	XUID string
	CUID string
	UID  string
	// Response is the rendered response; Error the ixkio error code.
	// Exactly one of them is set.
	Response string
	Error    string
	Extra    []Field
	// CORS is the folder's CORS setting, when the folder is known.
	CORS string
	// Auth is "pass" or "fail" for authentication tags, "" otherwise;
	// Reason says why it failed.
	Auth    string
	Reason  Code
	Counter uint32
	Tamper  string
	// Tag is the tag after the check (counts updated), when one was found.
	Tag *TagView
	// Scan is the scan-log entry written for this check.
	Scan Scan
}

// ixkio error codes of the Response API (ixkio.md §2.6, §7).
const (
	ErrMissingIdentifier = "missing_identifier"
	ErrAIDNotFound       = "aid_not_found"
	ErrXUIDNotFound      = "xuid_not_found"
	ErrCUIDNotFound      = "cuid_not_found"
	ErrUIDNotFound       = "uid_not_found"
	ErrTokenInvalid      = "token_invalid"
	ErrFolderInactive    = "folder_inactive"
	ErrTGInactive        = "tg_inactive"
	ErrBatchInactive     = "batch_inactive"
	ErrTagInactive       = "tag_inactive"
	ErrUIDAmbiguous      = "uid_ambiguous"
	ErrUnknownTag        = string(CodeUnknownTag)
	ErrBadParam          = string(CodeBadParam)
	ErrInternal          = "internal_error"
)

// SUNResult is the outcome of a SUN check of one message.
type SUNResult struct {
	// Present says the URL carries SUN parameters at all.
	Present bool
	// Pass says the MAC verified (the replay check comes later).
	Pass       bool
	Reason     Code
	UID        string
	Counter    uint32
	HasCounter bool
	Tamper     string
	FileData   []byte
}

// Verifier checks SUN messages; the sun package does the crypto, an
// adapter in cmd/tagd caches expanded keys per group.
type Verifier interface {
	// Verify checks the SUN message of rawURL for a tag of group g. tagKeys
	// are the tag's own keys when hasTagKeys; uid is the tag's stored UID
	// (for URLs that do not carry it).
	Verify(g *TagGroup, groupKeys, tagKeys Keys, hasTagKeys bool, uid, rawURL string) SUNResult
	// Identify decrypts the PICCData of rawURL with the group's meta key
	// (or reads a plain UID) and returns the UID when the PICCDataTag is
	// valid; otherwise reason says why (CodeBadParam for a malformed
	// message, CodePICCInvalid when the key does not open it).
	Identify(g *TagGroup, groupKeys Keys, rawURL string) (uid string, reason Code)
}

// Checker is the check flow: identify the tag, check the folder token and
// the status cascade, verify the SUN message, check the counter, evaluate
// the rules, render the response and record the scan.
type Checker struct {
	Store    TapStore
	Verifier Verifier
	// Now is the clock; Rand returns random numbers for {randnum} and
	// {randhex}.
	Now  func() time.Time
	Rand func() uint64
}

// LookupFromURL returns the ixkio identifiers (x, a, c, u) that a tag URL
// read by a reader carries in its query, for tags encoded with an ixkio
// API-mode URL. Values are unescaped; a URL that does not parse names no
// tag.
func LookupFromURL(raw string) Lookup {
	u, err := url.Parse(raw)
	if err != nil {
		return Lookup{}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Lookup{}
	}
	return Lookup{XUID: q.Get("x"), AID: q.Get("a"), CUID: q.Get("c"), UID: q.Get("u")}
}
