package httpapi

import (
	"net/http"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tagd-nfc/tagd"
)

// TagInfo is a tag (ixkio's Tag Code) as the CRUD routes show it. Ruleset
// is null while the tag inherits its group's; LastCounter is null until
// the first accepted SUN tap. Keys are never shown.
type TagInfo struct {
	XUID        string            `json:"xuid"`
	AID         string            `json:"aid"`
	BatchID     string            `json:"batch_id"`
	UID         string            `json:"uid"`
	CUID        string            `json:"cuid"`
	Name        string            `json:"name"`
	Status      tagd.Status       `json:"status"`
	Assigned    bool              `json:"assigned"`
	AssignedAt  *time.Time        `json:"assigned_at"`
	CreatedAt   time.Time         `json:"created_at"`
	NFT         TagNFT            `json:"nft"`
	Ruleset     *tagd.Ruleset     `json:"ruleset"`
	Extended    map[string]string `json:"extended"`
	ScanCount   uint64            `json:"scan_count"`
	ChipCount   uint64            `json:"chip_count"`
	LastCounter *uint32           `json:"last_counter"`
}

// TagNFT is the NFT data of a tag. Chain is "", etherium_main,
// etherium_test, polygon_main or polygon_test (ixkio's spelling); chain,
// contract and token are all set or all empty; the owner is independent.
type TagNFT struct {
	Chain    string `json:"chain"`
	Contract string `json:"contract"`
	Token    string `json:"token"`
	Owner    string `json:"owner"`
}

// TagInfoOf returns the shown part of a tag.
func TagInfoOf(t *tagd.Tag) TagInfo {
	ti := TagInfo{XUID: t.XUID, AID: t.AID, BatchID: t.BatchID, UID: t.UID, CUID: t.CUID, Name: t.Name, Status: t.Status,
		Assigned: t.Assigned, CreatedAt: t.CreatedAt, NFT: TagNFT(t.NFT), Ruleset: t.Ruleset, Extended: t.Extended,
		ScanCount: t.ScanCount, ChipCount: t.ChipCount}
	if !t.AssignedAt.IsZero() {
		at := t.AssignedAt
		ti.AssignedAt = &at
	}
	if t.HasCounter {
		c := t.LastCounter
		ti.LastCounter = &c
	}
	if ti.Extended == nil {
		ti.Extended = map[string]string{}
	}
	return ti
}

// NewTag is the body of POST /api/v1/tags. XUID is generated (8
// characters) when empty; Status defaults to Active; Assigned stamps the
// assigned date; a null or absent Ruleset inherits the group's. The
// tag's own keys are imported with POST /api/v1/import/keys.
type NewTag struct {
	XUID     string            `json:"xuid"`
	BatchID  string            `json:"batch_id"`
	UID      string            `json:"uid"`
	CUID     string            `json:"cuid"`
	Name     string            `json:"name"`
	Status   tagd.Status       `json:"status"`
	Assigned bool              `json:"assigned"`
	NFT      *TagNFT           `json:"nft"`
	Ruleset  *tagd.Ruleset     `json:"ruleset"`
	Extended map[string]string `json:"extended"`
}

// TagChange is the body of PATCH /api/v1/tags/{xuid}: the fields present
// are changed. "" clears uid, cuid or name; null nft clears the NFT data,
// null ruleset reverts to the group's ruleset, null extended removes the
// tag's own values. batch_id moves the tag to another batch of its
// folder. Assigned true stamps the assigned date when the tag was not
// assigned.
type TagChange struct {
	BatchID  opt[string]            `json:"batch_id"`
	UID      opt[string]            `json:"uid"`
	CUID     opt[string]            `json:"cuid"`
	Name     opt[string]            `json:"name"`
	Status   opt[tagd.Status]       `json:"status"`
	Assigned opt[bool]              `json:"assigned"`
	NFT      opt[TagNFT]            `json:"nft"`
	Ruleset  opt[tagd.Ruleset]      `json:"ruleset"`
	Extended opt[map[string]string] `json:"extended"`
}

// Pagination of GET /api/v1/tags.
const (
	defaultTagPage = 100
	maxTagPage     = 1000
)

// check checks NFT data as the Management API does (research ixkio.md
// §5.3).
func (n *TagNFT) check() error {
	switch n.Chain {
	case "", "etherium_main", "etherium_test", "polygon_main", "polygon_test":
	default:
		return &tagd.Error{Code: tagd.CodeInvalid, Field: "nft.chain", Message: "nft.chain: not etherium_main, etherium_test, polygon_main, polygon_test or \"\""}
	}
	if (n.Chain == "") != (n.Contract == "") || (n.Chain == "") != (n.Token == "") {
		return &tagd.Error{Code: tagd.CodeInvalid, Field: "nft", Message: "nft: chain, contract and token are all set or all empty"}
	}
	for _, v := range []string{n.Contract, n.Token, n.Owner} {
		if len(v) > 256 || !utf8.ValidString(v) || containsControl(v) {
			return &tagd.Error{Code: tagd.CodeInvalid, Field: "nft", Message: "nft: contract, token and owner are at most 256 bytes of text"}
		}
	}
	return nil
}

// containsControl reports whether s holds a control character.
func containsControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// tagNotFound is the answer for a tag the caller cannot see.
func tagNotFound(xuid string) error { return tagd.NotFound("xuid", "tag %q not found", xuid) }

// reachTag returns tag xuid if the calling key reaches it.
func (s *Server) reachTag(r *http.Request, st CatalogStore, xuid string) (*tagd.Tag, error) {
	return reachOwned(r, xuid, st.Tag, func(t *tagd.Tag) string { return t.AID }, tagNotFound)
}

// tagHandlers returns the handlers of /api/v1/tags. DELETE frees the
// tag's UID and CUID and deletes its own keys; the scan log keeps its
// scans.
func (s *Server) tagHandlers() catalogHandlers {
	k := catalogKind[tagd.Tag]{name: "tags", id: func(t *tagd.Tag) string { return t.XUID },
		reach: s.reachTag, load: CatalogStore.Tag, show: shown(TagInfoOf), remove: CatalogStore.DeleteTag}
	return catalogResource(s, k, catalogList(s, k, listTags), s.createTag, s.patchTag)
}

// listTags reads the tags of GET /api/v1/tags[?batch=ID][&aid=AID][&limit=N][&after=XUID]:
// up to limit (default 100, at most 1000) tags the key reaches, in XUID
// order after the XUID after. When there are more, a Link header with
// rel="next" gives the URL of the next page.
func listTags(w http.ResponseWriter, r *http.Request, st CatalogStore, aid string) ([]tagd.Tag, error) {
	q := r.URL.Query()
	limit := defaultTagPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTagPage {
			return nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "limit", Message: "limit: want a number from 1 to 1000"}
		}
		limit = n
	}
	tags, next, err := st.Tags(r.Context(), aid, q.Get("batch"), q.Get("after"), limit)
	if err != nil {
		return nil, err
	}
	if next != "" {
		q.Set("after", next)
		w.Header().Set("Link", "</api/v1/tags?"+q.Encode()+`>; rel="next"`)
	}
	return tags, nil
}

// createTag is POST /api/v1/tags (NewTag).
func (s *Server) createTag(r *http.Request, st CatalogStore, body *NewTag) (*tagd.Tag, error) {
	t := &tagd.Tag{XUID: body.XUID, BatchID: body.BatchID, UID: body.UID, CUID: body.CUID, Name: body.Name, Status: body.Status,
		Assigned: body.Assigned, Ruleset: body.Ruleset, Extended: body.Extended}
	if body.NFT != nil {
		if err := body.NFT.check(); err != nil {
			return nil, err
		}
		t.NFT = tagd.NFT(*body.NFT)
	}
	if err := checkExtended(body.Extended); err != nil {
		return nil, err
	}
	if t.Assigned {
		t.AssignedAt = s.now()
	}
	if body.BatchID != "" {
		if err := s.reachBatch(r, st, body.BatchID); err != nil {
			return nil, err
		}
	}
	if err := st.CreateTag(r.Context(), t, nil); err != nil {
		return nil, err
	}
	return t, nil
}

// patchTag is PATCH /api/v1/tags/{id} (TagChange).
func (s *Server) patchTag(r *http.Request, st CatalogStore, xuid string, ch *TagChange) error {
	apply, err := ch.prepare(s.now())
	if err != nil {
		return err
	}
	return st.PatchTag(r.Context(), xuid, apply)
}

// prepare checks the change and returns the function that applies it;
// now stamps an assignment.
func (ch *TagChange) prepare(now time.Time) (func(*tagd.Tag) error, error) {
	if !ch.BatchID.Set && !ch.UID.Set && !ch.CUID.Set && !ch.Name.Set && !ch.Status.Set && !ch.Assigned.Set && !ch.NFT.Set && !ch.Ruleset.Set && !ch.Extended.Set {
		return nil, nothingToChange("batch_id, uid, cuid, name, status, assigned, nft, ruleset, extended")
	}
	var vals struct{ batch, uid, cuid, name string }
	for _, f := range []struct {
		name string
		o    *opt[string]
		dst  *string
	}{{"batch_id", &ch.BatchID, &vals.batch}, {"uid", &ch.UID, &vals.uid}, {"cuid", &ch.CUID, &vals.cuid}, {"name", &ch.Name, &vals.name}} {
		v, err := f.o.get(f.name)
		if err != nil {
			return nil, err
		}
		*f.dst = v
	}
	status, err := patchStatus(&ch.Status, `"Active" or "Inactive"`)
	if err != nil {
		return nil, err
	}
	assigned, err := ch.Assigned.get("assigned")
	if err != nil {
		return nil, err
	}
	if err := ch.NFT.V.check(); err != nil {
		return nil, err
	}
	if err := checkExtended(ch.Extended.V); err != nil {
		return nil, err
	}
	return func(t *tagd.Tag) error {
		if ch.BatchID.Set {
			t.BatchID = vals.batch
		}
		if ch.UID.Set {
			t.UID = vals.uid
		}
		if ch.CUID.Set {
			t.CUID = vals.cuid
		}
		if ch.Name.Set {
			t.Name = vals.name
		}
		if ch.Status.Set {
			t.Status = status
		}
		if ch.Assigned.Set {
			if assigned && !t.Assigned {
				t.AssignedAt = now
			}
			t.Assigned = assigned
		}
		if ch.NFT.Set {
			t.NFT = tagd.NFT(ch.NFT.V) // null: zero, which clears
		}
		if ch.Ruleset.Set {
			t.Ruleset = nil
			if !ch.Ruleset.Null {
				rs := ch.Ruleset.V
				t.Ruleset = &rs
			}
		}
		if ch.Extended.Set {
			t.Extended = ch.Extended.V
		}
		return nil
	}, nil
}
