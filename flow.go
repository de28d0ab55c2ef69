package tagd

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
)

// Check runs one request through the check flow. Outcomes that ixkio
// reports as errors (unknown tag, inactive batch, bad token, …) are in
// Result.Error; the returned error is for faults of the appliance itself.
// Every outcome is recorded in the scan log before Check returns.
func (c *Checker) Check(ctx context.Context, req Request) (Result, error) {
	if req.Time.IsZero() {
		req.Time = c.Now()
	}
	res := Result{XUID: req.Lookup.XUID, CUID: req.Lookup.CUID, UID: req.Lookup.UID}
	view, sun, errCode, err := c.identify(ctx, req, &res)
	if err != nil {
		return res, err
	}
	if errCode == "" {
		res.CORS = view.Folder.CORS
		errCode = gate(view, req)
	}
	if errCode != "" {
		return c.fail(ctx, req, res, view, errCode)
	}
	g := &view.Group
	auth := g.Type == GroupAuthentication
	if auth && sun == nil {
		sr, err := c.verify(ctx, view, req, nil)
		if err != nil {
			return res, err
		}
		sun = &sr
	}
	tap := Tap{
		XUID: view.Tag.XUID,
		Scan: Scan{Time: req.Time, Source: req.Source, UID: view.Tag.UID},
	}
	if sun != nil {
		tap.Counter, tap.HasCounter, tap.Authenticated = sun.Counter, sun.HasCounter, sun.Pass
		tap.Scan.Counter, tap.Scan.HasCounter, tap.Scan.Tamper = sun.Counter, sun.HasCounter, sun.Tamper
	} else if n, ok := plainCounter(req.RawURL); ok {
		tap.Counter, tap.HasCounter = n, true
	}
	base := *view
	tap.Render = func(t *Tag, replay bool) Scan {
		s := tap.Scan
		v := base
		v.Tag = *t
		env := RuleEnv{ScanCount: t.ScanCount, NFT: t.NFT}
		if auth {
			env.AuthPass, s.Auth, s.Reason = authVerdict(sun, replay)
			env.Tamper = sun.Tamper
		}
		s.Response = Substitute(EffectiveRuleset(t, g).Evaluate(env), SubtagEnv{View: &v, Rand: c.Rand})
		return s
	}
	scan, tag, err := c.Store.RecordTap(ctx, tap)
	if err != nil {
		return res, err
	}
	view.Tag = *tag
	res.XUID, res.Response, res.Scan, res.Tag = tag.XUID, scan.Response, scan, view
	res.Auth, res.Reason, res.Counter, res.Tamper = scan.Auth, scan.Reason, scan.Counter, scan.Tamper
	if res.Kind == ByUID || res.Kind == BySUN {
		res.UID = tag.UID
	}
	if res.Kind == ByCUID {
		res.CUID = tag.CUID
	}
	res.Extra = ResponseFields(SubtagEnv{View: view, Rand: c.Rand})
	return res, nil
}

// authVerdict decides a SUN tap: it passes when the MAC verified, the tap
// carries a counter and the counter is fresh.
func authVerdict(sun *SUNResult, replay bool) (pass bool, auth string, reason Code) {
	switch {
	case !sun.Pass:
		return false, "fail", sun.Reason
	case !sun.HasCounter || replay:
		return false, "fail", CodeReplay
	}
	return true, "pass", ""
}

// identify finds the tag of the request. A SUN-identified tap returns its
// already verified SUN result. errCode is an ixkio error for the client.
func (c *Checker) identify(ctx context.Context, req Request, res *Result) (view *TagView, sun *SUNResult, errCode string, err error) {
	l := req.Lookup
	switch {
	case l.XUID != "":
		res.Kind = ByXUID
		view, err = c.Store.FindTag(ctx, Lookup{XUID: l.XUID})
	case l.CUID != "" && l.AID == "" || l.UID != "" && l.AID == "":
		// c or u without a is no ixkio lookup; Bolt Card and AN12196 tags
		// use c for their MAC, so the tap may identify itself.
		if view, sun, code, err := c.identifySUN(ctx, req); err != nil || code == "" {
			res.Kind, res.CUID, res.UID = BySUN, "", ""
			return view, sun, code, err
		}
		if l.CUID != "" {
			res.Kind = ByCUID
		} else {
			res.Kind = ByUID
		}
		return nil, nil, ErrMissingIdentifier, nil
	case l.CUID != "":
		res.Kind = ByCUID
		view, err = c.Store.FindTag(ctx, Lookup{AID: l.AID, CUID: l.CUID})
	case l.UID != "":
		res.Kind = ByUID
		res.UID = strings.ToUpper(l.UID)
		view, err = c.Store.FindTag(ctx, Lookup{AID: l.AID, UID: res.UID})
	default:
		res.Kind = BySUN
		view, sun, code, err := c.identifySUN(ctx, req)
		if (code == ErrMissingIdentifier || code == ErrUnknownTag) && req.TagUID != "" {
			// a reader read the tag's UID: a tag without SUN, or a line
			// reader that sends only UIDs
			res.Kind, res.UID = ByUID, strings.ToUpper(req.TagUID)
			view, err = c.Store.FindTagByUID(ctx, res.UID)
			if code := notFoundCode(err); code != "" {
				return nil, nil, code, nil
			}
			return view, nil, "", err
		}
		return view, sun, code, err
	}
	if code := notFoundCode(err); code != "" {
		return nil, nil, code, nil
	}
	return view, nil, "", err
}

// identifySUN finds the tag of a URL without x, c or u: the first
// authentication profile whose meta key opens its PICCData (or that reads
// a plain UID) names the UID, and the UID names the tag. The SUN message
// is then verified against that tag.
func (c *Checker) identifySUN(ctx context.Context, req Request) (*TagView, *SUNResult, string, error) {
	profiles, err := c.Store.SUNProfiles(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	malformed := false
	for i := range profiles {
		uid, reason := c.Verifier.Identify(&profiles[i].Group, profiles[i].Keys, req.RawURL)
		if reason != "" {
			malformed = malformed || reason == CodeBadParam
			continue
		}
		view, err := c.Store.FindTagByUID(ctx, uid)
		if code := notFoundCode(err); code != "" {
			return nil, nil, code, nil
		}
		if err != nil {
			return nil, nil, "", err
		}
		if view.Group.ID != profiles[i].Group.ID {
			continue // the UID belongs to a tag of another group
		}
		sr, err := c.verify(ctx, view, req, &profiles[i].Keys)
		if err != nil {
			return nil, nil, "", err
		}
		return view, &sr, "", nil
	}
	switch {
	case malformed:
		return nil, nil, ErrBadParam, nil
	case strings.Contains(req.RawURL, "="):
		return nil, nil, ErrUnknownTag, nil
	}
	return nil, nil, ErrMissingIdentifier, nil
}

// verify checks the SUN message of a request against a tag's keys. The
// group's keys are read from the store unless the caller has them (the
// profile that identified the tap).
func (c *Checker) verify(ctx context.Context, view *TagView, req Request, groupKeys *Keys) (SUNResult, error) {
	var gk Keys
	if groupKeys != nil {
		gk = *groupKeys
	} else {
		var err error
		if gk, err = c.Store.GroupKeys(ctx, view.Group.ID); err != nil {
			return SUNResult{}, err
		}
	}
	tk, has, err := c.Store.TagKeys(ctx, view.Tag.XUID)
	if err != nil {
		return SUNResult{}, err
	}
	sr := c.Verifier.Verify(&view.Group, gk, tk, has, view.Tag.UID, req.RawURL)
	if !sr.Present {
		sr.Pass, sr.Reason = false, CodeBadParam
	}
	if sr.Pass && sr.UID != "" && view.Tag.UID != "" && !strings.EqualFold(sr.UID, view.Tag.UID) {
		// A genuine message of another tag presented under this tag's XUID.
		sr.Pass, sr.Reason = false, CodeUnknownTag
	}
	return sr, nil
}

// notFoundCode maps a store error to an ixkio not-found error, or "".
func notFoundCode(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return ""
	}
	switch {
	case e.Code == CodeConflict && e.Field == "uid":
		return ErrUIDAmbiguous
	case e.Code != CodeNotFound:
		return ""
	}
	switch e.Field {
	case "aid":
		return ErrAIDNotFound
	case "cuid":
		return ErrCUIDNotFound
	case "uid":
		return ErrUIDNotFound
	}
	return ErrXUIDNotFound
}

// gate checks the folder token and the status cascade, top down.
func gate(v *TagView, req Request) string {
	if len(v.Folder.TokenHash) > 0 {
		h := sha256.Sum256([]byte(req.Token))
		if !req.HasToken || subtle.ConstantTimeCompare(h[:], v.Folder.TokenHash) != 1 {
			return ErrTokenInvalid
		}
	}
	switch {
	case v.Folder.Status == StatusInactive:
		return ErrFolderInactive
	case v.Group.Status == StatusInactive:
		return ErrTGInactive
	case v.Batch.Status == StatusInactive:
		return ErrBatchInactive
	case v.Tag.Status == TagInactive:
		return ErrTagInactive
	}
	return ""
}

// fail records a check that ended in an ixkio error and returns it.
func (c *Checker) fail(ctx context.Context, req Request, res Result, view *TagView, code string) (Result, error) {
	res.Error = code
	s := Scan{Time: req.Time, Source: req.Source, Error: code, UID: res.UID}
	if view != nil {
		res.XUID = view.Tag.XUID
		s.XUID, s.AID, s.UID = view.Tag.XUID, view.Tag.AID, view.Tag.UID
		res.Tag = view
	} else {
		res.XUID = "" // ixkio: xuid is "" when no tag was resolved
	}
	scan, err := c.Store.AppendScan(ctx, s)
	if err != nil {
		return res, err
	}
	res.Scan = scan
	return res, nil
}

// plainCounter reads an ixkio-style plain counter n=XXXXXX (6 hex
// characters) from a URL, for standard tags that mirror their counter.
func plainCounter(raw string) (uint32, bool) {
	q := raw
	if i := strings.IndexByte(q, '?'); i >= 0 {
		q = q[i+1:]
	}
	for _, kv := range strings.Split(q, "&") {
		if v, ok := strings.CutPrefix(kv, "n="); ok && len(v) == 6 {
			var n uint32
			for i := 0; i < 6; i++ {
				d := strings.IndexByte("0123456789abcdefABCDEF", v[i])
				if d < 0 {
					return 0, false
				}
				if d > 15 {
					d -= 6
				}
				n = n<<4 | uint32(d)
			}
			return n, true
		}
	}
	return 0, false
}
