package store

import (
	"crypto/rand"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tagd-nfc/tagd"
)

// Limits on input.
const (
	maxIDLen   = 64
	maxCUIDLen = 64 // characters
	maxNameLen = 256
	hashLen    = 32 // SHA-256
)

// validID reports whether s is a folder, group or batch id or an AID:
// 1 to 64 ASCII letters, digits, '-' and '_'.
func validID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkID returns a CodeInvalid error for field unless s is a valid id.
func checkID(field, s string) error {
	if !validID(s) {
		return invalid(field, "%s must be 1 to %d letters, digits, '-' or '_'", field, maxIDLen)
	}
	return nil
}

// validXUID reports whether s is an XUID: 8 or 16 lowercase letters and
// digits.
func validXUID(s string) bool {
	if len(s) != 8 && len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// normUID returns uid in uppercase and whether it is a chip UID: 7 bytes
// (14 hex digits) or 4 bytes (8).
func normUID(uid string) (string, bool) {
	if len(uid) != 14 && len(uid) != 8 {
		return "", false
	}
	u := strings.ToUpper(uid)
	for i := 0; i < len(u); i++ {
		if c := u[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return "", false
		}
	}
	return u, true
}

// checkCUID checks a customer id: at most 64 characters of UTF-8 without
// control characters.
func checkCUID(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxCUIDLen || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return invalid("cuid", "the CUID must be at most %d characters of UTF-8 text without control characters", maxCUIDLen)
	}
	return nil
}

// checkText checks a name or other free text: at most max bytes of UTF-8
// without control characters.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) || len(s) > max || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return invalid(field, "%s must be at most %d bytes of UTF-8 text without control characters", field, max)
	}
	return nil
}

// checkHash checks a stored SHA-256: empty or 32 bytes.
func checkHash(field string, h []byte) error {
	if len(h) != 0 && len(h) != hashLen {
		return invalid(field, "%s must be a SHA-256 (32 bytes), not %d bytes", field, len(h))
	}
	return nil
}

// checkStatus sets an empty *s to def and checks that it is one of ok.
func checkStatus(s *tagd.Status, def tagd.Status, ok ...tagd.Status) error {
	if *s == "" {
		*s = def
	}
	for _, o := range ok {
		if *s == o {
			return nil
		}
	}
	return invalid("status", "status %q is not one of %q", *s, ok)
}

// checkCORS checks a folder's CORS setting: "", "*" or one origin.
func checkCORS(s string) error {
	if s == "" || s == "*" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return invalid("cors", "CORS must be empty, \"*\" or one origin such as https://shop.example")
	}
	return nil
}

// checkFields checks a folder's extended-data fields.
func checkFields(fs []tagd.ExtField) error {
	seen := make(map[string]bool, len(fs))
	for _, f := range fs {
		if f.Name == "" || checkText("fields", f.Name, maxIDLen) != nil {
			return invalid("fields", "field names must be 1 to %d bytes of text", maxIDLen)
		}
		if seen[f.Name] {
			return invalid("fields", "field %q is defined twice", f.Name)
		}
		seen[f.Name] = true
		switch f.Type {
		case "text", "date", "json":
		default:
			return invalid("fields", "field %q has type %q, not text, date or json", f.Name, f.Type)
		}
	}
	return nil
}

// checkRuleset checks a ruleset's shape: at most MaxRuleGroups groups of
// known rules.
func checkRuleset(r *tagd.Ruleset) error {
	if len(r.Groups) > tagd.MaxRuleGroups {
		return invalid("ruleset", "a ruleset has at most %d rule groups, not %d", tagd.MaxRuleGroups, len(r.Groups))
	}
	for _, g := range r.Groups {
		if len(g.Rules) == 0 {
			return invalid("ruleset", "a rule group needs at least one rule")
		}
		for _, rule := range g.Rules {
			ok := false
			switch rule.Type {
			case tagd.RuleScanCount:
				_, err := strconv.ParseUint(rule.Value, 10, 64)
				ok = err == nil && (rule.Op == "lt" || rule.Op == "gt" || rule.Op == "eq" || rule.Op == "ne")
			case tagd.RuleTagAuth:
				ok = rule.Op == "pass"
			case tagd.RuleTamper, tagd.RuleNFTStatus:
				ok = rule.Op == "eq" || rule.Op == "ne"
			}
			if !ok {
				return invalid("ruleset", "rule %q %q %q is not a valid rule", rule.Type, rule.Op, rule.Value)
			}
		}
	}
	return nil
}

// checkProfile checks the enumerations of a SUN profile.
func checkProfile(p *tagd.SUNProfile) error {
	switch p.Mode {
	case "aes", "lrp", "auto":
	default:
		return invalid("profile.mode", "mode %q is not aes, lrp or auto", p.Mode)
	}
	at, isAt := strings.CutPrefix(p.MACInput, "at:")
	from, isFrom := strings.CutPrefix(p.MACInput, "from:")
	if p.MACInput != "empty" && !(isAt && at != "") && !(isFrom && from != "") {
		return invalid("profile.mac_input", "MAC input %q is not empty, at:PARAM or from:TEXT", p.MACInput)
	}
	switch p.FileKeySource {
	case "tag", "static", "an10922", "sdm-standard", "sdm-legacy", "boltcard":
	default:
		return invalid("profile.file_key_source", "file key source %q is not tag, static, an10922, sdm-standard, sdm-legacy or boltcard", p.FileKeySource)
	}
	if p.TamperOffset < -1 {
		return invalid("profile.tamper_offset", "the tamper offset must be -1 (none) or an offset")
	}
	return nil
}

// checkGroup checks a tag group (not its references).
func checkGroup(g *tagd.TagGroup) error {
	if err := checkID("id", g.ID); err != nil {
		return err
	}
	if err := checkID("folder_id", g.FolderID); err != nil {
		return err
	}
	if err := checkText("name", g.Name, maxNameLen); err != nil {
		return err
	}
	if g.Type != tagd.GroupStandard && g.Type != tagd.GroupAuthentication {
		return invalid("type", "group type %q is not standard or authentication", g.Type)
	}
	if err := checkStatus(&g.Status, tagd.StatusActive, tagd.StatusActive, tagd.StatusInactive); err != nil {
		return err
	}
	if err := checkRuleset(&g.Ruleset); err != nil {
		return err
	}
	if g.Profile != nil {
		if g.Type != tagd.GroupAuthentication {
			return invalid("profile", "only authentication groups have a SUN profile")
		}
		return checkProfile(g.Profile)
	}
	return nil
}

// checkTag checks and normalises a tag (not its references): UID in
// uppercase, default status.
func checkTag(t *tagd.Tag) error {
	if !validXUID(t.XUID) {
		return invalid("xuid", "an XUID is 8 or 16 lowercase letters and digits")
	}
	if t.AID != "" {
		if err := checkID("aid", t.AID); err != nil {
			return err
		}
	}
	if err := checkID("batch_id", t.BatchID); err != nil {
		return err
	}
	if t.UID != "" {
		u, ok := normUID(t.UID)
		if !ok {
			return invalid("uid", "a UID is 14 (7-byte) or 8 (4-byte) hex digits")
		}
		t.UID = u
	}
	if err := checkCUID(t.CUID); err != nil {
		return err
	}
	if err := checkText("name", t.Name, maxNameLen); err != nil {
		return err
	}
	if err := checkStatus(&t.Status, tagd.TagActive, tagd.TagActive, tagd.TagInactive); err != nil {
		return err
	}
	if t.Ruleset != nil {
		return checkRuleset(t.Ruleset)
	}
	return nil
}

// newID returns n random lowercase letters and digits.
func newID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		rand.Read(buf[:])
		for _, c := range buf {
			if c < 252 && len(out) < n { // 252 = 7×36: no modulo bias
				out = append(out, alphabet[c%36])
			}
		}
	}
	return string(out)
}
