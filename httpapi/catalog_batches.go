package httpapi

import (
	"net/http"
	"net/url"

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

// handleBatchList is GET /api/v1/batches[?group=ID][&aid=AID]: the
// batches the key reaches, by ID.
func (s *Server) handleBatchList(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	aid, ok := s.listAccount(w, r)
	if !ok {
		return
	}
	batches, err := st.Batches(r.Context(), aid, r.URL.Query().Get("group"))
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusOK, batches)
}

// handleBatchGet is GET /api/v1/batches/{id}.
func (s *Server) handleBatchGet(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := s.reachBatch(r, st, id); err != nil {
		s.writeError(w, err)
		return
	}
	b, err := st.Batch(r.Context(), id)
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusOK, b)
}

// handleBatchCreate is POST /api/v1/batches (NewBatch): 201.
func (s *Server) handleBatchCreate(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	var body NewBatch
	if err := decodeBody(w, r, &body); err != nil {
		s.writeError(w, err)
		return
	}
	if body.GroupID != "" {
		if _, err := s.reachGroup(r, st, body.GroupID); err != nil {
			s.writeError(w, err)
			return
		}
	}
	b := &tagd.Batch{ID: body.ID, GroupID: body.GroupID, Name: body.Name, Status: body.Status}
	if err := st.CreateBatch(r.Context(), b); err != nil {
		s.writeError(w, err)
		return
	}
	s.created(w, "/api/v1/batches/"+url.PathEscape(b.ID), b)
}

// handleBatchPatch is PATCH /api/v1/batches/{id} (BatchChange).
func (s *Server) handleBatchPatch(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := s.reachBatch(r, st, id); err != nil {
		s.writeError(w, err)
		return
	}
	var ch BatchChange
	if err := decodeBody(w, r, &ch); err != nil {
		s.writeError(w, err)
		return
	}
	apply, err := ch.prepare()
	if err != nil {
		s.writeError(w, err)
		return
	}
	if err := st.UpdateBatch(r.Context(), id, apply); err != nil {
		s.writeError(w, err)
		return
	}
	b, err := st.Batch(r.Context(), id)
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeValue(w, http.StatusOK, b)
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
	status, err := ch.Status.get("status")
	if err != nil {
		return nil, err
	}
	if ch.Status.Set && status == "" {
		return nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "status", Message: `status must be "active" or "inactive"`}
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

// handleBatchDelete is DELETE /api/v1/batches/{id}: 204; 409 while tags
// are in it.
func (s *Server) handleBatchDelete(w http.ResponseWriter, r *http.Request) {
	st, ok := s.catalog(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := s.reachBatch(r, st, id); err != nil {
		s.writeError(w, err)
		return
	}
	if err := st.DeleteBatch(r.Context(), id); err != nil {
		s.writeError(w, err)
		return
	}
	deleted(w)
}
