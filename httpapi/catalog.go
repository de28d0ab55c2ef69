package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/tagd-nfc/tagd"
)

// This file holds the appliance API's CRUD of the data model (SPEC §3,
// §6): accounts, folders, tag groups (with their SUN profiles and keys),
// batches and tags, under /api/v1/:
//
//	GET    /api/v1/{accounts|folders|groups|batches|tags}       list (filters per resource)
//	POST   /api/v1/{accounts|folders|groups|batches|tags}       create: 201, Location
//	GET    /api/v1/{accounts|folders|groups|batches|tags}/{id}  one
//	PATCH  /api/v1/{accounts|folders|groups|batches|tags}/{id}  partial update, all or nothing: 200
//	DELETE /api/v1/{accounts|folders|groups|batches|tags}/{id}  204; 409 while children exist
//
// On the LAN and loopback listeners every route needs the private scope
// (admin satisfies it); a body that sets group keys needs the admin
// scope. A key of one account reaches only that account's objects (others
// are 404) and cannot create or delete accounts. On the admin socket the
// routes take no key. Group keys are write-only: answers say which keys a
// group has, never the keys.

// CatalogStore is the store behind the CRUD routes; *store.DB satisfies
// it. Errors carry tagd codes: CodeNotFound (Field naming what: "aid",
// "folder_id", "group_id", "batch_id", "xuid"), CodeInvalid, CodeConflict.
// The Update and Patch methods run fn inside one write transaction and
// store nothing when fn or the checks after it fail.
type CatalogStore interface {
	Accounts(ctx context.Context) ([]tagd.Account, error)
	Account(ctx context.Context, aid string) (*tagd.Account, error)
	CreateAccount(ctx context.Context, a tagd.Account) error
	UpdateAccount(ctx context.Context, aid string, fn func(*tagd.Account) error) error
	DeleteAccount(ctx context.Context, aid string) error

	Folders(ctx context.Context, aid string) ([]tagd.Folder, error)
	Folder(ctx context.Context, id string) (*tagd.Folder, error)
	CreateFolder(ctx context.Context, f *tagd.Folder) error
	UpdateFolder(ctx context.Context, id string, fn func(*tagd.Folder) error) error
	DeleteFolder(ctx context.Context, id string) error

	Groups(ctx context.Context, aid, folderID string) ([]tagd.TagGroup, error)
	Group(ctx context.Context, id string) (*tagd.TagGroup, error)
	GroupKeys(ctx context.Context, id string) (tagd.Keys, error)
	CreateGroup(ctx context.Context, g *tagd.TagGroup, k tagd.Keys) error
	PatchGroup(ctx context.Context, id string, fn func(*tagd.TagGroup) error, k *tagd.Keys) error
	DeleteGroup(ctx context.Context, id string) error

	Batches(ctx context.Context, aid, groupID string) ([]tagd.Batch, error)
	Batch(ctx context.Context, id string) (*tagd.Batch, error)
	BatchAccount(ctx context.Context, id string) (string, error)
	CreateBatch(ctx context.Context, b *tagd.Batch) error
	UpdateBatch(ctx context.Context, id string, fn func(*tagd.Batch) error) error
	DeleteBatch(ctx context.Context, id string) error

	Tags(ctx context.Context, aid, batchID, after string, limit int) ([]tagd.Tag, string, error)
	Tag(ctx context.Context, xuid string) (*tagd.Tag, error)
	CreateTag(ctx context.Context, t *tagd.Tag, k *tagd.Keys) error
	PatchTag(ctx context.Context, xuid string, fn func(*tagd.Tag) error) error
	DeleteTag(ctx context.Context, xuid string) error
}

// catalogRoute is one CRUD route and the scope it needs on a keyed
// listener.
type catalogRoute struct {
	pattern, scope string
	h              http.HandlerFunc
}

// catalogTable returns the CRUD routes.
func (s *Server) catalogTable() []catalogRoute {
	var routes []catalogRoute
	for _, r := range []struct {
		name                                 string
		list, create, get, patch, deleteByID http.HandlerFunc
	}{
		{"accounts", s.handleAccountList, s.handleAccountCreate, s.handleAccountGet, s.handleAccountPatch, s.handleAccountDelete},
		{"folders", s.handleFolderList, s.handleFolderCreate, s.handleFolderGet, s.handleFolderPatch, s.handleFolderDelete},
		{"groups", s.handleGroupList, s.handleGroupCreate, s.handleGroupGet, s.handleGroupPatch, s.handleGroupDelete},
		{"batches", s.handleBatchList, s.handleBatchCreate, s.handleBatchGet, s.handleBatchPatch, s.handleBatchDelete},
		{"tags", s.handleTagList, s.handleTagCreate, s.handleTagGet, s.handleTagPatch, s.handleTagDelete},
	} {
		base := "/api/v1/" + r.name
		routes = append(routes,
			catalogRoute{"GET " + base, tagd.ScopePrivate, r.list},
			catalogRoute{"POST " + base, tagd.ScopePrivate, r.create},
			catalogRoute{"GET " + base + "/{id}", tagd.ScopePrivate, r.get},
			catalogRoute{"PATCH " + base + "/{id}", tagd.ScopePrivate, r.patch},
			catalogRoute{"DELETE " + base + "/{id}", tagd.ScopePrivate, r.deleteByID},
		)
	}
	return routes
}

// catalogRoutes adds the CRUD routes to mux; keyed puts them behind
// RequireKey (the LAN and loopback handler), else they are the admin
// socket's.
func (s *Server) catalogRoutes(mux *http.ServeMux, keyed bool) {
	for _, rt := range s.catalogTable() {
		if keyed {
			mux.Handle(rt.pattern, s.RequireKey(rt.scope, false, rt.h))
		} else {
			mux.Handle(rt.pattern, rt.h)
		}
	}
}

// CatalogRoutes returns the patterns of the CRUD routes ("METHOD /path"),
// with "{id}" for the object's id, for tests that cover every route.
func CatalogRoutes() []string {
	var s Server
	var out []string
	for _, rt := range s.catalogTable() {
		out = append(out, rt.pattern)
	}
	return out
}

// catalog returns the CRUD store, or answers 500 without one.
func (s *Server) catalog(w http.ResponseWriter) (CatalogStore, bool) {
	if s.Catalog == nil {
		s.writeError(w, tagd.Errorf(tagd.CodeInternal, "httpapi: no catalog store (Server.Catalog)"))
		return nil, false
	}
	return s.Catalog, true
}

// keyAccount is the account of the calling API key: "" on the admin
// socket and for the appliance's own keys, which reach every account.
func keyAccount(r *http.Request) string {
	if k := KeyOf(r.Context()); k != nil {
		return k.AID
	}
	return ""
}

// reaches reports whether the calling key may see objects of account aid.
func reaches(r *http.Request, aid string) bool {
	ka := keyAccount(r)
	return ka == "" || ka == aid
}

// needAdmin refuses a request whose key lacks the admin scope (keys are
// admin's alone); the admin socket (no key) passes.
func needAdmin(r *http.Request, what string) error {
	if k := KeyOf(r.Context()); k != nil && !hasScope(k.Scopes, tagd.ScopeAdmin) {
		return authErr(CodeInsufficientScope, "this API key lacks the admin scope, which "+what+" needs")
	}
	return nil
}

// created answers a POST with 201, the Location of the new object and v.
func (s *Server) created(w http.ResponseWriter, location string, v any) {
	w.Header().Set("Location", location)
	s.writeValue(w, http.StatusCreated, v)
}

// deleted answers a DELETE with 204.
func deleted(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// nothingToChange is the error of a PATCH whose body sets no field.
func nothingToChange(fields string) error {
	return &tagd.Error{Code: tagd.CodeInvalid, Field: "body", Message: "nothing to change: send a JSON object with one or more of " + fields}
}

// opt is a field of a PATCH body: Set when the field was present, Null
// when its value was null, V its value otherwise. Its value is decoded
// strictly (unknown fields in nested objects are errors).
type opt[T any] struct {
	Set, Null bool
	V         T
}

// UnmarshalJSON records that the field is present and decodes its value.
func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return decodeStrict(b, &o.V)
}

// get returns the value of a field that may not be null.
func (o *opt[T]) get(field string) (T, error) {
	if o.Null {
		var zero T
		return zero, &tagd.Error{Code: tagd.CodeInvalid, Field: field, Message: field + " cannot be null"}
	}
	return o.V, nil
}

// decodeStrict decodes one JSON value, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
