package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/sun"
)

// sunVerifier adapts the sun package to tagd.Verifier. It keeps one
// expanded sun.Profile per tag group, rebuilt whenever the group's SUN
// profile or keys differ from what it was built from (not its revision: a
// group deleted and created again under the same ID starts at the same
// revision), so that a tap does no key expansion for a group's static
// keys.
type sunVerifier struct {
	mu    sync.Mutex
	cache map[string]*groupProfile // by group ID
}

// groupProfile is a group's profile with its keys expanded.
type groupProfile struct {
	src      *tagd.SUNProfile // a copy of what it was built from
	keys     tagd.Keys        // a copy of the keys it was built from
	profile  *sun.Profile
	names    sun.ParamNames
	macInput sun.MACInput
	perTag   bool // file keys are per tag (imported)
	err      error
}

// newSUNVerifier returns an empty verifier cache.
func newSUNVerifier() *sunVerifier {
	return &sunVerifier{cache: map[string]*groupProfile{}}
}

// profile returns the expanded profile of a group, building it on first
// use and after every change of its profile or keys.
func (v *sunVerifier) profile(g *tagd.TagGroup, keys tagd.Keys) *groupProfile {
	v.mu.Lock()
	defer v.mu.Unlock()
	if p, ok := v.cache[g.ID]; ok && p.builtFrom(g, keys) {
		return p
	}
	p := buildProfile(g, keys)
	v.cache[g.ID] = p
	return p
}

// builtFrom reports whether p was built from g's profile and keys, the
// only inputs of buildProfile.
func (p *groupProfile) builtFrom(g *tagd.TagGroup, keys tagd.Keys) bool {
	switch {
	case (p.src == nil) != (g.Profile == nil), p.src != nil && *p.src != *g.Profile:
		return false
	}
	return bytes.Equal(p.keys.Meta, keys.Meta) && bytes.Equal(p.keys.File, keys.File) && bytes.Equal(p.keys.Master, keys.Master)
}

// buildProfile expands a group's SUN profile and keys.
func buildProfile(g *tagd.TagGroup, keys tagd.Keys) *groupProfile {
	p := &groupProfile{keys: tagd.Keys{Meta: bytes.Clone(keys.Meta), File: bytes.Clone(keys.File), Master: bytes.Clone(keys.Master)}}
	if g.Profile != nil {
		src := *g.Profile
		p.src = &src
	}
	sp := g.Profile
	if sp == nil {
		p.err = fmt.Errorf("group %s has no SUN profile", g.ID)
		return p
	}
	mode, err := sun.ParseMode(sp.Mode)
	if err != nil {
		p.err = err
		return p
	}
	p.names = profileNames(sp.Params)
	if sp.MACInput == "auto" {
		p.err = fmt.Errorf("group %s: MAC input auto is for diagnosis only; configure empty, at:PARAM or from:TEXT", g.ID)
		return p
	}
	if p.macInput, err = sun.ParseMACInput(sp.MACInput); err != nil {
		p.err = err
		return p
	}
	cfg := sun.ProfileConfig{Mode: mode, MetaKey: keys.Meta, TamperOffset: sp.TamperOffset}
	switch sp.FileKeySource {
	case "static":
		cfg.FileKey = keys.File
	case "tag", "":
		p.perTag = true
	default:
		kdf, err := sun.ParseKDF(sp.FileKeySource)
		if err != nil {
			p.err = err
			return p
		}
		kp := sun.KDFParams{Master: keys.Master, KeyNo: sp.KDFKeyNo, Version: sp.KDFVersion}
		if kp.AID, err = hex.DecodeString(sp.KDFAID); err != nil {
			p.err = fmt.Errorf("group %s: kdf AID is not hex", g.ID)
			return p
		}
		if kp.SystemID, err = hex.DecodeString(sp.KDFSystemID); err != nil {
			p.err = fmt.Errorf("group %s: kdf system id is not hex", g.ID)
			return p
		}
		if len(cfg.MetaKey) == 0 {
			mp := kp
			mp.KeyNo = 1
			if mk, ok, err := kdf.MetaKey(mp); err == nil && ok {
				cfg.MetaKey = mk[:]
			}
		}
		cfg.DeriveFileKey = func(uid []byte) ([16]byte, error) { return kdf.FileKey(kp, uid) }
	}
	p.profile, p.err = sun.NewProfile(cfg)
	return p
}

// profileNames maps the stored parameter names onto sun's: a profile
// that names no role gets sun's defaults; one that names any role is taken
// as written (an empty role is switched off).
func profileNames(sp tagd.SUNParams) sun.ParamNames {
	if sp == (tagd.SUNParams{}) {
		return sun.DefaultParamNames()
	}
	return sun.ParamNames{PICC: sp.PICC, Enc: sp.Enc, MAC: sp.MAC, UID: sp.UID, Ctr: sp.Ctr, Bulk: sp.Bulk, Sep: sp.Sep}
}

// Verify implements tagd.Verifier.
func (v *sunVerifier) Verify(g *tagd.TagGroup, groupKeys, tagKeys tagd.Keys, hasTagKeys bool, uid, rawURL string) tagd.SUNResult {
	p := v.profile(g, groupKeys)
	if p.err != nil {
		return tagd.SUNResult{Present: true, Reason: tagd.CodeBadParam}
	}
	u, err := sun.ParseURL(rawURL, p.names)
	if err != nil {
		return tagd.SUNResult{Present: true, Reason: tagd.Code(sun.ErrorCodeOf(err))}
	}
	if !u.HasSUN() {
		return tagd.SUNResult{}
	}
	m, err := u.Message(p.macInput)
	if err != nil {
		return tagd.SUNResult{Present: true, Reason: tagd.Code(sun.ErrorCodeOf(err))}
	}
	if len(m.PICCData) == 0 && len(m.UID) == 0 && uid != "" {
		// The URL carries only a counter (ixkio's x/n/e): the UID is the
		// tag's stored one.
		if m.UID, err = hex.DecodeString(uid); err != nil {
			return tagd.SUNResult{Present: true, Reason: tagd.CodeBadParam}
		}
	}
	prof := p.profile
	var r sun.Result
	switch {
	case hasTagKeys && len(tagKeys.Meta) == 16:
		cfg := sun.ProfileConfig{Mode: prof.Mode(), MetaKey: tagKeys.Meta, FileKey: tagKeys.File, TamperOffset: g.Profile.TamperOffset}
		tp, perr := sun.NewProfile(cfg)
		if perr != nil {
			return tagd.SUNResult{Present: true, Reason: tagd.CodeBadParam}
		}
		r, err = tp.Verify(m)
	case hasTagKeys && len(tagKeys.File) == 16:
		r, err = prof.VerifyWithFileKey(m, tagKeys.File)
	default:
		r, err = prof.Verify(m)
	}
	out := tagd.SUNResult{Present: true, Pass: err == nil, Reason: tagd.Code(sun.ErrorCodeOf(err)),
		UID: r.UIDHex(), Counter: r.Counter, HasCounter: r.HasCounter, Tamper: r.Tamper, FileData: r.FileData}
	if err != nil && out.Reason == "" {
		out.Reason = tagd.CodeBadParam
	}
	return out
}

// Identify implements tagd.Verifier.
func (v *sunVerifier) Identify(g *tagd.TagGroup, groupKeys tagd.Keys, rawURL string) (string, tagd.Code) {
	p := v.profile(g, groupKeys)
	if p.err != nil {
		return "", tagd.CodeBadParam
	}
	u, err := sun.ParseURL(rawURL, p.names)
	if err != nil {
		return "", tagd.CodeBadParam
	}
	if !u.HasSUN() {
		return "", tagd.CodeUnknownTag
	}
	m, err := u.Message(sun.MACInput{Kind: sun.MACInputEmpty})
	if err != nil {
		return "", tagd.CodeBadParam
	}
	r, err := p.profile.Identify(m)
	if err != nil {
		return "", tagd.Code(sun.ErrorCodeOf(err))
	}
	if !r.HasUID {
		return "", tagd.CodeUnknownTag
	}
	return r.UIDHex(), ""
}
