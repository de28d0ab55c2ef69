package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/tagd-nfc/tagd"
)

// ScanLister reads the scan log, newest first.
type ScanLister interface {
	Scans(ctx context.Context, last int) ([]tagd.Scan, error)
}

// handleScans is GET /api/v1/scans?last=N: the newest N scans (default
// 100, at most 1,000,000).
func (s *Server) handleScans(w http.ResponseWriter, r *http.Request) {
	last := 100
	if v := r.URL.Query().Get("last"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000000 {
			s.writeError(w, &tagd.Error{Code: tagd.CodeInvalid, Field: "last", Message: "last: want a number from 1 to 1000000"})
			return
		}
		last = n
	}
	if s.Scans == nil {
		s.writeError(w, &tagd.Error{Code: tagd.CodeInternal, Message: "no scan log"})
		return
	}
	scans, err := s.Scans.Scans(r.Context(), last)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if scans == nil {
		scans = []tagd.Scan{}
	}
	b, err := json.Marshal(scans)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// handleReaders is GET /api/v1/readers: the status of every reader.
func (s *Server) handleReaders(w http.ResponseWriter, r *http.Request) {
	st := []tagd.ReaderStatus{}
	if s.Readers != nil {
		st = append(st, s.Readers()...)
	}
	b, err := json.Marshal(st)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}
