package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tagd-nfc/tagd"
)

// The Management API (research/ixkio.md §5): PATCH /v1/x/{xuid} names a
// Tag Code by XUID; PATCH /v1/a/{aid} names it by account and the request
// header ix_c (CUID, case-sensitive) or ix_u (chip UID, upper-cased before
// the lookup). The caller presents the account's Management API token in
// X-API-Key (X-Api-Key) or, failing that, Ixkio-R; it is compared with
// Account.MgmtTokenHash as SHA-256 digests in constant time, and it is
// never logged. An account without a Management API token cannot be
// managed.
//
// Every reply to a PATCH is HTTP 200 with
//
//	{"status":"success","message":"Updated","xuid":"q8w3sbcz"}
//	{"status":"error","message":"Invalid Status","xuid":"q8w3sbcz"}
//
// plus "cuid" or "uid" (as sent, the UID upper-cased) after "xuid" for a
// request by /v1/a, as the Response API echoes them. "xuid" is "" until
// the tag is resolved (so also on an invalid token by /v1/a, where the
// token is checked before the CUID or UID is looked up). Other methods get
// 405 with the appliance API's {"Code","Message"} body, as /v1/t does.
//
// The order of the checks, each answering the first failure:
//  1. the tag (/v1/x: Tag Code Not Found) or the account and the ix_c/ix_u
//     header (/v1/a: Missing CUID or UID, Ambiguous CUID or UID, Account
//     Not Found);
//  2. the token (Invalid Token), then the account's API switch (API
//     Disabled);
//  3. /v1/a: the tag (CUID Not Found, UID Not Found);
//  4. the parameters, from the query string and the body: Body Too Large,
//     Invalid Body, Invalid Query, Unknown Parameter, Duplicate Parameter,
//     No Parameters;
//  5. their values, in parameter order: Invalid Default Response, Invalid
//     Status, Invalid Assigned, Invalid NFT Chain, Incomplete NFT Data,
//     Invalid NFT Data, Invalid NFT Owner;
//  6. the change, applied in one store transaction: all of it or nothing.
//
// Parameters (the first name is canonical, the others are aliases, since
// the names of the last three were stripped from every stored copy of the
// docs):
//
//	ix_dr                        the tag's default response; "" reverts the tag to its group's ruleset
//	ix_s, ix_status              Active | Inactive (any case; stored as spelled here)
//	ix_a, ix_assigned            Assigned | Unassigned (any case); Assigned stamps the assigned date
//	ix_nftchain                  etherium_main | etherium_test | polygon_main | polygon_test (any case) | ""
//	ix_nftcontract, ix_nfttoken  text | ""
//	ix_nftowner, ix_owner, ix_nftwallet  text | ""
//
// A parameter that is present with an empty value is not absent: ix_dr=""
// reverts, NFT fields "" clear. The NFT chain, contract and token go
// together: all three or none, all set or all empty. The owner is
// independent (clearing the other three keeps it). Assigned stamps the
// assigned date with Server.Now, also on a tag that is already assigned;
// Unassigned keeps the date of the last assignment. A change of the tag's
// default response applies whatever its group's type: on an
// authentication tag it replaces the group's Pass/Fail rules.
//
// They come from the query string and from the body, which may be
// application/x-www-form-urlencoded (also assumed when a body has no
// Content-Type), multipart/form-data (fields only, no files), or a flat
// JSON object of strings (application/json or any type ending in +json).
// A parameter named twice, under one name or two, in one place or two, is
// Duplicate Parameter. In the body every name must be a parameter; in the
// query string only names that begin with ix_ (in any case) must be, and
// the rest are ignored, as a cache-buster is. The body is at most
// maxManageBody bytes.

// maxManageBody is the largest Management API body accepted.
const maxManageBody = 64 << 10

// Limits on the values of the Management API.
const (
	maxDefaultResponse = 2048 // bytes of ix_dr
	maxNFTField        = 256  // bytes of each NFT field
)

// Messages of the Management API. The ixkio docs show only "Invalid
// Status"; the others follow its Title Case style.
const (
	msgUpdated         = "Updated"
	msgInvalidStatus   = "Invalid Status"
	msgInvalidAssigned = "Invalid Assigned"
	msgInvalidChain    = "Invalid NFT Chain"
	msgIncompleteNFT   = "Incomplete NFT Data"
	msgInvalidNFT      = "Invalid NFT Data"
	msgInvalidOwner    = "Invalid NFT Owner"
	msgInvalidDR       = "Invalid Default Response"
	msgInvalidToken    = "Invalid Token"
	msgAPIDisabled     = "API Disabled"
	msgTagNotFound     = "Tag Code Not Found"
	msgAccountNotFound = "Account Not Found"
	msgCUIDNotFound    = "CUID Not Found"
	msgUIDNotFound     = "UID Not Found"
	msgMissingID       = "Missing CUID or UID"
	msgAmbiguousID     = "Ambiguous CUID or UID"
	msgNoParameters    = "No Parameters"
	msgUnknownParam    = "Unknown Parameter"
	msgDuplicateParam  = "Duplicate Parameter"
	msgInvalidBody     = "Invalid Body"
	msgBodyTooLarge    = "Body Too Large"
	msgInvalidQuery    = "Invalid Query"
	msgInternal        = "Internal Error"
)

// Request headers of the Management API that name a tag (Go canonicalises
// "ix_c" to "Ix_c").
const (
	headerIxC = "Ix_c"
	headerIxU = "Ix_u"
)

// ManageStore is the storage the Management API needs; *store.DB
// satisfies it. Errors carry tagd codes: CodeNotFound with Field "xuid",
// "aid", "cuid" or "uid" for what was not found.
type ManageStore interface {
	// FindTag returns the tag named by l with everything above it.
	FindTag(ctx context.Context, l tagd.Lookup) (*tagd.TagView, error)
	// Account returns the account aid.
	Account(ctx context.Context, aid string) (*tagd.Account, error)
	// UpdateTag atomically reads tag xuid, applies fn and stores the
	// result; an error from fn is returned as is and nothing is stored.
	UpdateTag(ctx context.Context, xuid string, fn func(*tagd.Tag) error) error
}

// manageRoutes adds the Management API's routes to mux. The patterns take
// no method, so that other methods get the appliance API's 405 body.
func (s *Server) manageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/v1/x/{xuid}", s.handleManageXUID)
	mux.HandleFunc("/v1/a/{aid}", s.handleManageAID)
}

// manageReply is what a Management API reply says about the tag: its XUID
// once resolved, and the CUID or UID it was named by.
type manageReply struct {
	xuid string
	kind tagd.LookupKind // ByXUID, ByCUID or ByUID
	id   string          // the CUID or UID, for ByCUID and ByUID
}

// handleManageXUID answers PATCH /v1/x/{xuid}.
func (s *Server) handleManageXUID(w http.ResponseWriter, r *http.Request) {
	if !manageMethod(w, r) {
		return
	}
	rep := manageReply{kind: tagd.ByXUID}
	if s.Manage == nil {
		s.manageInternal(w, r, rep, errors.New("httpapi: Server has no Manage store"))
		return
	}
	ctx := r.Context()
	v, err := s.Manage.FindTag(ctx, tagd.Lookup{XUID: r.PathValue("xuid")})
	if err != nil {
		if manageNotFound(err) {
			writeManage(w, rep, msgTagNotFound)
		} else {
			s.manageInternal(w, r, rep, err)
		}
		return
	}
	rep.xuid = v.Tag.XUID
	if msg := checkMgmtToken(r, &v.Account); msg != "" {
		writeManage(w, rep, msg)
		return
	}
	aid := v.Account.AID
	s.manageApply(w, r, rep, msgTagNotFound, func(t *tagd.Tag) bool { return t.AID == aid })
}

// handleManageAID answers PATCH /v1/a/{aid} with header ix_c or ix_u.
func (s *Server) handleManageAID(w http.ResponseWriter, r *http.Request) {
	if !manageMethod(w, r) {
		return
	}
	var rep manageReply
	cuids, uids := nonEmptyValues(r.Header.Values(headerIxC)), nonEmptyValues(r.Header.Values(headerIxU))
	switch {
	case len(cuids)+len(uids) == 0:
		writeManage(w, rep, msgMissingID)
		return
	case len(cuids)+len(uids) > 1:
		writeManage(w, rep, msgAmbiguousID)
		return
	case len(cuids) == 1:
		rep.kind, rep.id = tagd.ByCUID, cuids[0]
	default:
		rep.kind, rep.id = tagd.ByUID, strings.ToUpper(uids[0])
	}
	if s.Manage == nil {
		s.manageInternal(w, r, rep, errors.New("httpapi: Server has no Manage store"))
		return
	}
	ctx := r.Context()
	aid := r.PathValue("aid")
	acct, err := s.Manage.Account(ctx, aid)
	if err != nil {
		if manageNotFound(err) {
			writeManage(w, rep, msgAccountNotFound)
		} else {
			s.manageInternal(w, r, rep, err)
		}
		return
	}
	// The token before the tag: without it, nobody learns which CUIDs or
	// UIDs the account holds.
	if msg := checkMgmtToken(r, acct); msg != "" {
		writeManage(w, rep, msg)
		return
	}
	l := tagd.Lookup{AID: acct.AID}
	missing := msgCUIDNotFound
	if rep.kind == tagd.ByCUID {
		l.CUID = rep.id
	} else {
		l.UID, missing = rep.id, msgUIDNotFound
	}
	v, err := s.Manage.FindTag(ctx, l)
	if err != nil {
		switch {
		case !manageNotFound(err):
			s.manageInternal(w, r, rep, err)
		case manageErrField(err) == "aid": // deleted since
			writeManage(w, rep, msgAccountNotFound)
		default:
			writeManage(w, rep, missing)
		}
		return
	}
	rep.xuid = v.Tag.XUID
	// The tag must still be the one the header names when the change is
	// applied: its CUID or UID may have changed in between.
	same := func(t *tagd.Tag) bool {
		if t.AID != acct.AID {
			return false
		}
		if rep.kind == tagd.ByCUID {
			return t.CUID == rep.id
		}
		return t.UID == rep.id
	}
	s.manageApply(w, r, rep, missing, same)
}

// manageMethod refuses methods other than PATCH with 405, and reports
// whether the request is a PATCH.
func manageMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPatch {
		return true
	}
	w.Header().Set("Allow", http.MethodPatch)
	writeCodeMessage(w, http.StatusMethodNotAllowed, tagd.CodeInvalid, "method "+r.Method+" not allowed; use PATCH")
	return false
}

// errTagMoved is returned by the update function when the tag is no longer
// the one the request named.
var errTagMoved = errors.New("httpapi: the tag changed since it was looked up")

// manageApply reads and validates the parameters of an authorised request
// for tag rep.xuid, then applies them in one store transaction, provided
// the tag still satisfies same; gone is the message when it does not (or
// no longer exists).
func (s *Server) manageApply(w http.ResponseWriter, r *http.Request, rep manageReply, gone string, same func(*tagd.Tag) bool) {
	var p manageParams
	if msg := readManageParams(w, r, &p); msg != "" {
		writeManage(w, rep, msg)
		return
	}
	c, msg := validateManage(&p)
	if msg != "" {
		writeManage(w, rep, msg)
		return
	}
	now := s.now()
	err := s.Manage.UpdateTag(r.Context(), rep.xuid, func(t *tagd.Tag) error {
		if !same(t) {
			return errTagMoved
		}
		c.apply(t, now)
		return nil
	})
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, appendManage(nil, rep, true, msgUpdated))
	case errors.Is(err, errTagMoved) || manageNotFound(err):
		writeManage(w, rep, gone)
	default:
		s.manageInternal(w, r, rep, err)
	}
}

// checkMgmtToken checks the Management API token of r against account a
// and returns the error message, or "". An account without a token (or a
// request without one) never passes.
func checkMgmtToken(r *http.Request, a *tagd.Account) string {
	tok, ok := mgmtToken(r)
	if !ok || tok == "" || len(a.MgmtTokenHash) != sha256.Size {
		return msgInvalidToken
	}
	h := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(h[:], a.MgmtTokenHash) != 1 {
		return msgInvalidToken
	}
	if a.APIDisabled {
		return msgAPIDisabled
	}
	return ""
}

// mgmtToken returns the token presented in the X-API-Key header, else in
// Ixkio-R; of a header sent several times the first value counts, as on
// the Response API. The query string's r is not a Management API token.
func mgmtToken(r *http.Request) (string, bool) {
	for _, name := range [...]string{headerAPIKey, headerIxkioR} {
		if v := r.Header.Values(name); len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

// Management API parameters, as indexes.
const (
	mDR = iota
	mStatus
	mAssigned
	mChain
	mContract
	mToken
	mOwner
	numManageParams
)

// manageParamIndex returns the index of a Management API parameter name
// or alias, or -1.
func manageParamIndex(name string) int {
	switch name {
	case "ix_dr":
		return mDR
	case "ix_s", "ix_status":
		return mStatus
	case "ix_a", "ix_assigned":
		return mAssigned
	case "ix_nftchain":
		return mChain
	case "ix_nftcontract":
		return mContract
	case "ix_nfttoken":
		return mToken
	case "ix_nftowner", "ix_owner", "ix_nftwallet":
		return mOwner
	}
	return -1
}

// manageParams are the parameters of one request: which are present, and
// their values ("" may be present).
type manageParams struct {
	val [numManageParams]string
	set [numManageParams]bool
	n   int
}

// add records one name/value pair. strict says every name must be a
// parameter; otherwise names that do not begin with "ix_" (in any case)
// are ignored. It returns the error message, or "".
func (p *manageParams) add(name, val string, strict bool) string {
	i := manageParamIndex(name)
	if i < 0 {
		if strict || len(name) >= 3 && strings.EqualFold(name[:3], "ix_") {
			return msgUnknownParam
		}
		return ""
	}
	if p.set[i] {
		return msgDuplicateParam
	}
	p.val[i], p.set[i] = val, true
	p.n++
	return ""
}

// formPair is one name and value of a query string or body, in order.
type formPair struct{ name, val string }

// readManageParams collects the parameters of the query string and the
// body of r into p and returns the error message, or "". The body is read
// whole (at most maxManageBody bytes) and parsed before any name is
// checked, so that a malformed body is reported as such.
func readManageParams(w http.ResponseWriter, r *http.Request, p *manageParams) string {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return msgInvalidBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxManageBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return msgBodyTooLarge
		}
		return msgInvalidBody
	}
	bodyPairs, ok := decodeManageBody(r.Header.Get("Content-Type"), body)
	if !ok {
		return msgInvalidBody
	}
	queryPairs, ok := parseFormPairs(r.URL.RawQuery)
	if !ok {
		return msgInvalidQuery
	}
	for _, kv := range queryPairs {
		if msg := p.add(kv.name, kv.val, false); msg != "" {
			return msg
		}
	}
	for _, kv := range bodyPairs {
		if msg := p.add(kv.name, kv.val, true); msg != "" {
			return msg
		}
	}
	if p.n == 0 {
		return msgNoParameters
	}
	return ""
}

// decodeManageBody returns the name/value pairs of a body of the given
// Content-Type, in order, and whether it is well formed. An empty body has
// no pairs, whatever its type; a body without a type is taken as a form.
func decodeManageBody(contentType string, body []byte) ([]formPair, bool) {
	if len(body) == 0 {
		return nil, true
	}
	if strings.TrimSpace(contentType) == "" {
		return parseFormPairs(string(body))
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, false
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		return parseFormPairs(string(body))
	case mt == "multipart/form-data":
		return parseMultipartPairs(body, params["boundary"])
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return parseJSONPairs(body)
	}
	return nil, false
}

// parseFormPairs parses an application/x-www-form-urlencoded text (a query
// string or a body): parts separated by '&' (empty parts skipped), a part
// without '=' having an empty value, names and values unescaped as
// url.QueryUnescape does ('+' is a space). It is not well formed when an
// escape is invalid.
func parseFormPairs(s string) ([]formPair, bool) {
	var out []formPair
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, "&")
		if part == "" {
			continue
		}
		name, val, _ := strings.Cut(part, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			return nil, false
		}
		v, err := url.QueryUnescape(val)
		if err != nil {
			return nil, false
		}
		out = append(out, formPair{n, v})
	}
	return out, true
}

// parseMultipartPairs parses a multipart/form-data body: every part must be a
// form field (a name, no file name).
func parseMultipartPairs(body []byte, boundary string) ([]formPair, bool) {
	if boundary == "" {
		return nil, false
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var out []formPair
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return out, true
		}
		if err != nil {
			return nil, false
		}
		name := part.FormName()
		if name == "" || part.FileName() != "" {
			return nil, false
		}
		v, err := io.ReadAll(part)
		if err != nil {
			return nil, false
		}
		out = append(out, formPair{name, string(v)})
	}
}

// parseJSONPairs parses a flat JSON object whose values are all strings,
// with nothing after it but white space.
func parseJSONPairs(body []byte) ([]formPair, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []formPair
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name, ok := tok.(string)
		if !ok {
			return nil, false
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, false
		}
		val, ok := tok.(string)
		if !ok { // a number, true, false, null, an object or an array
			return nil, false
		}
		out = append(out, formPair{name, val})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return out, true
}

// manageChange is a validated change to a tag.
type manageChange struct {
	setDR       bool
	dr          string // "": revert to the group's ruleset
	setStatus   bool
	status      tagd.Status
	setAssigned bool
	assigned    bool
	setNFT      bool
	nft         tagd.NFT // chain, contract and token
	setOwner    bool
	owner       string
}

// validateManage checks every parameter of p and returns the change, or
// the message of the first invalid one.
func validateManage(p *manageParams) (manageChange, string) {
	var c manageChange
	if p.set[mDR] {
		if !validManageText(p.val[mDR], maxDefaultResponse) {
			return c, msgInvalidDR
		}
		c.setDR, c.dr = true, p.val[mDR]
	}
	if p.set[mStatus] {
		w, ok := oneOfFold(p.val[mStatus], string(tagd.TagActive), string(tagd.TagInactive))
		if !ok {
			return c, msgInvalidStatus
		}
		c.setStatus, c.status = true, tagd.Status(w)
	}
	if p.set[mAssigned] {
		w, ok := oneOfFold(p.val[mAssigned], "Assigned", "Unassigned")
		if !ok {
			return c, msgInvalidAssigned
		}
		c.setAssigned, c.assigned = true, w == "Assigned"
	}
	if p.set[mChain] || p.set[mContract] || p.set[mToken] {
		chain := p.val[mChain]
		if chain != "" {
			var ok bool
			if chain, ok = oneOfFold(chain, "etherium_main", "etherium_test", "polygon_main", "polygon_test"); !ok {
				return c, msgInvalidChain
			}
		}
		if !p.set[mChain] || !p.set[mContract] || !p.set[mToken] {
			return c, msgIncompleteNFT
		}
		contract, token := p.val[mContract], p.val[mToken]
		empty := chain == "" && contract == "" && token == ""
		full := chain != "" && contract != "" && token != ""
		if !empty && !full {
			return c, msgIncompleteNFT
		}
		if !validManageText(contract, maxNFTField) || !validManageText(token, maxNFTField) {
			return c, msgInvalidNFT
		}
		c.setNFT, c.nft = true, tagd.NFT{Chain: chain, Contract: contract, Token: token}
	}
	if p.set[mOwner] {
		if !validManageText(p.val[mOwner], maxNFTField) {
			return c, msgInvalidOwner
		}
		c.setOwner, c.owner = true, p.val[mOwner]
	}
	return c, ""
}

// oneOfFold returns the word of words that v spells in any case of ASCII
// letters (only: "ſ" is not "s"), and whether there is one.
func oneOfFold(v string, words ...string) (string, bool) {
	for _, w := range words {
		if len(v) != len(w) {
			continue
		}
		same := true
		for i := 0; i < len(v) && same; i++ {
			a, b := v[i], w[i]
			if 'A' <= a && a <= 'Z' {
				a += 'a' - 'A'
			}
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			same = a == b
		}
		if same {
			return w, true
		}
	}
	return "", false
}

// validManageText reports whether s is at most max bytes of UTF-8 without
// control characters.
func validManageText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// apply makes the change to t; now stamps an assignment.
func (c *manageChange) apply(t *tagd.Tag, now time.Time) {
	if c.setDR {
		switch {
		case c.dr == "":
			t.Ruleset = nil // revert: inherit the group's ruleset again
		case t.Ruleset == nil:
			t.Ruleset = &tagd.Ruleset{Default: c.dr} // break the link
		default:
			t.Ruleset.Default = c.dr // keep the tag's own rule groups
		}
	}
	if c.setStatus {
		t.Status = c.status
	}
	if c.setAssigned {
		t.Assigned = c.assigned
		if c.assigned {
			t.AssignedAt = now
		}
	}
	if c.setNFT {
		t.NFT.Chain, t.NFT.Contract, t.NFT.Token = c.nft.Chain, c.nft.Contract, c.nft.Token
	}
	if c.setOwner {
		t.NFT.Owner = c.owner
	}
}

// nonEmptyValues returns the non-empty values of vs.
func nonEmptyValues(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// manageNotFound reports whether err is a tagd not-found error.
func manageNotFound(err error) bool { return tagd.ErrorCode(err) == tagd.CodeNotFound }

// manageErrField returns the Field of a *tagd.Error in err's chain, or "".
func manageErrField(err error) string {
	if e, ok := errors.AsType[*tagd.Error](err); ok {
		return e.Field
	}
	return ""
}

// writeManage writes an error reply.
func writeManage(w http.ResponseWriter, rep manageReply, msg string) {
	writeJSON(w, http.StatusOK, appendManage(nil, rep, false, msg))
}

// manageInternal logs an internal fault (never the token nor the body) and
// answers Internal Error.
func (s *Server) manageInternal(w http.ResponseWriter, r *http.Request, rep manageReply, err error) {
	s.logger().ErrorContext(r.Context(), "management request failed", "err", err, "path", r.URL.Path, "xuid", rep.xuid)
	writeManage(w, rep, msgInternal)
}

// appendManage appends a Management API reply: status, message, xuid, then
// cuid or uid for a request by /v1/a.
func appendManage(b []byte, rep manageReply, ok bool, msg string) []byte {
	if ok {
		b = append(b, `{"status":"success","message":`...)
	} else {
		b = append(b, `{"status":"error","message":`...)
	}
	b = appendString(b, msg)
	b = append(b, `,"xuid":`...)
	b = appendString(b, rep.xuid)
	switch rep.kind {
	case tagd.ByCUID:
		b = append(b, `,"cuid":`...)
		b = appendString(b, rep.id)
	case tagd.ByUID:
		b = append(b, `,"uid":`...)
		b = appendString(b, rep.id)
	}
	return append(b, '}')
}
