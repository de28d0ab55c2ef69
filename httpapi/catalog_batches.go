package httpapi

import (
	"net/http"

	"github.com/tagd-nfc/tagd"
)

// NewBatch is the body of POST /api/v1/batches. ID is generated when
// empty; Status defaults to active.
type NewBatch struct {
	ID      string      `json:"id"`
	GroupID string      `json:"group_id"`
	Name    string      `json:"name"`
	Status  tagd.Status `json:"status"`
}

// BatchChange is the body of PATCH /api/v1/batches/{id}: the fields
// present are changed. group_id moves the batch to another tag group of
// the same folder and type; its tags then follow that group's rules.
type BatchChange struct {
	GroupID opt[string]      `json:"group_id"`
	Name    opt[string]      `json:"name"`
	Status  opt[tagd.Status] `json:"status"`
}

// batchNotFound is the answer for a batch the caller cannot see.
func batchNotFound(id string) error { return tagd.NotFound("batch_id", "batch %q not found", id) }

// reachBatch checks that batch id exists and the calling key reaches it.
func (s *Server) reachBatch(r *http.Request, st CatalogStore, id string) error {
	aid, err := st.BatchAccount(r.Context(), id)
	if err == nil && !reaches(r, aid) {
		err = batchNotFound(id)
	}
	return err
}

// batchHandlers returns the handlers of /api/v1/batches, which show the
// batches as they are. GET lists the batches the key reaches, by ID,
// filtered by ?group=ID and ?aid=AID. DELETE is 409 while tags are in the
// batch.
func (s *Server) batchHandlers() catalogHandlers {
	k := catalogKind[tagd.Batch]{name: "batches", id: func(b *tagd.Batch) string { return b.ID },
		reach: func(r *http.Request, st CatalogStore, id string) (*tagd.Batch, error) {
			return nil, s.reachBatch(r, st, id)
		},
		load: CatalogStore.Batch, show: shown(func(b *tagd.Batch) *tagd.Batch { return b }), remove: CatalogStore.DeleteBatch}
	list := catalogList(s, k, func(_ http.ResponseWriter, r *http.Request, st CatalogStore, aid string) ([]tagd.Batch, error) {
		return st.Batches(r.Context(), aid, r.URL.Query().Get("group"))
	})
	return catalogResource(s, k, list, s.createBatch, patchBatch)
}

// createBatch is POST /api/v1/batches (NewBatch).
func (s *Server) createBatch(r *http.Request, st CatalogStore, body *NewBatch) (*tagd.Batch, error) {
	if body.GroupID != "" {
		if _, err := s.reachGroup(r, st, body.GroupID); err != nil {
			return nil, err
		}
	}
	b := &tagd.Batch{ID: body.ID, GroupID: body.GroupID, Name: body.Name, Status: body.Status}
	if err := st.CreateBatch(r.Context(), b); err != nil {
		return nil, err
	}
	return b, nil
}

// patchBatch is PATCH /api/v1/batches/{id} (BatchChange).
func patchBatch(r *http.Request, st CatalogStore, id string, ch *BatchChange) error {
	apply, err := ch.prepare()
	if err != nil {
		return err
	}
	return st.UpdateBatch(r.Context(), id, apply)
}

// prepare checks the change and returns the function that applies it.
func (ch *BatchChange) prepare() (func(*tagd.Batch) error, error) {
	if !ch.GroupID.Set && !ch.Name.Set && !ch.Status.Set {
		return nil, nothingToChange("group_id, name, status")
	}
	group, err := ch.GroupID.get("group_id")
	if err != nil {
		return nil, err
	}
	name, err := ch.Name.get("name")
	if err != nil {
		return nil, err
	}
	status, err := patchStatus(&ch.Status, `"active" or "inactive"`)
	if err != nil {
		return nil, err
	}
	return func(b *tagd.Batch) error {
		if ch.GroupID.Set {
			b.GroupID = group
		}
		if ch.Name.Set {
			b.Name = name
		}
		if ch.Status.Set {
			b.Status = status
		}
		return nil
	}, nil
}
