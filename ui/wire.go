package ui

import (
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tagd-nfc/tagd"
)

// MessageType names a message of the kiosk's websocket.
type MessageType string

// Message types, sent by the server to the page.
const (
	// TypeHello is the first message of every connection: the asset
	// version, the language, the idle delay, the status of every reader,
	// the sync status and the last tap if it is still recent.
	TypeHello MessageType = "hello"
	// TypeTap carries a verdict to show.
	TypeTap MessageType = "tap"
	// TypeReader carries the new status of one reader.
	TypeReader MessageType = "reader"
	// TypeSync carries the new sync status.
	TypeSync MessageType = "sync"
)

// Message is one JSON text message of the websocket /ws. It is the whole
// wire format: the page never sends anything but pongs and close frames.
// It carries no keys, tokens, UIDs, counters or other SUN values.
type Message struct {
	Type MessageType `json:"type"`
	// Version is the asset version (hello); the page reloads itself when
	// it differs from the version it was served with.
	Version string `json:"version,omitempty"`
	// Lang is the operator's language (hello).
	Lang string `json:"lang,omitempty"`
	// IdleAfterMS is how long a verdict stays on screen (hello).
	IdleAfterMS int64 `json:"idle_after_ms,omitempty"`
	// Readers is the status of every reader (hello).
	Readers []Reader `json:"readers,omitempty"`
	// Reader is the new status of one reader (reader).
	Reader *Reader `json:"reader,omitempty"`
	// Sync is the sync status (hello, sync).
	Sync *Sync `json:"sync,omitempty"`
	// Tap is a verdict (tap; hello when the last tap is recent).
	Tap *Tap `json:"tap,omitempty"`
}

// Reader is the status of one reader as the page shows it.
type Reader struct {
	Name  string           `json:"name"`
	State tagd.ReaderState `json:"state"`
	Since time.Time        `json:"since,omitzero"`
}

// SyncState is the state of the synchronisation with the hub.
type SyncState string

// Sync states.
const (
	SyncNotConfigured SyncState = "not_configured" // no hub configured
	SyncOK            SyncState = "ok"             // everything sent
	SyncPending       SyncState = "pending"        // events waiting to be sent
	SyncOffline       SyncState = "offline"        // the hub is unreachable
	SyncError         SyncState = "error"          // the hub refuses; retrying
)

// Sync is the sync status as the page shows it.
type Sync struct {
	State SyncState `json:"state"`
	// Pending is the number of events waiting to be sent.
	Pending int `json:"pending,omitempty"`
	// Last is the time of the last successful sync.
	Last time.Time `json:"last,omitzero"`
}

// Verdict is what the kiosk says about a tap.
type Verdict string

// Verdicts, from a Result by VerdictOf.
const (
	VerdictGenuine    Verdict = "genuine"     // authentication passed
	VerdictNotGenuine Verdict = "not_genuine" // authentication failed
	VerdictReplay     Verdict = "replay"      // a SUN message seen before: already used
	VerdictUnknown    Verdict = "unknown"     // no such tag
	VerdictInactive   Verdict = "inactive"    // the tag, batch, group or folder is inactive
	VerdictFound      Verdict = "found"       // a standard tag: the product, no authentication
	VerdictError      Verdict = "error"       // the check could not be made; try again
)

// Tap is a verdict with the product it concerns.
type Tap struct {
	// ID identifies the tap, so that a page that reconnects does not show
	// a tap it has shown already.
	ID      string  `json:"id"`
	Verdict Verdict `json:"verdict"`
	// Code is the verdict reason (mac_mismatch, replay, …) or the ixkio
	// error code (xuid_not_found, tag_inactive, …), for diagnostics.
	Code string `json:"code,omitempty"`
	XUID string `json:"xuid,omitempty"`
	// Name is the tag's name (the product), or its group's.
	Name string `json:"name,omitempty"`
	// Response is the rendered response of the tag's ruleset.
	Response  string    `json:"response,omitempty"`
	ScanCount uint64    `json:"scan_count,omitempty"`
	Time      time.Time `json:"time"`
	// Reader names the reader of the tap ("" for an API lookup).
	Reader string `json:"reader,omitempty"`
	// Tamper is the tag's TagTamper status, when it has one.
	Tamper string `json:"tamper,omitempty"`
	// Fields are the extended data of the tag (and of its group), in the
	// folder's order.
	Fields []Field `json:"fields,omitempty"`
	// Image is the product image: a same-origin path or a data:image URL.
	Image string `json:"image,omitempty"`
	// ShowMS is how long the page shows the tap before going idle.
	ShowMS int64 `json:"show_ms"`
}

// Field is one extended-data field of a product.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Limits on what a tap carries to the page.
const (
	maxFields     = 8
	maxFieldName  = 60
	maxFieldValue = 300
	maxImageURL   = 512 << 10
)

// VerdictOf maps the outcome of a check to the kiosk's verdict.
func VerdictOf(r *tagd.Result) Verdict {
	switch e := r.Error; {
	case strings.HasSuffix(e, "_inactive"):
		return VerdictInactive
	case e == tagd.ErrXUIDNotFound, e == tagd.ErrUIDNotFound, e == tagd.ErrCUIDNotFound,
		e == tagd.ErrAIDNotFound, e == tagd.ErrUnknownTag, e == tagd.ErrMissingIdentifier,
		strings.HasSuffix(e, "_not_found"):
		return VerdictUnknown
	case e == tagd.ErrBadParam:
		return VerdictNotGenuine // a malformed SUN message
	case e != "":
		return VerdictError
	}
	switch r.Auth {
	case "pass":
		return VerdictGenuine
	case "fail":
		switch r.Reason {
		case tagd.CodeReplay:
			return VerdictReplay
		case tagd.CodeUnknownTag:
			return VerdictNotGenuine // a genuine message of another tag
		}
		return VerdictNotGenuine
	}
	return VerdictFound
}

// NewTap builds the tap the page shows from a tap event. It copies only
// what the page displays: never keys, tokens, UIDs or SUN values. ID and
// ShowMS are left to the Server.
func NewTap(ev tagd.Event) Tap {
	r := ev.Result
	t := Tap{Verdict: VerdictOf(r), XUID: r.XUID, Response: r.Response, Time: ev.Time, Tamper: r.Tamper}
	if t.Time.IsZero() {
		t.Time = r.Scan.Time
	}
	switch {
	case r.Error != "":
		t.Code = r.Error
	case r.Reason != "":
		t.Code = string(r.Reason)
	}
	if name, ok := strings.CutPrefix(r.Scan.Source, "reader:"); ok {
		t.Reader = name
	}
	t.ScanCount = r.Scan.ScanCount
	if v := r.Tag; v != nil {
		t.Name = v.Tag.Name
		if t.Name == "" {
			t.Name = v.Group.Name
		}
		if t.XUID == "" {
			t.XUID = v.Tag.XUID
		}
		if v.Tag.ScanCount > t.ScanCount {
			t.ScanCount = v.Tag.ScanCount
		}
		t.Fields, t.Image = fields(v)
	}
	return t
}

// fields returns the extended data of a tag over its group's, in the
// folder's field order then by name, and the image field if it is safe.
func fields(v *tagd.TagView) ([]Field, string) {
	data := map[string]string{}
	for k, val := range v.Group.Extended {
		data[k] = val
	}
	for k, val := range v.Tag.Extended {
		data[k] = val
	}
	image := ""
	for k, val := range data {
		if strings.EqualFold(k, "image") {
			if SafeImageURL(val) {
				image = val
			}
			delete(data, k)
		}
	}
	var out []Field
	add := func(k string) {
		val := strings.TrimSpace(data[k])
		delete(data, k)
		if val == "" || len(out) >= maxFields {
			return
		}
		out = append(out, Field{Name: truncate(k, maxFieldName), Value: truncate(val, maxFieldValue)})
	}
	for _, f := range v.Folder.Fields {
		if _, ok := data[f.Name]; ok {
			add(f.Name)
		}
	}
	rest := make([]string, 0, len(data))
	for k := range data {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		add(k)
	}
	return out, image
}

// SafeImageURL reports whether the page may show an image from u: a
// same-origin path ("/media/x.png", "img/x.png") or a data:image URL. The
// page loads nothing from other origins.
func SafeImageURL(u string) bool {
	if u == "" || len(u) > maxImageURL {
		return false
	}
	if strings.HasPrefix(strings.ToLower(u), "data:image/") {
		return strings.Contains(u, ",")
	}
	if strings.ContainsAny(u, "\\\r\n\t") || strings.HasPrefix(u, "//") {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && p.Scheme == "" && p.Host == "" && p.Opaque == "" && p.Path != ""
}

// truncate cuts s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
