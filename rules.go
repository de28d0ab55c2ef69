package tagd

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RuleEnv is what rules are evaluated against: the state of a tag after
// the current scan.
type RuleEnv struct {
	ScanCount uint64
	// AuthPass says the SUN check passed (MAC verified, counter fresh).
	AuthPass bool
	// Tamper is the TagTamper status of the tap, "" when unknown.
	Tamper string
	NFT    NFT
}

// NFT statuses for the NFT Status rule.
const (
	NFTNoData       = "No Data"
	NFTContractOnly = "Contract Only"
	NFTOwnerSet     = "Owner Set"
)

// NFTStatus classifies a tag's stored NFT data.
func NFTStatus(n NFT) string {
	switch {
	case n.Owner != "":
		return NFTOwnerSet
	case n.Chain != "" || n.Contract != "" || n.Token != "":
		return NFTContractOnly
	}
	return NFTNoData
}

// Validate checks a rule's type, operator and value.
func (r Rule) Validate() error {
	switch r.Type {
	case RuleScanCount:
		if r.Op != "lt" && r.Op != "gt" && r.Op != "eq" && r.Op != "ne" {
			return &Error{Code: CodeInvalid, Field: "op", Message: fmt.Sprintf("scan_count rule: op %q, want lt, gt, eq or ne", r.Op)}
		}
		if _, err := strconv.ParseUint(r.Value, 10, 64); err != nil {
			return &Error{Code: CodeInvalid, Field: "value", Message: fmt.Sprintf("scan_count rule: value %q is not a whole number", r.Value)}
		}
	case RuleTagAuth:
		if r.Op != "pass" {
			return &Error{Code: CodeInvalid, Field: "op", Message: fmt.Sprintf("tag_auth rule: op %q, want pass", r.Op)}
		}
	case RuleTamper, RuleNFTStatus:
		if r.Op != "eq" && r.Op != "ne" {
			return &Error{Code: CodeInvalid, Field: "op", Message: fmt.Sprintf("%s rule: op %q, want eq or ne", r.Type, r.Op)}
		}
	default:
		return &Error{Code: CodeInvalid, Field: "type", Message: fmt.Sprintf("unknown rule type %q (want scan_count, tag_auth, tamper or nft_status)", r.Type)}
	}
	return nil
}

// Validate checks a ruleset: at most MaxRuleGroups groups and valid rules.
// A Tag Authentication rule is allowed only when auth is true (an
// authentication group, or a tag in one).
func (rs Ruleset) Validate(auth bool) error {
	if len(rs.Groups) > MaxRuleGroups {
		return &Error{Code: CodeInvalid, Field: "groups", Message: fmt.Sprintf("%d rule groups, at most %d", len(rs.Groups), MaxRuleGroups)}
	}
	for _, g := range rs.Groups {
		for _, r := range g.Rules {
			if err := r.Validate(); err != nil {
				return err
			}
			if r.Type == RuleTagAuth && !auth {
				return &Error{Code: CodeInvalid, Field: "type", Message: "tag_auth rules work only in authentication tag groups"}
			}
		}
	}
	return nil
}

// Match reports whether the rule holds in env. Rules of unknown type, or
// without the data they test, never match.
func (r Rule) Match(env RuleEnv) bool {
	switch r.Type {
	case RuleScanCount:
		n, err := strconv.ParseUint(r.Value, 10, 64)
		if err != nil {
			return false
		}
		switch r.Op {
		case "lt":
			return env.ScanCount < n
		case "gt":
			return env.ScanCount > n
		case "eq":
			return env.ScanCount == n
		case "ne":
			return env.ScanCount != n
		}
	case RuleTagAuth:
		return r.Op == "pass" && env.AuthPass
	case RuleTamper:
		if env.Tamper == "" {
			return false
		}
		return (r.Op == "eq") == (env.Tamper == r.Value) && (r.Op == "eq" || r.Op == "ne")
	case RuleNFTStatus:
		s := NFTStatus(env.NFT)
		return (r.Op == "eq") == strings.EqualFold(s, r.Value) && (r.Op == "eq" || r.Op == "ne")
	}
	return false
}

// Evaluate returns the response of the first rule group whose rules all
// match, else the default. Groups without rules are incomplete and skipped.
func (rs Ruleset) Evaluate(env RuleEnv) string {
	for _, g := range rs.Groups {
		if len(g.Rules) == 0 {
			continue
		}
		all := true
		for _, r := range g.Rules {
			if !r.Match(env) {
				all = false
				break
			}
		}
		if all {
			return g.Response
		}
	}
	return rs.Default
}

// usesTagcodedr reports whether a ruleset layers a tag's own default
// response into its responses.
func (rs Ruleset) usesTagcodedr() bool {
	if hasSubtag(rs.Default, "tagcodedr") {
		return true
	}
	for _, g := range rs.Groups {
		if hasSubtag(g.Response, "tagcodedr") {
			return true
		}
	}
	return false
}

// EffectiveRuleset returns the ruleset that applies to a tag: its own, or
// its group's when it inherits. When the group's ruleset uses {tagcodedr}
// (rule layering), the group's rules apply and {tagcodedr} becomes the
// tag's own default response.
func EffectiveRuleset(t *Tag, g *TagGroup) Ruleset {
	if t.Ruleset == nil {
		return g.Ruleset
	}
	if !g.Ruleset.usesTagcodedr() {
		return *t.Ruleset
	}
	rs := Ruleset{Default: replaceSubtag(g.Ruleset.Default, "tagcodedr", t.Ruleset.Default)}
	for _, grp := range g.Ruleset.Groups {
		grp.Response = replaceSubtag(grp.Response, "tagcodedr", t.Ruleset.Default)
		rs.Groups = append(rs.Groups, grp)
	}
	return rs
}

// SubtagEnv is what subtags are substituted from.
type SubtagEnv struct {
	View *TagView // the tag after the scan, with its batch, group, folder
	Rand func() uint64
}

// Substitute replaces the subtags of s ({xuid}, {uid}, {cuid}, {scount},
// {ccount}, {tagname}, {batch}, {taggroup}, {folder}, {dtcreated},
// {dtassigned}, {nft_chain}, {nft_contract}, {nft_token}, {nft_owner},
// {randnum}, {randhex}), matching names case-insensitively. Unknown
// subtags stay as they are.
func Substitute(s string, env SubtagEnv) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		n := 1 // a subtag is { name } with name of letters, digits and _
		for n < len(s) && isSubtagChar(s[n]) {
			n++
		}
		if n < len(s) && s[n] == '}' && n > 1 {
			if v, ok := subtagValue(strings.ToLower(s[1:n]), env); ok {
				b.WriteString(v)
				s = s[n+1:]
				continue
			}
		}
		b.WriteByte('{')
		s = s[1:]
	}
}

// isSubtagChar reports whether c may appear in a subtag name.
func isSubtagChar(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// subtagValue returns the value of one subtag.
func subtagValue(name string, env SubtagEnv) (string, bool) {
	v := env.View
	t := &v.Tag
	switch name {
	case "xuid":
		return t.XUID, true
	case "uid":
		return t.UID, true
	case "cuid":
		return t.CUID, true
	case "scount":
		return strconv.FormatUint(t.ScanCount, 10), true
	case "ccount":
		return strconv.FormatUint(t.ChipCount, 10), true
	case "tagname":
		return t.Name, true
	case "batch":
		return v.Batch.Name, true
	case "taggroup":
		return v.Group.Name, true
	case "folder":
		return v.Folder.Name, true
	case "dtcreated":
		return formatTime(t.CreatedAt), true
	case "dtassigned":
		return formatTime(t.AssignedAt), true
	case "nft_chain":
		return t.NFT.Chain, true
	case "nft_contract":
		return t.NFT.Contract, true
	case "nft_token":
		return t.NFT.Token, true
	case "nft_owner":
		return t.NFT.Owner, true
	case "tagcodedr":
		if t.Ruleset != nil {
			return t.Ruleset.Default, true
		}
		return "", true
	case "randnum":
		if env.Rand == nil {
			return "", false
		}
		return strconv.FormatUint(env.Rand()%1000000, 10), true
	case "randhex":
		if env.Rand == nil {
			return "", false
		}
		return fmt.Sprintf("%08x", uint32(env.Rand())), true
	}
	return "", false
}

// formatTime renders a time as ISO 8601 in UTC, or "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// hasSubtag reports whether s contains {name}, in any case.
func hasSubtag(s, name string) bool {
	return strings.Contains(strings.ToLower(s), "{"+name+"}")
}

// replaceSubtag replaces {name}, in any case, with v.
func replaceSubtag(s, name, v string) string {
	if !hasSubtag(s, name) {
		return s
	}
	lower := strings.ToLower(s)
	tok := "{" + name + "}"
	var b strings.Builder
	for {
		i := strings.Index(lower, tok)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s, lower = s[i+len(tok):], lower[i+len(tok):]
	}
}

// ResponseFields returns the folder's "Add to Response" extended fields of
// a tag, in the folder's order, with subtags substituted: the tag's value,
// else the group's default. Keys are lower-cased with spaces as "_".
func ResponseFields(env SubtagEnv) []Field {
	v := env.View
	var out []Field
	for _, f := range v.Folder.Fields {
		if !f.AddToResponse {
			continue
		}
		val, ok := v.Tag.Extended[f.Name]
		if !ok {
			val = v.Group.Extended[f.Name]
		}
		out = append(out, Field{
			Key:   strings.ReplaceAll(strings.ToLower(f.Name), " ", "_"),
			Value: Substitute(val, env),
			JSON:  f.Type == "json",
		})
	}
	return out
}
