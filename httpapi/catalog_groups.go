package httpapi

import (
	"context"
	"encoding/hex"
	"net/http"
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

// groupHandlers returns the handlers of /api/v1/groups. GET lists the
// groups the key reaches, by ID, filtered by ?folder=ID and ?aid=AID. A
// PATCH puts the group's revision up, so that verifiers drop what they
// derived from its profile and keys. DELETE deletes the group's keys too;
// it is 409 while batches are in the group.
func (s *Server) groupHandlers() catalogHandlers {
	k := catalogKind[tagd.TagGroup]{name: "groups", id: func(g *tagd.TagGroup) string { return g.ID },
		reach: s.reachGroup, load: CatalogStore.Group, remove: CatalogStore.DeleteGroup,
		show: func(st CatalogStore, ctx context.Context, g *tagd.TagGroup) (any, error) {
			return groupInfo(ctx, st, g)
		}}
	list := catalogList(s, k, func(_ http.ResponseWriter, r *http.Request, st CatalogStore, aid string) ([]tagd.TagGroup, error) {
		return st.Groups(r.Context(), aid, r.URL.Query().Get("folder"))
	})
	return catalogResource(s, k, list, s.createGroup, patchGroup)
}

// createGroup is POST /api/v1/groups (NewGroup).
func (s *Server) createGroup(r *http.Request, st CatalogStore, body *NewGroup) (*tagd.TagGroup, error) {
	var keys tagd.Keys
	if body.Keys != nil {
		if err := needAdmin(r, "setting group keys"); err != nil {
			return nil, err
		}
		var err error
		if keys, err = body.Keys.keys(); err != nil {
			return nil, err
		}
		if body.Type != tagd.GroupAuthentication && (len(keys.Meta) > 0 || len(keys.File) > 0 || len(keys.Master) > 0) {
			return nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "keys", Message: "only authentication groups hold keys"}
		}
	}
	if err := checkExtended(body.Extended); err != nil {
		return nil, err
	}
	if body.FolderID != "" {
		if _, err := s.reachFolder(r, st, body.FolderID); err != nil {
			return nil, err
		}
	}
	g := &tagd.TagGroup{FolderID: body.FolderID, Name: body.Name, Type: body.Type, Status: body.Status, Ruleset: body.Ruleset,
		Extended: body.Extended, Profile: body.Profile}
	if err := st.CreateGroup(r.Context(), g, keys); err != nil {
		return nil, err
	}
	return g, nil
}

// patchGroup is PATCH /api/v1/groups/{id} (GroupChange).
func patchGroup(r *http.Request, st CatalogStore, id string, ch *GroupChange) error {
	if ch.Keys.Set {
		if err := needAdmin(r, "setting group keys"); err != nil {
			return err
		}
	}
	apply, keys, err := ch.prepare()
	if err != nil {
		return err
	}
	return st.PatchGroup(r.Context(), id, apply, keys)
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
	status, err := patchStatus(&ch.Status, `"active" or "inactive"`)
	if err != nil {
		return nil, nil, err
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
