package httpapi

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds one readiness check, so that a stuck dependency makes
// /readyz answer 503 rather than hang the prober.
const readyTimeout = 3 * time.Second

// handleHealthz answers GET /healthz: 200 {"status":"ok"} for as long as
// the process serves HTTP at all.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

// handleReadyz answers GET /readyz: 200 {"status":"ok"} when Ready
// returns nil, else 503 {"status":"not ready","reason":"…"}.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			b := []byte(`{"status":"not ready","reason":`)
			b = appendString(b, err.Error())
			b = append(b, '}')
			writeJSON(w, http.StatusServiceUnavailable, b)
			return
		}
	}
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}
