package httpapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tagd-nfc/tagd"
)

// This file holds the CSV import of tags and keys and the CSV export of
// tags (SPEC §6: tags CSV import/export in the ixkio Associate Data
// columns; keys import, never export):
//
//	POST /api/v1/import/tags?batch=ID   text/csv body → {"rows":N}
//	POST /api/v1/import/keys            text/csv body → {"rows":N}
//	GET  /api/v1/export/tags?batch=ID   → text/csv
//
// On the admin socket they take no key; on the LAN and loopback listeners
// the tags routes need the private scope and the keys route the admin
// scope, and a key of one account reaches only that account's batches.
// Imports are all or nothing; an error names the row and the column and
// never shows key material.

// Importer is the store behind the import and export routes; *store.DB
// satisfies it. The Server finds it in its Manage store.
type Importer interface {
	ImportTagsCSV(ctx context.Context, batchID string, r io.Reader) (int, error)
	ImportKeysCSV(ctx context.Context, r io.Reader) (int, error)
	ExportTagsCSV(ctx context.Context, batchID string, w io.Writer) (int, error)
	BatchAccount(ctx context.Context, batchID string) (string, error)
}

// Limits of the import routes: the size of a body, and how long reading
// it, importing it and answering may take (longer than the server's
// default timeouts: a 100,000-row file takes seconds).
const (
	maxImportBody = 512 << 20
	importTimeout = 10 * time.Minute
)

// importRoutes adds the import and export routes to mux; keyed puts them
// behind RequireKey (the LAN and loopback handler), else they are the
// admin socket's.
func (s *Server) importRoutes(mux *http.ServeMux, keyed bool) {
	routes := []struct {
		pattern, scope string
		h              http.HandlerFunc
	}{
		{"POST /api/v1/import/tags", tagd.ScopePrivate, s.handleImportTags},
		{"POST /api/v1/import/keys", tagd.ScopeAdmin, s.handleImportKeys},
		{"GET /api/v1/export/tags", tagd.ScopePrivate, s.handleExportTags},
	}
	for _, rt := range routes {
		if keyed {
			mux.Handle(rt.pattern, s.RequireKey(rt.scope, false, rt.h))
		} else {
			mux.Handle(rt.pattern, rt.h)
		}
	}
}

// importer returns the store that imports, or writes an internal error.
func (s *Server) importer(w http.ResponseWriter) Importer {
	imp, ok := s.Manage.(Importer)
	if !ok {
		s.writeError(w, tagd.Errorf(tagd.CodeInternal, "httpapi: the store does not import"))
		return nil
	}
	return imp
}

// importBatch returns the batch parameter after checking that the calling
// key (if any) may reach it; it writes the error otherwise.
func (s *Server) importBatch(w http.ResponseWriter, r *http.Request, imp Importer) (string, bool) {
	batch := r.URL.Query().Get("batch")
	if batch == "" {
		s.writeError(w, &tagd.Error{Code: tagd.CodeInvalid, Field: "batch", Message: "batch: the batch ID is missing (?batch=ID)"})
		return "", false
	}
	if k := KeyOf(r.Context()); k != nil && k.AID != "" {
		aid, err := imp.BatchAccount(r.Context(), batch)
		if err == nil && aid != k.AID {
			err = tagd.NotFound("batch_id", "batch %q not found", batch)
		}
		if err != nil {
			s.writeError(w, err)
			return "", false
		}
	}
	return batch, true
}

// longRequest lifts the server's read and write deadlines for an import
// or export, and bounds its body.
func longRequest(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(importTimeout)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBody)
}

// importError turns a body that was too large into a CodeInvalid error.
func importError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &tagd.Error{Code: tagd.CodeInvalid, Field: "body", Message: "the file is larger than " + strconv.Itoa(maxImportBody>>20) + " MiB"}
	}
	return err
}

// writeRows answers an import with the number of rows imported.
func writeRows(w http.ResponseWriter, n int) {
	writeJSON(w, http.StatusOK, []byte(`{"rows":`+strconv.Itoa(n)+`}`))
}

// handleImportTags is POST /api/v1/import/tags?batch=ID.
func (s *Server) handleImportTags(w http.ResponseWriter, r *http.Request) {
	imp := s.importer(w)
	if imp == nil {
		return
	}
	batch, ok := s.importBatch(w, r, imp)
	if !ok {
		return
	}
	longRequest(w, r)
	n, err := imp.ImportTagsCSV(r.Context(), batch, r.Body)
	if err != nil {
		s.writeError(w, importError(err))
		return
	}
	s.logger().Info("imported tags", "batch", batch, "rows", n)
	writeRows(w, n)
}

// handleImportKeys is POST /api/v1/import/keys. A key of one account may
// not import keys (rows name tags of any account).
func (s *Server) handleImportKeys(w http.ResponseWriter, r *http.Request) {
	imp := s.importer(w)
	if imp == nil {
		return
	}
	if k := KeyOf(r.Context()); k != nil && k.AID != "" {
		s.writeError(w, authErr(CodeInsufficientScope, "only the appliance's own admin keys import tag keys"))
		return
	}
	longRequest(w, r)
	n, err := imp.ImportKeysCSV(r.Context(), r.Body)
	if err != nil {
		s.writeError(w, importError(err))
		return
	}
	s.logger().Info("imported tag keys", "rows", n)
	writeRows(w, n)
}

// handleExportTags is GET /api/v1/export/tags?batch=ID: the batch's tags
// as CSV, in the import's columns, without keys.
func (s *Server) handleExportTags(w http.ResponseWriter, r *http.Request) {
	imp := s.importer(w)
	if imp == nil {
		return
	}
	batch, ok := s.importBatch(w, r, imp)
	if !ok {
		return
	}
	if _, err := imp.BatchAccount(r.Context(), batch); err != nil {
		s.writeError(w, err) // before the 200 header
		return
	}
	longRequest(w, r)
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="tags-`+batch+`.csv"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := imp.ExportTagsCSV(r.Context(), batch, bw); err != nil {
		s.logger().Error("export failed after the reply started", "batch", batch, "err", err)
		return
	}
	_ = bw.Flush()
}
