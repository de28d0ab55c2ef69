package sun

import (
	"fmt"
	"strings"
)

// ParamNames are the names of the SUN parameters in a tag's URL. They are
// not standardised, so every profile sets its own.
type ParamNames struct {
	PICC string // encrypted PICCData
	Enc  string // SDMENCFileData
	MAC  string // SDMMAC
	UID  string // plain UID mirror
	Ctr  string // plain counter mirror (6 hex characters, MSB first)
	Bulk string // PICCData‖SDMENCFileData‖SDMMAC in one value
	// Sep, when set, separates several fields inside one value, as in
	// m=<picc>x<enc>x<mac> with Sep "x".
	Sep string
}

// URLField is the name "/" in ParamNames: the field is the text right after
// "scheme://" up to the first '?' or '#', for tags whose template puts the
// SUN data in the host or path rather than in a query parameter.
const URLField = "/"

// DefaultParamNames returns picc_data, enc, cmac, uid, ctr and e.
func DefaultParamNames() ParamNames {
	return ParamNames{PICC: "picc_data", Enc: "enc", MAC: "cmac", UID: "uid", Ctr: "ctr", Bulk: "e"}
}

// ParseParamNames applies a spec "picc=NAME,enc=NAME,mac=NAME,uid=NAME,
// ctr=NAME,bulk=NAME,sep=TEXT" to base; roles not in the spec keep their
// base name. An empty NAME switches the role off.
func ParseParamNames(spec string, base ParamNames) (ParamNames, error) {
	n := base
	if spec == "" {
		return n, nil
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return n, fmt.Errorf("%q: want ROLE=NAME", kv)
		}
		if strings.ContainsAny(v, "&#?= ") || (k != "sep" && strings.Contains(v, "/") && v != URLField) {
			return n, fmt.Errorf("%q: name may not contain & # ? = / or spaces", kv)
		}
		switch strings.TrimSpace(k) {
		case "picc":
			n.PICC = v
		case "enc":
			n.Enc = v
		case "mac":
			n.MAC = v
		case "uid":
			n.UID = v
		case "ctr":
			n.Ctr = v
		case "bulk":
			n.Bulk = v
		case "sep":
			n.Sep = v
		default:
			return n, fmt.Errorf("%q: unknown role %q (want picc, enc, mac, uid, ctr, bulk or sep)", kv, k)
		}
	}
	return n, nil
}

// MACInputKind says where the MAC input starts.
type MACInputKind uint8

// MAC input kinds.
const (
	// MACInputEmpty: the tag MACs zero bytes (SDMMACInputOffset ==
	// SDMMACOffset).
	MACInputEmpty MACInputKind = iota
	// MACInputAt: from the first character of a field's value.
	MACInputAt
	// MACInputFrom: from the first occurrence of a text in the URL.
	MACInputFrom
	// MACInputAuto: try empty, then the start of every field before the
	// MAC, then the host; for diagnosis only.
	MACInputAuto
)

// MACInput says where the MAC input starts; it always ends right before
// the MAC value.
type MACInput struct {
	Kind MACInputKind
	Arg  string // the field (at:) or text (from:)
}

// String returns the spec form: empty, auto, at:PARAM or from:TEXT.
func (m MACInput) String() string {
	switch m.Kind {
	case MACInputAt:
		return "at:" + m.Arg
	case MACInputFrom:
		return "from:" + m.Arg
	case MACInputAuto:
		return "auto"
	}
	return "empty"
}

// ParseMACInput parses empty, auto, at:PARAM or from:TEXT.
func ParseMACInput(s string) (MACInput, error) {
	switch {
	case s == "empty" || s == "":
		return MACInput{Kind: MACInputEmpty}, nil
	case s == "auto":
		return MACInput{Kind: MACInputAuto}, nil
	case strings.HasPrefix(s, "at:") && len(s) > 3:
		return MACInput{Kind: MACInputAt, Arg: s[3:]}, nil
	case strings.HasPrefix(s, "from:") && len(s) > 5:
		return MACInput{Kind: MACInputFrom, Arg: s[5:]}, nil
	}
	return MACInput{}, fmt.Errorf("%q: want empty, auto, at:PARAM or from:TEXT", s)
}

// field roles, in the order of ParamNames.
const (
	fPICC = iota
	fEnc
	fMAC
	fUID
	fCtr
	fBulk
	nFields
)

// roleName returns the name of a field role, as accepted by at:ROLE.
func roleName(i int) string {
	return [...]string{"picc", "enc", "mac", "uid", "ctr", "bulk"}[i]
}

// span is a half-open range of the raw URL.
type span struct {
	start, end int
	set        bool // the field is present (its value may be empty)
}

// ok reports whether the field is present.
func (s span) ok() bool { return s.set }

// URL is a SUN URL with its fields located in the raw text, without any
// unescaping or re-encoding: the MAC input must be the bytes the tag sent.
type URL struct {
	raw    string
	fields [nFields]span
	params []param // every query parameter, for at:NAME
	bulk   bool
}

type param struct {
	name string
	val  span
}

// ParseURL locates the SUN fields of a raw URL (scheme://host/path?query)
// by their names. Values are not unescaped: SUN values are hex, and a value
// with any other character is reported as a bad parameter when decoded.
func ParseURL(raw string, names ParamNames) (*URL, error) {
	if len(raw) > 4096 {
		return nil, badParam("url", "", "URL is %d bytes; at most 4096 are accepted", len(raw))
	}
	u := &URL{raw: raw}
	q := strings.IndexByte(raw, '?')
	if q >= 0 {
		end := len(raw)
		if h := strings.IndexByte(raw[q:], '#'); h >= 0 {
			end = q + h
		}
		pos := q + 1
		for pos <= end {
			amp := strings.IndexByte(raw[pos:end], '&')
			stop := end
			if amp >= 0 {
				stop = pos + amp
			}
			part := raw[pos:stop]
			if part != "" {
				name, _, _ := strings.Cut(part, "=")
				vs := pos + len(name)
				if vs < stop {
					vs++
				}
				for _, p := range u.params {
					if p.name == name {
						return nil, badParam(name, "a tag emits each parameter once; a repeated one means the URL was tampered with or mis-assembled", "parameter %q appears more than once", name)
					}
				}
				u.params = append(u.params, param{name: name, val: span{vs, stop, true}})
			}
			pos = stop + 1
		}
	}
	roles := [nFields]string{names.PICC, names.Enc, names.MAC, names.UID, names.Ctr, names.Bulk}
	for i, n := range roles {
		if n == "" {
			continue
		}
		if n == URLField {
			s := strings.Index(raw, "://")
			if s < 0 {
				continue
			}
			s += 3
			e := len(raw)
			if k := strings.IndexAny(raw[s:], "?#"); k >= 0 {
				e = s + k
			}
			u.fields[i] = span{s, e, true}
			continue
		}
		for _, p := range u.params {
			if p.name == n {
				u.fields[i] = p.val
			}
		}
	}
	// A bulk value is used only when no separate field is there (the
	// ixkio and AN12196 names reuse "e" for other roles).
	if u.fields[fBulk].ok() && !u.fields[fPICC].ok() && !u.fields[fUID].ok() && !u.fields[fCtr].ok() && !u.fields[fMAC].ok() {
		u.bulk = true
	} else {
		u.fields[fBulk] = span{}
	}
	if u.bulk {
		u.locateBulk()
	}
	if names.Sep != "" {
		u.splitSep(names.Sep)
	}
	return u, nil
}

// splitSep splits a PICCData value of the form picc<sep>[enc<sep>]mac.
func (u *URL) splitSep(sep string) {
	f := u.fields[fPICC]
	if !f.ok() {
		return
	}
	parts := strings.Split(u.raw[f.start:f.end], sep)
	if len(parts) < 2 || len(parts) > 3 {
		return
	}
	pos := f.start
	spans := make([]span, len(parts))
	for i, p := range parts {
		spans[i] = span{pos, pos + len(p), true}
		pos += len(p) + len(sep)
	}
	u.fields[fPICC] = spans[0]
	u.fields[fMAC] = spans[len(spans)-1]
	if len(parts) == 3 {
		u.fields[fEnc] = spans[1]
	}
}

// Raw returns the URL as given.
func (u *URL) Raw() string { return u.raw }

// Bulk reports whether the message came in one bulk value.
func (u *URL) Bulk() bool { return u.bulk }

// value returns the raw text of a field.
func (u *URL) value(i int) (string, bool) {
	f := u.fields[i]
	if !f.ok() {
		return "", false
	}
	return u.raw[f.start:f.end], true
}

// Message decodes the fields and cuts the MAC input. For MACInputAuto it
// uses the first candidate (see MACInputCandidates).
func (u *URL) Message(mi MACInput) (*Message, error) {
	m := &Message{}
	if u.bulk {
		if err := u.decodeBulk(m); err != nil {
			return nil, err
		}
	} else {
		for _, f := range [...]struct {
			i   int
			dst *[]byte
		}{{fPICC, &m.PICCData}, {fEnc, &m.EncFileData}, {fMAC, &m.MAC}, {fUID, &m.UID}} {
			v, ok := u.value(f.i)
			if !ok {
				continue
			}
			b, err := decodeHex(roleName(f.i), v)
			if err != nil {
				return nil, err
			}
			*f.dst = b
		}
		if v, ok := u.value(fCtr); ok {
			c, err := ParseCounter(v)
			if err != nil {
				return nil, err
			}
			m.Counter, m.HasCounter = c, true
		}
		if !u.fields[fMAC].ok() {
			return nil, badParam("mac", "the MAC parameter name of the profile does not occur in the URL; check the parameter names", "no MAC in the URL")
		}
	}
	if mi.Kind == MACInputAuto {
		mi = u.MACInputCandidates()[0]
	}
	in, err := u.cutMACInput(mi)
	if err != nil {
		return nil, err
	}
	m.MACInput = in
	return m, nil
}

// locateBulk finds the PICCData, file data and MAC inside a bulk value by
// its length alone, so that MAC-input candidates can be listed before the
// value is decoded. A value no layout fits is left whole for decodeBulk to
// report.
func (u *URL) locateBulk() {
	f := u.fields[fBulk]
	pl := bulkPICCLen((f.end - f.start) / 2)
	if (f.end-f.start)%2 != 0 || pl == 0 {
		return
	}
	if f.end-f.start > 2*pl+16 {
		u.fields[fEnc] = span{f.start + 2*pl, f.end - 16, true}
	}
	u.fields[fPICC] = span{f.start, f.start + 2*pl, true}
	u.fields[fMAC] = span{f.end - 16, f.end, true}
}

// bulkPICCLen returns the PICCData length of a bulk value of n bytes: 16
// (AES) or 24 (LRP), or 0 when no layout fits.
func bulkPICCLen(n int) int {
	switch {
	case n >= 24 && (n-8)%16 == 0:
		return 16
	case n >= 32 && (n-8)%16 == 8:
		return 24
	}
	return 0
}

// decodeBulk decodes a bulk value PICCData‖SDMENCFileData‖SDMMAC into m
// and locates its parts in the raw URL.
func (u *URL) decodeBulk(m *Message) error {
	f := u.fields[fBulk]
	pl, err := splitBulk(m, u.raw[f.start:f.end])
	if err != nil {
		return err
	}
	if len(m.EncFileData) > 0 {
		u.fields[fEnc] = span{f.start + 2*pl, f.end - 16, true}
	}
	u.fields[fPICC] = span{f.start, f.start + 2*pl, true}
	u.fields[fMAC] = span{f.end - 16, f.end, true}
	return nil
}

// splitBulk decodes a bulk value into m and returns the PICCData length,
// which follows from the total length (AES 16 bytes, LRP 24).
func splitBulk(m *Message, v string) (int, error) {
	b, err := decodeHex("bulk", v)
	if err != nil {
		return 0, err
	}
	pl := bulkPICCLen(len(b))
	if pl == 0 {
		return 0, badParam("bulk", "a bulk value is PICCData (32 or 48 hex) + file data (a multiple of 32 hex) + MAC (16 hex)", "bulk value is %d bytes, which no PICCData/file data/MAC layout fits", len(b))
	}
	m.PICCData = b[:pl]
	if len(b)-8 > pl {
		m.EncFileData = b[pl : len(b)-8]
	}
	m.MAC = b[len(b)-8:]
	return pl, nil
}

// MACInputCandidates lists the MAC inputs worth trying when the profile
// does not say: empty, the start of each field before the MAC in URL
// order (the file data first in a bulk value), and the start of the host.
func (u *URL) MACInputCandidates() []MACInput {
	c := []MACInput{{Kind: MACInputEmpty}}
	mac := u.fields[fMAC]
	seen := map[int]bool{mac.start: true}
	if u.bulk && u.fields[fEnc].ok() {
		c = append(c, MACInput{Kind: MACInputAt, Arg: "enc"})
		seen[u.fields[fEnc].start] = true
	}
	type cand struct {
		pos  int
		spec MACInput
	}
	var cs []cand
	for i := 0; i < nFields; i++ {
		f := u.fields[i]
		if i == fMAC || !f.ok() || f.start >= mac.start {
			continue
		}
		cs = append(cs, cand{f.start, MACInput{Kind: MACInputAt, Arg: roleName(i)}})
	}
	for _, p := range u.params {
		if p.val.start < mac.start && p.val.end > p.val.start {
			cs = append(cs, cand{p.val.start, MACInput{Kind: MACInputAt, Arg: p.name}})
		}
	}
	for i := 1; i < len(cs); i++ { // insertion sort by position
		for j := i; j > 0 && cs[j].pos < cs[j-1].pos; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	for _, x := range cs {
		if !seen[x.pos] {
			seen[x.pos] = true
			c = append(c, x.spec)
		}
	}
	if s := strings.Index(u.raw, "://"); s >= 0 && !seen[s+3] && s+3 < mac.start {
		c = append(c, MACInput{Kind: MACInputFrom, Arg: u.raw[s+3 : mac.start][:min(8, mac.start-s-3)]})
	}
	return c
}

// cutMACInput returns the raw text from the MAC input start up to the MAC
// value.
func (u *URL) cutMACInput(mi MACInput) (string, error) {
	mac := u.fields[fMAC]
	start := mac.start
	switch mi.Kind {
	case MACInputEmpty:
		return "", nil
	case MACInputAt:
		found := false
		for i := 0; i < nFields; i++ {
			if roleName(i) == mi.Arg && u.fields[i].ok() {
				start, found = u.fields[i].start, true
			}
		}
		if !found {
			for _, p := range u.params {
				if p.name == mi.Arg {
					start, found = p.val.start, true
				}
			}
		}
		if !found {
			return "", badParam("mac-input", "at: names a parameter (or role picc, enc, uid, ctr, bulk) that must occur in the URL before the MAC", "at:%s: no such parameter in the URL", mi.Arg)
		}
	case MACInputFrom:
		i := strings.Index(u.raw, mi.Arg)
		if i < 0 {
			return "", badParam("mac-input", "from: takes a text that occurs in the URL before the MAC", "from:%s: text not found in the URL", mi.Arg)
		}
		start = i
	}
	if start > mac.start {
		return "", badParam("mac-input", "the MAC input must start before the MAC value", "%s starts after the MAC", mi)
	}
	return u.raw[start:mac.start], nil
}

// decodeHex decodes a hex field (either case), naming the field on error.
func decodeHex(field, s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, badParam(field, "placeholders hold whole bytes: an even number of hex characters; check the placeholder length", "%d hex characters, an odd number", len(s))
	}
	b := make([]byte, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			j := i
			if ok1 {
				j = i + 1
			}
			return nil, badParam(field, "SUN values are hex; the placeholder was not replaced by the tag, or the URL was altered", "character %d (%q) is not hex", j+1, s[j])
		}
		b[i/2] = hi<<4 | lo
	}
	return b, nil
}

// DecodeHex decodes a hex value of a named field (a parameter or a flag),
// returning a bad_param error that names it.
func DecodeHex(field, s string) ([]byte, error) { return decodeHex(field, s) }

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// ParseCounter parses a plain counter mirror: 6 hex characters, most
// significant byte first.
func ParseCounter(s string) (uint32, error) {
	if len(s) != 6 {
		return 0, badParam("ctr", "the counter placeholder is 6 hex characters", "counter has length %d, want 6 hex characters", len(s))
	}
	b, err := decodeHex("ctr", s)
	if err != nil {
		return 0, err
	}
	return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]), nil
}

// DecodeBulk decodes a bulk value (PICCData‖SDMENCFileData‖SDMMAC in hex)
// given on its own; the MAC input is the file data's hex, as tags
// configured for bulk mode emit it.
func DecodeBulk(v string) (*Message, error) {
	m := &Message{}
	pl, err := splitBulk(m, v)
	if err != nil {
		return nil, err
	}
	m.MACInput = v[2*pl : len(v)-16]
	return m, nil
}

// HasSUN reports whether the URL carries any SUN field (PICCData, plain
// UID or counter, MAC or bulk value).
func (u *URL) HasSUN() bool {
	for _, f := range u.fields {
		if f.ok() {
			return true
		}
	}
	return false
}
