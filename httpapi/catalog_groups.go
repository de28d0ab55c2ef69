package httpapi

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/tagd-nfc/tagd"
)

// GroupInfo is a tag group as the CRUD routes show it, with its SUN
// profile and which keys it holds; never the keys.
type GroupInfo struct {
	ID       string            `json:"id"`
	FolderID string            `json:"folder_id"`
	Name     string            `json:"name"`
	Type     tagd.GroupType    `json:"type"`
	Status   tagd.Status       `json:"status"`
	Ruleset  tagd.Ruleset      `json:"ruleset"`
	Extended map[string]string `json:"extended"`
	Profile  *tagd.SUNProfile  `json:"profile"`
	Rev      uint64            `json:"rev"`
	Keys     KeySet            `json:"keys"`
}

// KeySet says which keys a group holds.
type KeySet struct {
	Meta   bool `json:"meta"`
	File   bool `json:"file"`
	Master bool `json:"master"`
}

// GroupKeysBody is the "keys" member of a group's POST or PATCH body: the
// meta key, the static file key and the KDF master key as hex (16 bytes;
// the master key 16 or 32), each optional. It replaces all of the group's
// keys. It is never answered.
type GroupKeysBody struct {
	Meta   string `json:"meta"`
	File   string `json:"file"`
	Master string `json:"master"`
}

// NewGroup is the body of POST /api/v1/groups. The appliance generates
// the id (see docs/DECISIONS.md). Status defaults to active; Profile is
// for authentication groups; Keys needs the admin scope.
type NewGroup struct {
	FolderID string            `json:"folder_id"`
	Name     string            `json:"name"`
	Type     tagd.GroupType    `json:"type"`
	Status   tagd.Status       `json:"status"`
	Ruleset  tagd.Ruleset      `json:"ruleset"`
	Extended map[string]string `json:"extended"`
	Profile  *tagd.SUNProfile  `json:"profile"`
	Keys     *GroupKeysBody    `json:"keys"`
}

// GroupChange is the body of PATCH /api/v1/groups/{id}: the fields
// present are changed. Null extended removes the defaults, null profile
// the SUN profile, null keys every key (keys need the admin scope). The
// folder and the type cannot change.
type GroupChange struct {
	Name     opt[string]            `json:"name"`
	Status   opt[tagd.Status]       `json:"status"`
	Ruleset  opt[tagd.Ruleset]      `json:"ruleset"`
	Extended opt[map[string]string] `json:"extended"`
	Profile  opt[tagd.SUNProfile]   `json:"profile"`
	Keys     opt[GroupKeysBody]     `json:"keys"`
}

// keys decodes the hex keys. Errors name the key, never its value.
func (b *GroupKeysBody) keys() (tagd.Keys, error) {
	var k tagd.Keys
	for _, f := range []struct {
		name string
		hex  string
		dst  *tagd.Secret
	}{{"meta", b.Meta, &k.Meta}, {"file", b.File, &k.File}, {"master", b.Master, &k.Master}} {
		if f.hex == "" {
			continue
		}
		v, err := hex.DecodeString(f.hex)
		if err != nil {
			return tagd.Keys{}, &tagd.Error{Code: tagd.CodeInvalid, Field: "keys." + f.name, Message: "keys." + f.name + ": a key is hex digits (32, or 64 for a master key)"}
		}
		*f.dst = v
	}
	return k, nil
}

// checkExtended checks extended-data values: names 1 to 64 bytes, values
// at most 64 KiB of UTF-8.
func checkExtended(m map[string]string) error {
	for k, v := range m {
		if k == "" || len(k) > 64 || len(v) > 64<<10 || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return &tagd.Error{Code: tagd.CodeInvalid, Field: "extended", Message: "extended: field names are 1 to 64 bytes, values at most 64 KiB of UTF-8"}
		}
	}
	return nil
}

// groupNotFound is the answer for a group the caller cannot see.
func groupNotFound(id string) error { return tagd.NotFound("group_id", "group %q not found", id) }

// reachGroup returns group id if the calling key reaches it.
func (s *Server) reachGroup(r *http.Request, st CatalogStore, id string) (*tagd.TagGroup, error) {
	g, err := st.Group(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if keyAccount(r) != "" {
		f, err := st.Folder(r.Context(), g.FolderID)
		if err != nil {
			return nil, err
		}
		if !reaches(r, f.AID) {
			return nil, groupNotFound(id)
		}
	}
	return g, nil
}

// groupInfo returns the shown part of g, with which keys it holds.
func groupInfo(ctx context.Context, st CatalogStore, g *tagd.TagGroup) (GroupInfo, error) {
	k, err := st.GroupKeys(ctx, g.ID)
	if err != nil {
		return GroupInfo{}, err
	}
	gi := GroupInfo{ID: g.ID, FolderID: g.FolderID, Name: g.Name, Type: g.Type, Status: g.Status, Ruleset: g.Ruleset,
		Extended: g.Extended, Profile: g.Profile, Rev: g.Rev, Keys: KeySet{Meta: len(k.Meta) > 0, File: len(k.File) > 0, Master: len(k.Master) > 0}}
	if gi.Extended == nil {
		gi.Extended = map[string]string{}
	}
	return gi, nil
}

// handleGroupList is GET /api/v1/groups[?folder=ID][&aid=AID]: the
// groups the key reaches, by ID.
func (s *Server) handleGroupList(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	aid, ok := s.listAccount(w, r)
	if !ok {
		return
	}
	groups, err := st.Groups(r.Context(), aid, r.URL.Query().Get("folder"))
	if err != nil {
		s.writeError(w, err)
		return
	}
	out := make([]GroupInfo, 0, len(groups))
	for i := range groups {
		gi, err := groupInfo(r.Context(), st, &groups[i])
		if err != nil {
			s.writeError(w, err)
			return
		}
		out = append(out, gi)
	}
	s.writeValue(w, http.StatusOK, out)
}

// handleGroupGet is GET /api/v1/groups/{id}.
func (s *Server) handleGroupGet(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	g, err := s.reachGroup(r, st, r.PathValue("id"))
	if err == nil {
		var gi GroupInfo
		if gi, err = groupInfo(r.Context(), st, g); err == nil {
			s.writeValue(w, http.StatusOK, gi)
			return
		}
	}
	s.writeError(w, err)
}

// handleGroupCreate is POST /api/v1/groups (NewGroup): 201.
func (s *Server) handleGroupCreate(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	var body NewGroup
	if err := decodeBody(w, r, &body); err != nil {
		s.writeError(w, err)
		return
	}
	var keys tagd.Keys
	if body.Keys != nil {
		if err := needAdmin(r, "setting group keys"); err != nil {
			s.writeError(w, err)
			return
		}
		var err error
		if keys, err = body.Keys.keys(); err != nil {
			s.writeError(w, err)
			return
		}
		if body.Type != tagd.GroupAuthentication && (len(keys.Meta) > 0 || len(keys.File) > 0 || len(keys.Master) > 0) {
			s.writeError(w, &tagd.Error{Code: tagd.CodeInvalid, Field: "keys", Message: "only authentication groups hold keys"})
			return
		}
	}
	if err := checkExtended(body.Extended); err != nil {
		s.writeError(w, err)
		return
	}
	if body.FolderID != "" {
		if _, err := s.reachFolder(r, st, body.FolderID); err != nil {
			s.writeError(w, err)
			return
		}
	}
	g := &tagd.TagGroup{FolderID: body.FolderID, Name: body.Name, Type: body.Type, Status: body.Status, Ruleset: body.Ruleset,
		Extended: body.Extended, Profile: body.Profile}
	if err := st.CreateGroup(r.Context(), g, keys); err != nil {
		s.writeError(w, err)
		return
	}
	gi, err := groupInfo(r.Context(), st, g)
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.created(w, "/api/v1/groups/"+url.PathEscape(g.ID), gi)
}

// handleGroupPatch is PATCH /api/v1/groups/{id} (GroupChange). The group's
// revision goes up, so that verifiers drop what they derived from its
// profile and keys.
func (s *Server) handleGroupPatch(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if _, err := s.reachGroup(r, st, id); err != nil {
		s.writeError(w, err)
		return
	}
	var ch GroupChange
	if err := decodeBody(w, r, &ch); err != nil {
		s.writeError(w, err)
		return
	}
	if ch.Keys.Set {
		if err := needAdmin(r, "setting group keys"); err != nil {
			s.writeError(w, err)
			return
		}
	}
	apply, keys, err := ch.prepare()
	if err != nil {
		s.writeError(w, err)
		return
	}
	if err := st.PatchGroup(r.Context(), id, apply, keys); err != nil {
		s.writeError(w, err)
		return
	}
	g, err := st.Group(r.Context(), id)
	if err == nil {
		var gi GroupInfo
		if gi, err = groupInfo(r.Context(), st, g); err == nil {
			s.writeValue(w, http.StatusOK, gi)
			return
		}
	}
	s.writeError(w, err)
}

// prepare checks the change and returns the function that applies it and
// the new keys (nil: unchanged).
func (ch *GroupChange) prepare() (func(*tagd.TagGroup) error, *tagd.Keys, error) {
	if !ch.Name.Set && !ch.Status.Set && !ch.Ruleset.Set && !ch.Extended.Set && !ch.Profile.Set && !ch.Keys.Set {
		return nil, nil, nothingToChange("name, status, ruleset, extended, profile, keys")
	}
	name, err := ch.Name.get("name")
	if err != nil {
		return nil, nil, err
	}
	status, err := ch.Status.get("status")
	if err != nil {
		return nil, nil, err
	}
	if ch.Status.Set && status == "" {
		return nil, nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "status", Message: `status must be "active" or "inactive"`}
	}
	ruleset, err := ch.Ruleset.get("ruleset")
	if err != nil {
		return nil, nil, err
	}
	if err := checkExtended(ch.Extended.V); err != nil {
		return nil, nil, err
	}
	var keys *tagd.Keys
	if ch.Keys.Set {
		k, err := ch.Keys.V.keys() // null: all empty, which removes them
		if err != nil {
			return nil, nil, err
		}
		keys = &k
	}
	return func(g *tagd.TagGroup) error {
		if ch.Name.Set {
			g.Name = name
		}
		if ch.Status.Set {
			g.Status = status
		}
		if ch.Ruleset.Set {
			g.Ruleset = ruleset
		}
		if ch.Extended.Set {
			g.Extended = ch.Extended.V
		}
		if ch.Profile.Set {
			g.Profile = nil
			if !ch.Profile.Null {
				p := ch.Profile.V
				g.Profile = &p
			}
		}
		return nil
	}, keys, nil
}

// handleGroupDelete is DELETE /api/v1/groups/{id}: 204, with its keys;
// 409 while batches are in it.
func (s *Server) handleGroupDelete(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if _, err := s.reachGroup(r, st, id); err != nil {
		s.writeError(w, err)
		return
	}
	if err := st.DeleteGroup(r.Context(), id); err != nil {
		s.writeError(w, err)
		return
	}
	deleted(w)
}
