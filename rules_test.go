package tagd

import (
	"strings"
	"testing"
	"time"
)

// TestRuleMatch has one case per rule type and operator; the expectations
// follow ixkio.md §4.1–§4.2 (Scan Count less/more/equal/not equal; Tag
// Authentication pass; Tamper equal/not equal; NFT Status No Data …).
func TestRuleMatch(t *testing.T) {
	owner := NFT{Chain: "polygon_main", Contract: "0xabc", Token: "7", Owner: "0xme"}
	contract := NFT{Chain: "polygon_main", Contract: "0xabc", Token: "7"}
	for _, tc := range []struct {
		name string
		rule Rule
		env  RuleEnv
		want bool
	}{
		{"scan count 4 < 5", Rule{RuleScanCount, "lt", "5"}, RuleEnv{ScanCount: 4}, true},
		{"scan count 5 < 5", Rule{RuleScanCount, "lt", "5"}, RuleEnv{ScanCount: 5}, false},
		{"scan count 11 > 10", Rule{RuleScanCount, "gt", "10"}, RuleEnv{ScanCount: 11}, true},
		{"scan count 10 > 10", Rule{RuleScanCount, "gt", "10"}, RuleEnv{ScanCount: 10}, false},
		{"scan count 3 = 3", Rule{RuleScanCount, "eq", "3"}, RuleEnv{ScanCount: 3}, true},
		{"scan count 2 = 3", Rule{RuleScanCount, "eq", "3"}, RuleEnv{ScanCount: 2}, false},
		{"scan count 2 != 3", Rule{RuleScanCount, "ne", "3"}, RuleEnv{ScanCount: 2}, true},
		{"scan count 3 != 3", Rule{RuleScanCount, "ne", "3"}, RuleEnv{ScanCount: 3}, false},
		{"scan count bad value", Rule{RuleScanCount, "lt", "five"}, RuleEnv{ScanCount: 1}, false},
		{"auth pass", Rule{RuleTagAuth, "pass", ""}, RuleEnv{AuthPass: true}, true},
		{"auth fail", Rule{RuleTagAuth, "pass", ""}, RuleEnv{AuthPass: false}, false},
		{"tamper eq secure", Rule{RuleTamper, "eq", "secure"}, RuleEnv{Tamper: "secure"}, true},
		{"tamper eq secure, open", Rule{RuleTamper, "eq", "secure"}, RuleEnv{Tamper: "tampered_open"}, false},
		{"tamper ne secure, open", Rule{RuleTamper, "ne", "secure"}, RuleEnv{Tamper: "tampered_open"}, true},
		{"tamper ne secure, secure", Rule{RuleTamper, "ne", "secure"}, RuleEnv{Tamper: "secure"}, false},
		{"tamper unknown never matches", Rule{RuleTamper, "ne", "secure"}, RuleEnv{}, false},
		{"nft no data", Rule{RuleNFTStatus, "eq", "No Data"}, RuleEnv{}, true},
		{"nft no data, owner set", Rule{RuleNFTStatus, "eq", "No Data"}, RuleEnv{NFT: owner}, false},
		{"nft owner set", Rule{RuleNFTStatus, "eq", "Owner Set"}, RuleEnv{NFT: owner}, true},
		{"nft contract only", Rule{RuleNFTStatus, "eq", "Contract Only"}, RuleEnv{NFT: contract}, true},
		{"nft ne no data", Rule{RuleNFTStatus, "ne", "No Data"}, RuleEnv{NFT: contract}, true},
		{"unknown type", Rule{"scan_method", "eq", "nfc"}, RuleEnv{}, false},
	} {
		if got := tc.rule.Match(tc.env); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRulesetEvaluate follows ixkio's Rule Example (ixkio.md §4.2), with
// the API-mode rules: G1 [scan count < 5] → A; G2 [scan count < 10, auth
// pass] → B; default C. First group whose rules all match wins.
func TestRulesetEvaluate(t *testing.T) {
	rs := Ruleset{Default: "C", Groups: []RuleGroup{
		{Response: "A", Rules: []Rule{{RuleScanCount, "lt", "5"}}},
		{Response: "B", Rules: []Rule{{RuleScanCount, "lt", "10"}, {RuleTagAuth, "pass", ""}}},
		{Response: "never", Rules: nil}, // incomplete group: skipped
	}}
	for _, tc := range []struct {
		n    uint64
		auth bool
		want string
	}{{1, false, "A"}, {4, true, "A"}, {5, true, "B"}, {9, true, "B"}, {5, false, "C"}, {10, true, "C"}} {
		if got := rs.Evaluate(RuleEnv{ScanCount: tc.n, AuthPass: tc.auth}); got != tc.want {
			t.Errorf("scan %d auth %v: %q, want %q", tc.n, tc.auth, got, tc.want)
		}
	}
}

// TestRulesetValidate checks the limits of ixkio.md §4.1 and §7 #18.
func TestRulesetValidate(t *testing.T) {
	auth := Ruleset{Default: "Fail", Groups: []RuleGroup{{Response: "Pass", Rules: []Rule{{RuleTagAuth, "pass", ""}}}}}
	if err := auth.Validate(true); err != nil {
		t.Errorf("auth ruleset in auth group: %v", err)
	}
	if err := auth.Validate(false); ErrorCode(err) != CodeInvalid {
		t.Errorf("auth rule in a standard group: %v, want invalid", err)
	}
	four := Ruleset{Groups: make([]RuleGroup, 4)}
	if err := four.Validate(true); ErrorCode(err) != CodeInvalid {
		t.Errorf("4 groups: %v, want invalid", err)
	}
	for _, r := range []Rule{{RuleScanCount, "le", "1"}, {RuleScanCount, "lt", "-1"}, {RuleTagAuth, "fail", ""}, {RuleTamper, "lt", "x"}, {"os", "eq", "ios"}} {
		if err := r.Validate(); ErrorCode(err) != CodeInvalid {
			t.Errorf("%+v: %v, want invalid", r, err)
		}
	}
}

// subtagView is a tag with everything above it, for subtag tests.
func subtagView() *TagView {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &TagView{
		Tag: Tag{XUID: "q8w3sbcz", UID: "04AABBCC112233", CUID: "yourcuid", Name: "Bottle 7",
			ScanCount: 12, ChipCount: 61, CreatedAt: created, AssignedAt: created.Add(time.Hour),
			NFT:      NFT{Chain: "polygon_main", Contract: "0xc0", Token: "42", Owner: "0xowner"},
			Extended: map[string]string{"Vintage": "2019 ({uid})"}},
		Batch:  Batch{Name: "B1"},
		Group:  TagGroup{Name: "Standard", Extended: map[string]string{"Vintage": "n/a", "Meta": `{"n":{scount}}`, "Region": "Douro"}},
		Folder: Folder{Name: "Demo", Fields: []ExtField{{Name: "Vintage", Type: "text", AddToResponse: true}, {Name: "Hidden", Type: "text"}, {Name: "Meta", Type: "json", AddToResponse: true}, {Name: "Wine Region", Type: "text", AddToResponse: true}}},
	}
}

// TestSubtags has one case per subtag of ixkio.md §4.4 that the appliance
// supports; values are written from the tag above, dates in ISO 8601 UTC.
func TestSubtags(t *testing.T) {
	env := SubtagEnv{View: subtagView(), Rand: func() uint64 { return 0xDEADBEEF12345678 }}
	for in, want := range map[string]string{
		"{xuid}":                   "q8w3sbcz",
		"{uid}":                    "04AABBCC112233",
		"{cuid}":                   "yourcuid",
		"{CUID}":                   "yourcuid",
		"{scount}":                 "12",
		"{ccount}":                 "61",
		"{tagname}":                "Bottle 7",
		"{batch}":                  "B1",
		"{taggroup}":               "Standard",
		"{folder}":                 "Demo",
		"{dtcreated}":              "2026-01-02T03:04:05Z",
		"{dtassigned}":             "2026-01-02T04:04:05Z",
		"{nft_chain}":              "polygon_main",
		"{nft_contract}":           "0xc0",
		"{nft_token}":              "42",
		"{nft_owner}":              "0xowner",
		"{randnum}":                "826360", // 0xDEADBEEF12345678 mod 1,000,000
		"{randhex}":                "12345678",
		"{os}":                     "{os}", // action data: not available in API mode, stays literal
		"Pass #{scount} of {xuid}": "Pass #12 of q8w3sbcz",
		"{unclosed":                "{unclosed",
	} {
		if got := Substitute(in, env); got != want {
			t.Errorf("Substitute(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTagcodedr checks rule layering (ixkio.md §4.3): normally a tag with
// its own default response ignores the group's rules; when the group's
// ruleset uses {tagcodedr}, the group's rules apply with {tagcodedr}
// replaced by the tag's default.
func TestTagcodedr(t *testing.T) {
	g := &TagGroup{Ruleset: Ruleset{Default: "Fail", Groups: []RuleGroup{{Response: "Pass", Rules: []Rule{{RuleScanCount, "lt", "100"}}}}}}
	own := &Tag{Ruleset: &Ruleset{Default: "Mine"}}
	if got := EffectiveRuleset(own, g).Evaluate(RuleEnv{ScanCount: 1}); got != "Mine" {
		t.Errorf("own default without layering: %q, want Mine", got)
	}
	if got := EffectiveRuleset(&Tag{}, g).Evaluate(RuleEnv{ScanCount: 1}); got != "Pass" {
		t.Errorf("inheriting tag: %q, want Pass", got)
	}
	g.Ruleset.Groups[0].Response = "Pass: {TagCodeDR}"
	if got := EffectiveRuleset(own, g).Evaluate(RuleEnv{ScanCount: 1}); got != "Pass: Mine" {
		t.Errorf("layered: %q, want %q", got, "Pass: Mine")
	}
	if got := EffectiveRuleset(own, g).Evaluate(RuleEnv{ScanCount: 500}); got != "Fail" {
		t.Errorf("layered default: %q, want Fail", got)
	}
}

// TestResponseFields checks "Add to Response" fields: folder order, tag
// value over group default, subtags resolved, names lower-cased with "_".
func TestResponseFields(t *testing.T) {
	got := ResponseFields(SubtagEnv{View: subtagView()})
	want := []Field{{"vintage", "2019 (04AABBCC112233)", false}, {"meta", `{"n":12}`, true}, {"wine_region", "", false}}
	if len(got) != len(want) {
		t.Fatalf("fields %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	_ = strings.ToLower
}
