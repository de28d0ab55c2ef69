package httpapi

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/tagd-nfc/tagd"
)

// This file holds the scan log and the reader status:
//
//	GET /api/v1/scans     the scan log, filtered, as JSON pages or CSV (scanquery.go)
//	GET /api/v1/readers   the status of every reader
//
// On the admin socket they take no key; on the LAN and loopback listeners
// the scan log needs the private scope and the reader status the public
// one, and a key of one account sees only that account's scans.

// ScanLister reads the scan log, newest first; *store.DB satisfies it.
type ScanLister interface {
	// Scans returns the newest last scans.
	Scans(ctx context.Context, last int) ([]tagd.Scan, error)
	// EachScan calls fn with each scan that q selects, up to q.Limit, from
	// one read transaction, and stops at fn's first error, which it
	// returns. An invalid q is CodeInvalid with Field naming the
	// parameter.
	EachScan(ctx context.Context, q tagd.ScanQuery, fn func(*tagd.Scan) error) error
}

// scanRoutes adds the scan log and the reader status to mux; keyed puts
// them behind RequireKey (the LAN and loopback handler), else they are
// the admin socket's.
func (s *Server) scanRoutes(mux *http.ServeMux, keyed bool) {
	routes := []struct {
		pattern, scope string
		h              http.HandlerFunc
	}{
		{"GET /api/v1/scans", tagd.ScopePrivate, s.handleScans},
		{"GET /api/v1/readers", tagd.ScopePublic, s.handleReaders},
	}
	for _, rt := range routes {
		if keyed {
			mux.Handle(rt.pattern, s.RequireKey(rt.scope, false, rt.h))
		} else {
			mux.Handle(rt.pattern, rt.h)
		}
	}
}

// errPageFull stops the walk of the scan log once a JSON page has one
// scan more than it shows.
var errPageFull = errors.New("page full")

// handleScans is GET /api/v1/scans: the scans the query selects, newest
// first, as a JSON array (a page of limit scans, default 100, with a Link
// header to the next page when there is one) or as CSV (format=csv: every
// selected scan unless limit says otherwise, streamed).
func (s *Server) handleScans(w http.ResponseWriter, r *http.Request) {
	q, format, err := parseScanQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, err)
		return
	}
	if s.Scans == nil {
		s.writeError(w, &tagd.Error{Code: tagd.CodeInternal, Message: "no scan log"})
		return
	}
	if k := KeyOf(r.Context()); k != nil && k.AID != "" {
		if q.AID != "" && q.AID != k.AID {
			s.writeError(w, authErr(CodeInsufficientScope, "this API key reaches only the scans of its own account"))
			return
		}
		q.AID = k.AID
	}
	if format == ScanFormatCSV {
		s.writeScansCSV(w, r, q)
		return
	}
	page := make([]tagd.Scan, 0, min(q.Limit, 1024))
	more := false
	all := q
	all.Limit = 0 // one more than the page, to know whether there is a next one
	err = s.Scans.EachScan(r.Context(), all, func(sc *tagd.Scan) error {
		if len(page) == q.Limit {
			more = true
			return errPageFull
		}
		page = append(page, *sc)
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		s.writeError(w, err)
		return
	}
	b, err := json.Marshal(page)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if more {
		next := q
		next.Before = page[len(page)-1].Seq
		if k := KeyOf(r.Context()); k != nil && k.AID != "" && r.URL.Query().Get("aid") == "" {
			next.AID = "" // the key's account is implied; keep the link as the client wrote it
		}
		w.Header().Set("Link", "<"+r.URL.Path+"?"+ScanQueryValues(next, ScanFormatJSON).Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, b)
}

// writeScansCSV streams the selected scans as CSV with a header row. An
// error before the first bytes went out is answered as usual; after that
// the connection is cut, so that a short export never looks complete.
func (s *Server) writeScansCSV(w http.ResponseWriter, r *http.Request, q tagd.ScanQuery) {
	longRequest(w, r)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="scans.csv"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	sent := &sentWriter{w: progressWriter{w: w, rc: rc}}
	cw := csv.NewWriter(bufio.NewWriterSize(sent, 64<<10))
	_ = cw.Write(tagd.ScanCSVHeader())
	rows := 0
	err := s.Scans.EachScan(r.Context(), q, func(sc *tagd.Scan) error {
		rows++
		if err := cw.Write(sc.CSVRecord()); err != nil {
			return err
		}
		return nil
	})
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err == nil {
		return
	}
	if !sent.started {
		h.Del("Content-Disposition")
		s.writeError(w, err)
		return
	}
	s.logger().Warn("scan export aborted", "rows", rows, "err", err)
	panic(http.ErrAbortHandler)
}

// sentWriter notes whether anything was written through it.
type sentWriter struct {
	w       io.Writer
	started bool
}

func (s *sentWriter) Write(b []byte) (int, error) {
	s.started = true
	return s.w.Write(b)
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
