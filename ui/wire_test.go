package ui_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/ui"
)

func TestVerdictOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    tagd.Result
		want ui.Verdict
	}{
		{"Pass", tagd.Result{Auth: "pass", Response: "ok"}, ui.VerdictGenuine},
		{"Replay", tagd.Result{Auth: "fail", Reason: tagd.CodeReplay}, ui.VerdictReplay},
		{"MACMismatch", tagd.Result{Auth: "fail", Reason: tagd.CodeMACMismatch}, ui.VerdictNotGenuine},
		{"PICCInvalid", tagd.Result{Auth: "fail", Reason: tagd.CodePICCInvalid}, ui.VerdictNotGenuine},
		{"ModeNotAllowed", tagd.Result{Auth: "fail", Reason: tagd.CodeModeNotAllowed}, ui.VerdictNotGenuine},
		{"OtherTagsMessage", tagd.Result{Auth: "fail", Reason: tagd.CodeUnknownTag}, ui.VerdictNotGenuine},
		{"BadParam", tagd.Result{Error: tagd.ErrBadParam}, ui.VerdictNotGenuine},
		{"XUIDNotFound", tagd.Result{Error: tagd.ErrXUIDNotFound}, ui.VerdictUnknown},
		{"UIDNotFound", tagd.Result{Error: tagd.ErrUIDNotFound}, ui.VerdictUnknown},
		{"CUIDNotFound", tagd.Result{Error: tagd.ErrCUIDNotFound}, ui.VerdictUnknown},
		{"AIDNotFound", tagd.Result{Error: tagd.ErrAIDNotFound}, ui.VerdictUnknown},
		{"UnknownTag", tagd.Result{Error: tagd.ErrUnknownTag}, ui.VerdictUnknown},
		{"MissingIdentifier", tagd.Result{Error: tagd.ErrMissingIdentifier}, ui.VerdictUnknown},
		{"TagInactive", tagd.Result{Error: tagd.ErrTagInactive}, ui.VerdictInactive},
		{"BatchInactive", tagd.Result{Error: tagd.ErrBatchInactive}, ui.VerdictInactive},
		{"GroupInactive", tagd.Result{Error: tagd.ErrTGInactive}, ui.VerdictInactive},
		{"FolderInactive", tagd.Result{Error: tagd.ErrFolderInactive}, ui.VerdictInactive},
		{"InactiveWinsOverAuth", tagd.Result{Error: tagd.ErrTagInactive, Auth: "pass"}, ui.VerdictInactive},
		{"Standard", tagd.Result{Response: "Product page"}, ui.VerdictFound},
		{"Internal", tagd.Result{Error: tagd.ErrInternal}, ui.VerdictError},
		{"TokenInvalid", tagd.Result{Error: tagd.ErrTokenInvalid}, ui.VerdictError},
		{"Ambiguous", tagd.Result{Error: tagd.ErrUIDAmbiguous}, ui.VerdictError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ui.VerdictOf(&tc.r); got != tc.want {
				t.Errorf("VerdictOf(%+v) = %s, want %s", tc.r, got, tc.want)
			}
		})
	}
}

func TestNewTap(t *testing.T) {
	at := time.Date(2026, 5, 14, 14, 32, 5, 0, time.UTC)
	secrets := []string{"04A1B2C3D4E5F6", "CUSTOMER-7", "0000A7", "167", "AABBCCDDEEFF00112233445566778899", "folder-token-hash", "picc=", "cmac="}
	r := &tagd.Result{
		Kind: tagd.BySUN, XUID: "X42", CUID: "CUSTOMER-7", UID: "04A1B2C3D4E5F6",
		Response: "Welcome", Auth: "pass", Counter: 167, Tamper: "secure",
		Extra: []tagd.Field{{Key: "k", Value: "AABBCCDDEEFF00112233445566778899"}},
		Tag: &tagd.TagView{
			Tag: tagd.Tag{XUID: "X42", UID: "04A1B2C3D4E5F6", CUID: "CUSTOMER-7", Name: "Château 2015", ScanCount: 12, LastCounter: 167,
				Extended: map[string]string{"Vintage": "2015", "Bottled": "2017-06-12", "image": "data:image/png;base64,AAAA", "Empty": " ", "Zeta": "z"}},
			Group:  tagd.TagGroup{Name: "Wines", Type: tagd.GroupAuthentication, Extended: map[string]string{"Region": "Pomerol", "Vintage": "group value"}, Profile: &tagd.SUNProfile{Params: tagd.SUNParams{PICC: "picc=", MAC: "cmac="}}},
			Folder: tagd.Folder{Fields: []tagd.ExtField{{Name: "Bottled"}, {Name: "Vintage"}}, TokenHash: []byte("folder-token-hash")},
		},
		Scan: tagd.Scan{Source: "reader:pcsc0", Counter: 167, HasCounter: true, UID: "04A1B2C3D4E5F6", ScanCount: 12, Time: at.Add(-time.Second)},
	}
	tap := ui.NewTap(tagd.Event{Kind: tagd.EventTap, Time: at, Result: r})
	want := []ui.Field{{"Bottled", "2017-06-12"}, {"Vintage", "2015"}, {"Region", "Pomerol"}, {"Zeta", "z"}}
	if tap.Verdict != ui.VerdictGenuine || tap.Name != "Château 2015" || tap.XUID != "X42" || tap.ScanCount != 12 ||
		!tap.Time.Equal(at) || tap.Reader != "pcsc0" || tap.Image != "data:image/png;base64,AAAA" || tap.Tamper != "secure" ||
		!slices.Equal(tap.Fields, want) {
		t.Fatalf("NewTap = %+v", tap)
	}
	b, err := json.Marshal(ui.Message{Type: ui.TypeTap, Tap: &tap})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("the wire message carries %q: %s", s, b)
		}
	}
	for _, key := range []string{`"type":"tap"`, `"verdict":"genuine"`, `"xuid":"X42"`, `"name":"Château 2015"`, `"response":"Welcome"`, `"scan_count":12`, `"time":"2026-05-14T14:32:05Z"`, `"fields":[`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("the wire message lacks %s: %s", key, b)
		}
	}

	// Unknown tag: no tag, the code says why.
	tap = ui.NewTap(tagd.Event{Kind: tagd.EventTap, Time: at, Result: &tagd.Result{Error: tagd.ErrXUIDNotFound, Scan: tagd.Scan{Source: "api"}}})
	if tap.Verdict != ui.VerdictUnknown || tap.Code != "xuid_not_found" || tap.Name != "" || tap.Reader != "" {
		t.Errorf("unknown tap = %+v", tap)
	}
	// A tag without a name shows its group's.
	tap = ui.NewTap(tagd.Event{Kind: tagd.EventTap, Result: &tagd.Result{Response: "x", Tag: &tagd.TagView{Group: tagd.TagGroup{Name: "Sneakers"}}, Scan: tagd.Scan{Time: at}}})
	if tap.Verdict != ui.VerdictFound || tap.Name != "Sneakers" || !tap.Time.Equal(at) {
		t.Errorf("standard tap = %+v", tap)
	}
	// An unsafe image is dropped; long values are cut.
	tap = ui.NewTap(tagd.Event{Kind: tagd.EventTap, Result: &tagd.Result{Auth: "fail", Reason: tagd.CodeReplay, Tag: &tagd.TagView{Tag: tagd.Tag{
		Extended: map[string]string{"Image": "https://cdn.example/x.png", "Long": strings.Repeat("é", 1000)}}}}})
	if tap.Verdict != ui.VerdictReplay || tap.Code != "replay" || tap.Image != "" || len(tap.Fields) != 1 || len([]rune(tap.Fields[0].Value)) != 300 {
		t.Errorf("replay tap = %+v", tap)
	}
}

func TestSafeImageURL(t *testing.T) {
	for u, want := range map[string]bool{
		"/media/bottle.png":                   true,
		"img/bottle.png":                      true,
		"data:image/png;base64,iVBORw0KGgo=":  true,
		"DATA:image/svg+xml;utf8,<svg></svg>": true,
		"":                                    false,
		"data:image/png":                      false,
		"https://cdn.example/x.png":           false,
		"http://evil.example/x.png":           false,
		"//evil.example/x.png":                false,
		"/\\evil.example/x.png":               false,
		"javascript:alert(1)":                 false,
		"data:text/html,<script>":             false,
		"ftp://x/y.png":                       false,
	} {
		if got := ui.SafeImageURL(u); got != want {
			t.Errorf("SafeImageURL(%q) = %v, want %v", u, got, want)
		}
	}
}

// TestStrings checks that every language has every string, and that every
// string the page uses exists.
func TestStrings(t *testing.T) {
	en, used, err := ui.Strings("en")
	if err != nil || used != "en" {
		t.Fatalf("Strings(en): %v, %s", err, used)
	}
	raw, err := os.ReadFile("assets/strings.json")
	if err != nil {
		t.Fatal(err)
	}
	var tables map[string]map[string]string
	if err := json.Unmarshal(raw, &tables); err != nil {
		t.Fatal(err)
	}
	if langs := ui.Langs(); !slices.Contains(langs, "en") || len(langs) != len(tables) {
		t.Errorf("Langs = %v", langs)
	}
	for lang, table := range tables {
		for k := range en {
			if _, ok := table[k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
		for k := range table {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which en lacks", lang, k)
			}
		}
	}
	need := []string{"idle", "idle_hint", "scans", "checked_at", "tag_id", "tamper", "sync", "reconnecting", "reconnecting_hint", "title"}
	for _, v := range []ui.Verdict{ui.VerdictGenuine, ui.VerdictNotGenuine, ui.VerdictReplay, ui.VerdictUnknown, ui.VerdictInactive, ui.VerdictFound, ui.VerdictError} {
		need = append(need, "verdict_"+string(v), "verdict_"+string(v)+"_hint")
	}
	for _, st := range []tagd.ReaderState{tagd.ReaderStarting, tagd.ReaderReady, tagd.ReaderTag, tagd.ReaderAbsent, tagd.ReaderError, tagd.ReaderNone, "unknown"} {
		need = append(need, "reader_"+string(st))
	}
	for _, st := range []ui.SyncState{ui.SyncNotConfigured, ui.SyncOK, ui.SyncPending, ui.SyncOffline, ui.SyncError} {
		need = append(need, "sync_"+string(st))
	}
	for _, tamper := range []string{"secure", "tampered_closed", "tampered_open"} {
		need = append(need, "tamper_"+tamper)
	}
	// Literal keys in the page and its script.
	fsys := os.DirFS("assets")
	for _, name := range []string{"index.html", "kiosk.js"} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?:index \.S "|\bt\(')([a-z_]+)["']`).FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], "_") { // a prefix, completed at run time
				need = append(need, m[1])
			}
		}
	}
	for _, k := range need {
		if _, ok := en[k]; !ok {
			t.Errorf("strings.json en lacks %q", k)
		}
	}
	fr, used, _ := ui.Strings("fr-BE")
	if used != "fr" || fr["idle"] != "Présentez un produit" {
		t.Errorf("Strings(fr-BE) = %s, %q", used, fr["idle"])
	}
}
