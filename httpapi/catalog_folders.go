package httpapi

import (
	"crypto/sha256"
	"net/http"
	"net/url"

	"github.com/tagd-nfc/tagd"
)

// FolderInfo is a folder as the CRUD routes show it: never its API token
// or the token's hash, only whether it has one.
type FolderInfo struct {
	ID       string          `json:"id"`
	AID      string          `json:"aid"`
	Name     string          `json:"name"`
	TokenSet bool            `json:"token_set"`
	CORS     string          `json:"cors"`
	Status   tagd.Status     `json:"status"`
	Fields   []tagd.ExtField `json:"fields"`
}

// FolderInfoOf returns the shown part of a folder.
func FolderInfoOf(f *tagd.Folder) FolderInfo {
	return FolderInfo{ID: f.ID, AID: f.AID, Name: f.Name, TokenSet: len(f.TokenHash) > 0, CORS: f.CORS, Status: f.Status,
		Fields: append([]tagd.ExtField{}, f.Fields...)}
}

// NewFolder is the body of POST /api/v1/folders. ID is generated when
// empty; Token is the folder's API token for the Response API (ixkio: up
// to 32 letters and digits; stored as its SHA-256), "" for none; CORS is
// "", "*" or one origin; Status defaults to active.
type NewFolder struct {
	ID     string          `json:"id"`
	AID    string          `json:"aid"`
	Name   string          `json:"name"`
	Token  string          `json:"token"`
	CORS   string          `json:"cors"`
	Status tagd.Status     `json:"status"`
	Fields []tagd.ExtField `json:"fields"`
}

// FolderChange is the body of PATCH /api/v1/folders/{id}: the fields
// present are changed. A null or "" token removes the token; null fields
// removes every extended-data field. The account cannot change.
type FolderChange struct {
	Name   opt[string]          `json:"name"`
	Token  opt[string]          `json:"token"`
	CORS   opt[string]          `json:"cors"`
	Status opt[tagd.Status]     `json:"status"`
	Fields opt[[]tagd.ExtField] `json:"fields"`
}

// folderTokenHash checks a folder API token (ixkio: at most 32 letters
// and digits) and returns its SHA-256, nil for "".
func folderTokenHash(tok string) ([]byte, error) {
	if tok == "" {
		return nil, nil
	}
	ok := len(tok) <= 32
	for i := 0; ok && i < len(tok); i++ {
		c := tok[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	if !ok {
		return nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "token", Message: "token: at most 32 letters and digits"}
	}
	h := sha256.Sum256([]byte(tok))
	return h[:], nil
}

// folderNotFound is the answer for a folder the caller cannot see.
func folderNotFound(id string) error { return tagd.NotFound("folder_id", "folder %q not found", id) }

// reachFolder returns folder id if the calling key reaches it.
func (s *Server) reachFolder(r *http.Request, st CatalogStore, id string) (*tagd.Folder, error) {
	f, err := st.Folder(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !reaches(r, f.AID) {
		return nil, folderNotFound(id)
	}
	return f, nil
}

// handleFolderList is GET /api/v1/folders[?aid=AID]: the folders the key
// reaches, by ID.
func (s *Server) handleFolderList(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	aid, ok := s.listAccount(w, r)
	if !ok {
		return
	}
	folders, err := st.Folders(r.Context(), aid)
	if err != nil {
		s.writeError(w, err)
		return
	}
	out := make([]FolderInfo, 0, len(folders))
	for i := range folders {
		out = append(out, FolderInfoOf(&folders[i]))
	}
	s.writeValue(w, http.StatusOK, out)
}

// listAccount returns the account a list is limited to: the aid query
// parameter, or the calling key's account. A key of one account that asks
// for another gets an empty list: ok is true and aid names no account's
// objects ("\x00").
func (s *Server) listAccount(w http.ResponseWriter, r *http.Request) (aid string, ok bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, &tagd.Error{Code: tagd.CodeInvalid, Field: "query", Message: "the query string is malformed"})
		return "", false
	}
	aid = q.Get("aid")
	if ka := keyAccount(r); ka != "" {
		if aid != "" && aid != ka {
			return "\x00", true
		}
		aid = ka
	}
	return aid, true
}

// handleFolderGet is GET /api/v1/folders/{id}.
func (s *Server) handleFolderGet(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	f, err := s.reachFolder(r, st, r.PathValue("id"))
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusOK, FolderInfoOf(f))
}

// handleFolderCreate is POST /api/v1/folders (NewFolder): 201.
func (s *Server) handleFolderCreate(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	var body NewFolder
	if err := decodeBody(w, r, &body); err != nil {
		s.writeError(w, err)
		return
	}
	if !reaches(r, body.AID) {
		s.writeError(w, accountNotFound(body.AID))
		return
	}
	hash, err := folderTokenHash(body.Token)
	if err != nil {
		s.writeError(w, err)
		return
	}
	f := &tagd.Folder{ID: body.ID, AID: body.AID, Name: body.Name, TokenHash: hash, CORS: body.CORS, Status: body.Status, Fields: body.Fields}
	if err := st.CreateFolder(r.Context(), f); err != nil {
		s.writeError(w, err)
		return
	}
	s.created(w, "/api/v1/folders/"+url.PathEscape(f.ID), FolderInfoOf(f))
}

// handleFolderPatch is PATCH /api/v1/folders/{id} (FolderChange).
func (s *Server) handleFolderPatch(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if _, err := s.reachFolder(r, st, id); err != nil {
		s.writeError(w, err)
		return
	}
	var ch FolderChange
	if err := decodeBody(w, r, &ch); err != nil {
		s.writeError(w, err)
		return
	}
	apply, err := ch.prepare()
	if err != nil {
		s.writeError(w, err)
		return
	}
	if err := st.UpdateFolder(r.Context(), id, apply); err != nil {
		s.writeError(w, err)
		return
	}
	f, err := st.Folder(r.Context(), id)
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusOK, FolderInfoOf(f))
}

// prepare checks the change and returns the function that applies it.
func (ch *FolderChange) prepare() (func(*tagd.Folder) error, error) {
	if !ch.Name.Set && !ch.Token.Set && !ch.CORS.Set && !ch.Status.Set && !ch.Fields.Set {
		return nil, nothingToChange("name, token, cors, status, fields")
	}
	name, err := ch.Name.get("name")
	if err != nil {
		return nil, err
	}
	hash, err := folderTokenHash(ch.Token.V)
	if err != nil {
		return nil, err
	}
	cors, err := ch.CORS.get("cors")
	if err != nil {
		return nil, err
	}
	status, err := ch.Status.get("status")
	if err != nil {
		return nil, err
	}
	if ch.Status.Set && status == "" {
		return nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "status", Message: `status must be "active" or "inactive"`}
	}
	return func(f *tagd.Folder) error {
		if ch.Name.Set {
			f.Name = name
		}
		if ch.Token.Set {
			f.TokenHash = hash
		}
		if ch.CORS.Set {
			f.CORS = cors
		}
		if ch.Status.Set {
			f.Status = status
		}
		if ch.Fields.Set {
			f.Fields = ch.Fields.V // nil when null
		}
		return nil
	}, nil
}

// handleFolderDelete is DELETE /api/v1/folders/{id}: 204; 409 while tag
// groups are in it.
func (s *Server) handleFolderDelete(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if _, err := s.reachFolder(r, st, id); err != nil {
		s.writeError(w, err)
		return
	}
	if err := st.DeleteFolder(r.Context(), id); err != nil {
		s.writeError(w, err)
		return
	}
	deleted(w)
}
