package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tagd-nfc/tagd"
)

// The metrics of GET /metrics (Prometheus text format). Labels carry only
// fixed vocabularies (verdicts, reason codes, route patterns, statuses,
// reader states): never a key, token, UID, XUID or URL.
//
//	tagd_taps_total{verdict,reason}      taps recorded in the scan log since start
//	                                     (verdict pass|fail|none; reason the failure code)
//	tagd_check_duration_seconds          latency of Response API checks (/v1/t, /k)
//	tagd_http_requests_total{route,status}  route is the mux pattern, e.g. "GET /api/v1/tags/{xuid}"
//	tagd_scan_log_entries                entries in the scan log
//	tagd_readers{state}                  readers per state
//	go_*, process_*                      runtime and process collectors
//
// Taps are counted from the scan log at each scrape (reader and HTTP taps
// alike), starting at the newest entry when the handler was built; if more
// entries than the retention were appended between two scrapes, the pruned
// ones are not counted.

// ScanLogSizer is the optional interface of Scans that reports the size of
// the scan log; *store.DB satisfies it.
type ScanLogSizer interface {
	ScanLogSize(ctx context.Context) (int, error)
}

// maxCatchUp bounds the scans read by one scrape.
const maxCatchUp = 100_000

// metricsState is the registry of one Server.
type metricsState struct {
	reg      *prometheus.Registry
	taps     *prometheus.CounterVec
	check    prometheus.Histogram
	requests *prometheus.CounterVec
	scanLog  prometheus.Gauge
	readers  *prometheus.GaugeVec

	mu     sync.Mutex // serialises refresh
	cursor uint64     // newest scan counted
	inited bool
}

// metrics returns the server's metrics, making them on first use.
func (s *Server) metrics() *metricsState {
	s.metricsOnce.Do(func() {
		s.metricsSt = newMetricsState()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.metricsSt.refresh(ctx, s) // sets the tap cursor to the newest scan
	})
	return s.metricsSt
}

func newMetricsState() *metricsState {
	m := &metricsState{
		reg: prometheus.NewRegistry(),
		taps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tagd_taps_total", Help: "Taps recorded in the scan log since tagd started, by verdict (pass, fail, none) and failure reason.",
		}, []string{"verdict", "reason"}),
		check: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tagd_check_duration_seconds", Help: "Latency of Response API checks (GET /v1/t and /k).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tagd_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		scanLog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tagd_scan_log_entries", Help: "Entries in the scan log.",
		}),
		readers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tagd_readers", Help: "Readers by state.",
		}, []string{"state"}),
	}
	m.reg.MustRegister(m.taps, m.check, m.requests, m.scanLog, m.readers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// refresh brings the scan-derived and reader metrics up to date.
func (m *metricsState) refresh(ctx context.Context, s *Server) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.Readers != nil {
		m.readers.Reset()
		for _, st := range []tagd.ReaderState{tagd.ReaderStarting, tagd.ReaderReady, tagd.ReaderTag, tagd.ReaderAbsent, tagd.ReaderError, tagd.ReaderNone} {
			m.readers.WithLabelValues(string(st)).Set(0)
		}
		for _, st := range s.Readers() {
			m.readers.WithLabelValues(label(string(st.State))).Inc()
		}
	}
	if s.Scans == nil {
		return
	}
	if sz, ok := s.Scans.(ScanLogSizer); ok {
		if n, err := sz.ScanLogSize(ctx); err == nil {
			m.scanLog.Set(float64(n))
		}
	}
	newest, err := s.Scans.Scans(ctx, 1)
	if err != nil {
		s.logger().Warn("metrics: scan log", "err", err)
		return
	}
	var top uint64
	if len(newest) > 0 {
		top = newest[0].Seq
	}
	if !m.inited {
		m.cursor, m.inited = top, true
		return
	}
	if top <= m.cursor {
		return
	}
	k := min(top-m.cursor, maxCatchUp)
	scans, err := s.Scans.Scans(ctx, int(k))
	if err != nil {
		s.logger().Warn("metrics: scan log", "err", err)
		return
	}
	for _, sc := range scans {
		if sc.Seq <= m.cursor {
			continue
		}
		verdict := sc.Auth
		if verdict != "pass" && verdict != "fail" {
			verdict = "none"
		}
		reason := ""
		if sc.Reason != "" {
			reason = label(string(sc.Reason))
		}
		m.taps.WithLabelValues(verdict, reason).Inc()
	}
	m.cursor = top
}

// label returns v when it is a short lower-case identifier and "other"
// otherwise, so that no label can carry free text.
func label(v string) string {
	if len(v) == 0 || len(v) > 40 {
		return "other"
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "other"
		}
	}
	return v
}

// handleMetrics is GET /metrics.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	m := s.metrics()
	m.refresh(r.Context(), s)
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil}).ServeHTTP(w, r)
}

// instrument counts the requests of h by route pattern and status and
// times the Response API checks.
func (s *Server) instrument(h http.Handler) http.Handler {
	m := s.metrics()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// r.Pattern is set by the ServeMux on this request.
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			if route == "/v1/t" || route == "/k" {
				m.check.Observe(time.Since(start).Seconds())
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush flushes the underlying writer when it can.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
