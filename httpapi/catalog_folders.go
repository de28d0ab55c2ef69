package httpapi

import (
	"crypto/sha256"
	"net/http"

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
	return reachOwned(r, id, st.Folder, func(f *tagd.Folder) string { return f.AID }, folderNotFound)
}

// folderHandlers returns the handlers of /api/v1/folders. GET lists the
// folders the key reaches, by ID, filtered by ?aid=AID. DELETE is 409
// while tag groups are in the folder.
func (s *Server) folderHandlers() catalogHandlers {
	k := catalogKind[tagd.Folder]{name: "folders", id: func(f *tagd.Folder) string { return f.ID },
		reach: s.reachFolder, load: CatalogStore.Folder, show: shown(FolderInfoOf), remove: CatalogStore.DeleteFolder}
	list := catalogList(s, k, func(_ http.ResponseWriter, r *http.Request, st CatalogStore, aid string) ([]tagd.Folder, error) {
		return st.Folders(r.Context(), aid)
	})
	return catalogResource(s, k, list, createFolder, patchFolder)
}

// createFolder is POST /api/v1/folders (NewFolder).
func createFolder(r *http.Request, st CatalogStore, body *NewFolder) (*tagd.Folder, error) {
	if !reaches(r, body.AID) {
		return nil, accountNotFound(body.AID)
	}
	hash, err := folderTokenHash(body.Token)
	if err != nil {
		return nil, err
	}
	f := &tagd.Folder{ID: body.ID, AID: body.AID, Name: body.Name, TokenHash: hash, CORS: body.CORS, Status: body.Status, Fields: body.Fields}
	if err := st.CreateFolder(r.Context(), f); err != nil {
		return nil, err
	}
	return f, nil
}

// patchFolder is PATCH /api/v1/folders/{id} (FolderChange).
func patchFolder(r *http.Request, st CatalogStore, id string, ch *FolderChange) error {
	apply, err := ch.prepare()
	if err != nil {
		return err
	}
	return st.UpdateFolder(r.Context(), id, apply)
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
	status, err := patchStatus(&ch.Status, `"active" or "inactive"`)
	if err != nil {
		return nil, err
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
