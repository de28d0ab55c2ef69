package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/tagd-nfc/tagd"
)

// This file holds the API-key endpoints: GET /api/v1/identity (who am I)
// and GET /api/v1/apikeys on the LAN and loopback listeners, behind
// RequireKey; and the key management of the admin socket, where the file
// system, not a key, decides who may call (the CLI's `tagd apikey`). No
// answer ever holds a secret or its hash.

// maxBody bounds the JSON bodies of the key-management endpoints.
const maxBody = 64 << 10

// Identity is the answer of GET /api/v1/identity: the calling key, without
// its secret or hash. LastUsed is coarse (written at most once a minute)
// and, like Expires, null when unset; Account is "" for the appliance's
// own keys.
type Identity struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Scopes      []string   `json:"scopes"`
	Created     time.Time  `json:"created"`
	LastUsed    *time.Time `json:"last_used"`
	Expires     *time.Time `json:"expires"`
	Account     string     `json:"account"`
}

// KeyInfo is an API key as the management endpoints show it: its
// identity, whether it is disabled, and its IP allow-list.
type KeyInfo struct {
	Identity
	Disabled bool     `json:"disabled"`
	AllowIPs []string `json:"allow_ips"`
}

// NewKey is the body of POST /api/v1/apikeys (admin socket): a key made by
// the caller, who keeps the secret and sends only its SHA-256. The
// service never sees the secret.
type NewKey struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Scopes      []string  `json:"scopes"`
	SecretHash  []byte    `json:"secret_hash"`
	Expires     time.Time `json:"expires,omitzero"`
	AllowIPs    []string  `json:"allow_ips,omitempty"`
	Account     string    `json:"account,omitempty"`
}

// KeyChange is the body of PATCH /api/v1/apikeys/{id} (admin socket).
type KeyChange struct {
	Disabled *bool `json:"disabled"`
}

// IdentityOf returns the shown part of a key record.
func IdentityOf(k *tagd.APIKey) Identity {
	id := Identity{ID: k.ID, Name: k.Name, Description: k.Description, Scopes: append([]string{}, k.Scopes...), Created: k.Created, Account: k.AID}
	if !k.LastUsed.IsZero() {
		t := k.LastUsed
		id.LastUsed = &t
	}
	if !k.Expires.IsZero() {
		t := k.Expires
		id.Expires = &t
	}
	return id
}

// KeyInfoOf returns the management view of a key record.
func KeyInfoOf(k *tagd.APIKey) KeyInfo {
	return KeyInfo{Identity: IdentityOf(k), Disabled: k.Disabled, AllowIPs: append([]string{}, k.AllowIPs...)}
}

// keyRoutes adds the key-guarded routes of the LAN and loopback handler.
func (s *Server) keyRoutes(mux *http.ServeMux) {
	// identity is the one endpoint that also takes the legacy api_key
	// query parameter (SPEC §7, seed 003's test endpoint): a quick check
	// from a browser or an old script; nothing else does.
	mux.Handle("GET /api/v1/identity", s.RequireKey(ScopeAny, true, http.HandlerFunc(s.handleIdentity)))
	mux.Handle("GET /api/v1/apikeys", s.RequireKey(tagd.ScopeAdmin, false, http.HandlerFunc(s.handleKeyList)))
	mux.Handle("GET /api/v1/apikeys/{id}", s.RequireKey(tagd.ScopeAdmin, false, http.HandlerFunc(s.handleKeyGet)))
}

// adminKeyRoutes adds key management to the admin socket's handler.
func (s *Server) adminKeyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/apikeys", s.handleKeyList)
	mux.HandleFunc("POST /api/v1/apikeys", s.handleKeyCreate)
	mux.HandleFunc("GET /api/v1/apikeys/{id}", s.handleKeyGet)
	mux.HandleFunc("PATCH /api/v1/apikeys/{id}", s.handleKeyPatch)
	mux.HandleFunc("DELETE /api/v1/apikeys/{id}", s.handleKeyDelete)
}

// handleIdentity is GET /api/v1/identity: the calling key.
func (s *Server) handleIdentity(w http.ResponseWriter, r *http.Request) {
	k := KeyOf(r.Context())
	if k == nil {
		s.writeError(w, tagd.Errorf(tagd.CodeInternal, "httpapi: identity without RequireKey"))
		return
	}
	s.writeValue(w, http.StatusOK, IdentityOf(k))
}

// handleKeyList is GET /api/v1/apikeys: every key, by id.
func (s *Server) handleKeyList(w http.ResponseWriter, r *http.Request) {
	m, ok := s.manager(w)
	if !ok {
		return
	}
	keys, err := m.APIKeys(r.Context())
	if err != nil {
		s.writeError(w, err)
		return
	}
	out := make([]KeyInfo, 0, len(keys))
	for i := range keys {
		out = append(out, KeyInfoOf(&keys[i]))
	}
	s.writeValue(w, http.StatusOK, out)
}

// handleKeyGet is GET /api/v1/apikeys/{id}.
func (s *Server) handleKeyGet(w http.ResponseWriter, r *http.Request) {
	if s.Auth.Keys == nil {
		s.writeError(w, tagd.Errorf(tagd.CodeInternal, "httpapi: no API key store (Server.Auth.Keys)"))
		return
	}
	k, err := s.Auth.Keys.APIKey(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusOK, KeyInfoOf(k))
}

// handleKeyCreate is POST /api/v1/apikeys: store a key made by the caller
// (NewKey), within the per-account limit; 201 with the key's KeyInfo.
func (s *Server) handleKeyCreate(w http.ResponseWriter, r *http.Request) {
	m, ok := s.manager(w)
	if !ok {
		return
	}
	var nk NewKey
	if err := decodeBody(w, r, &nk); err != nil {
		s.writeError(w, err)
		return
	}
	now := s.now()
	if !nk.Expires.IsZero() && !nk.Expires.After(now) {
		s.writeError(w, &tagd.Error{Code: tagd.CodeInvalid, Field: "expires", Message: "the expiry " + nk.Expires.Format(time.RFC3339) + " is not in the future"})
		return
	}
	rec := tagd.APIKey{ID: nk.ID, AID: nk.Account, Name: nk.Name, Description: nk.Description, Scopes: nk.Scopes,
		SecretHash: nk.SecretHash, Created: now, Expires: nk.Expires, AllowIPs: nk.AllowIPs}
	if err := m.CreateAPIKeyMax(r.Context(), rec, s.Auth.maxKeys()); err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusCreated, KeyInfoOf(&rec))
}

// handleKeyPatch is PATCH /api/v1/apikeys/{id} with {"disabled":bool}.
func (s *Server) handleKeyPatch(w http.ResponseWriter, r *http.Request) {
	m, ok := s.manager(w)
	if !ok {
		return
	}
	var ch KeyChange
	if err := decodeBody(w, r, &ch); err != nil {
		s.writeError(w, err)
		return
	}
	if ch.Disabled == nil {
		s.writeError(w, &tagd.Error{Code: tagd.CodeInvalid, Field: "disabled", Message: `nothing to change: send {"disabled":true|false}`})
		return
	}
	var out tagd.APIKey
	err := m.UpdateAPIKey(r.Context(), r.PathValue("id"), func(k *tagd.APIKey) error {
		k.Disabled = *ch.Disabled
		out = *k
		return nil
	})
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusOK, KeyInfoOf(&out))
}

// handleKeyDelete is DELETE /api/v1/apikeys/{id}: 204.
func (s *Server) handleKeyDelete(w http.ResponseWriter, r *http.Request) {
	m, ok := s.manager(w)
	if !ok {
		return
	}
	if err := m.DeleteAPIKey(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// manager returns Auth.KeyAdmin, or answers 500 without one.
func (s *Server) manager(w http.ResponseWriter) (APIKeyManager, bool) {
	if s.Auth.KeyAdmin == nil {
		s.writeError(w, tagd.Errorf(tagd.CodeInternal, "httpapi: no API key manager (Server.Auth.KeyAdmin)"))
		return nil, false
	}
	return s.Auth.KeyAdmin, true
}

// writeValue writes v as JSON.
func (s *Server) writeValue(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, status, b)
}

// decodeBody decodes a JSON body of at most maxBody bytes into v,
// refusing unknown fields and trailing data (CodeInvalid).
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tagd.Errorf(tagd.CodeInvalid, "the body is larger than %d bytes", maxBody)
		}
		return tagd.Errorf(tagd.CodeInvalid, "the body is not the expected JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return tagd.Errorf(tagd.CodeInvalid, "the body holds more than one JSON value")
	}
	return nil
}
