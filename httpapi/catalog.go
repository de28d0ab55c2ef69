package httpapi

import (
	"context"
	"net/http"
	"net/url"

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
	for _, h := range []catalogHandlers{s.accountHandlers(), s.folderHandlers(), s.groupHandlers(), s.batchHandlers(), s.tagHandlers()} {
		base := "/api/v1/" + h.name
		routes = append(routes,
			catalogRoute{"GET " + base, tagd.ScopePrivate, h.list},
			catalogRoute{"POST " + base, tagd.ScopePrivate, h.create},
			catalogRoute{"GET " + base + "/{id}", tagd.ScopePrivate, h.get},
			catalogRoute{"PATCH " + base + "/{id}", tagd.ScopePrivate, h.patch},
			catalogRoute{"DELETE " + base + "/{id}", tagd.ScopePrivate, h.remove},
		)
	}
	return routes
}

// catalogHandlers are the handlers of the routes of one kind of object,
// under /api/v1/{name}.
type catalogHandlers struct {
	name                             string
	list, create, get, patch, remove http.HandlerFunc
}

// catalogKind is what the shared CRUD handlers know of one kind of object
// T. The store functions take the store first, as method expressions of
// CatalogStore do.
type catalogKind[T any] struct {
	// name is the kind's path segment under /api/v1/ ("folders").
	name string
	// applianceOnly keeps create and delete from keys of an account: only
	// the appliance's own keys and the admin socket may.
	applianceOnly bool
	// id returns the id of an object, for the Location of a new one.
	id func(*T) string
	// reach checks that object id exists and that the calling key
	// reaches it; it returns the object when it had to read it, else nil.
	reach func(r *http.Request, st CatalogStore, id string) (*T, error)
	// load reads object id.
	load func(st CatalogStore, ctx context.Context, id string) (*T, error)
	// show returns what the routes answer for an object.
	show func(st CatalogStore, ctx context.Context, v *T) (any, error)
	// remove deletes object id.
	remove func(st CatalogStore, ctx context.Context, id string) error
}

// shown makes a show function of kind T from one that needs no store.
func shown[T, V any](f func(*T) V) func(CatalogStore, context.Context, *T) (any, error) {
	return func(_ CatalogStore, _ context.Context, v *T) (any, error) { return f(v), nil }
}

// catalogResource returns the handlers of kind k. list is the kind's own
// GET handler; create makes an object from a POST body B; patch applies a
// PATCH body C to object id. GET of one object, the answers and DELETE are
// the same for every kind:
//
//	GET    .../{id}  reach, then show
//	POST   ...       decode B, create, then 201 with Location and show
//	PATCH  .../{id}  reach, decode C, patch, then load and show
//	DELETE .../{id}  reach, remove, then 204
func catalogResource[T, B, C any](s *Server, k catalogKind[T], list http.HandlerFunc,
	create func(r *http.Request, st CatalogStore, body *B) (*T, error),
	patch func(r *http.Request, st CatalogStore, id string, ch *C) error) catalogHandlers {
	h := catalogHandlers{name: k.name, list: list}
	h.get = s.catalogHandler(func(w http.ResponseWriter, r *http.Request, st CatalogStore) error {
		id := r.PathValue("id")
		v, err := k.reach(r, st, id)
		if err == nil && v == nil {
			v, err = k.load(st, r.Context(), id)
		}
		if err != nil {
			return err
		}
		return k.write(s, w, r, st, "", v)
	})
	h.create = s.catalogHandler(func(w http.ResponseWriter, r *http.Request, st CatalogStore) error {
		if err := k.admit(r, "create"); err != nil {
			return err
		}
		var body B
		if err := decodeBody(w, r, &body); err != nil {
			return err
		}
		v, err := create(r, st, &body)
		if err != nil {
			return err
		}
		return k.write(s, w, r, st, "/api/v1/"+k.name+"/"+url.PathEscape(k.id(v)), v)
	})
	h.patch = s.catalogHandler(func(w http.ResponseWriter, r *http.Request, st CatalogStore) error {
		id := r.PathValue("id")
		if _, err := k.reach(r, st, id); err != nil {
			return err
		}
		var ch C
		if err := decodeBody(w, r, &ch); err != nil {
			return err
		}
		if err := patch(r, st, id, &ch); err != nil {
			return err
		}
		v, err := k.load(st, r.Context(), id)
		if err != nil {
			return err
		}
		return k.write(s, w, r, st, "", v)
	})
	h.remove = s.catalogHandler(func(w http.ResponseWriter, r *http.Request, st CatalogStore) error {
		id := r.PathValue("id")
		if err := k.admit(r, "delete"); err != nil {
			return err
		}
		if _, err := k.reach(r, st, id); err != nil {
			return err
		}
		if err := k.remove(st, r.Context(), id); err != nil {
			return err
		}
		deleted(w)
		return nil
	})
	return h
}

// catalogList returns the GET handler of kind k for the kinds whose list
// is limited to one account (listAccount): fetch reads the objects of
// account aid ("": every account) and may set headers of the answer.
func catalogList[T any](s *Server, k catalogKind[T], fetch func(w http.ResponseWriter, r *http.Request, st CatalogStore, aid string) ([]T, error)) http.HandlerFunc {
	return s.catalogHandler(func(w http.ResponseWriter, r *http.Request, st CatalogStore) error {
		aid, err := listAccount(r)
		if err != nil {
			return err
		}
		items, err := fetch(w, r, st, aid)
		if err != nil {
			return err
		}
		return k.writeList(s, w, r, st, items)
	})
}

// catalogHandler returns a handler that runs h with the CRUD store (500
// without one) and answers the error h returns, if any; h answers
// everything else.
func (s *Server) catalogHandler(h func(w http.ResponseWriter, r *http.Request, st CatalogStore) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, ok := s.catalog(w)
		if !ok {
			return
		}
		if err := h(w, r, st); err != nil {
			s.writeError(w, err)
		}
	}
}

// admit refuses a key of an account the create or delete (verb) of an
// appliance-only kind.
func (k catalogKind[T]) admit(r *http.Request, verb string) error {
	if k.applianceOnly && keyAccount(r) != "" {
		return authErr(CodeInsufficientScope, "only the appliance's own API keys "+verb+" "+k.name)
	}
	return nil
}

// write answers with what k shows for v: 200, or 201 with location when
// location is not "". It returns the error of showing v, having answered
// nothing.
func (k catalogKind[T]) write(s *Server, w http.ResponseWriter, r *http.Request, st CatalogStore, location string, v *T) error {
	out, err := k.show(st, r.Context(), v)
	switch {
	case err != nil:
		return err
	case location != "":
		s.created(w, location, out)
	default:
		s.writeValue(w, http.StatusOK, out)
	}
	return nil
}

// writeList answers 200 with what k shows for each of items. It returns
// the first error of showing one, having answered nothing.
func (k catalogKind[T]) writeList(s *Server, w http.ResponseWriter, r *http.Request, st CatalogStore, items []T) error {
	out := make([]any, 0, len(items))
	for i := range items {
		v, err := k.show(st, r.Context(), &items[i])
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	s.writeValue(w, http.StatusOK, out)
	return nil
}

// reachOwned reads object id with load and returns it when the calling
// key reaches its account (aid); otherwise the error is notFound(id).
func reachOwned[T any](r *http.Request, id string, load func(context.Context, string) (*T, error), aid func(*T) string, notFound func(string) error) (*T, error) {
	v, err := load(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !reaches(r, aid(v)) {
		return nil, notFound(id)
	}
	return v, nil
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

// listAccount returns the account a list is limited to: the aid query
// parameter, or the calling key's account. A key of one account that asks
// for another gets an empty list: aid then names no account's objects
// ("\x00").
func listAccount(r *http.Request) (aid string, err error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", &tagd.Error{Code: tagd.CodeInvalid, Field: "query", Message: "the query string is malformed"}
	}
	aid = q.Get("aid")
	if ka := keyAccount(r); ka != "" {
		if aid != "" && aid != ka {
			return "\x00", nil
		}
		aid = ka
	}
	return aid, nil
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
