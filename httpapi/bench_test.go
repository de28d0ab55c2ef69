package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
)

// benchBody is the reply both benchmarks serve.
const benchBody = `{"xuid":"q8w3sbcz","response":"Found"}`

// benchHTTP sends GET /v1/t?x=q8w3sbcz to h over loopback HTTP from
// parallel goroutines sharing one client, and reports requests per second.
func benchHTTP(b *testing.B, h http.Handler) {
	ts := httptest.NewServer(h)
	defer ts.Close()
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	url := ts.URL + "/v1/t?x=q8w3sbcz"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 256)
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.ReadFull(resp.Body, buf)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(buf[:n]) != benchBody {
				b.Errorf("reply %d %q", resp.StatusCode, buf[:n])
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// constChecker answers every check with the same Result.
type constChecker tagd.Result

// Check implements httpapi.Checker.
func (c *constChecker) Check(context.Context, tagd.Request) (tagd.Result, error) {
	return tagd.Result(*c), nil
}

// BenchmarkLookupX is a lookup by XUID through Server.Handler with a
// checker that answers at once: the cost of the HTTP layer alone.
func BenchmarkLookupX(b *testing.B) {
	s := &httpapi.Server{Checker: &constChecker{Kind: tagd.ByXUID, XUID: "q8w3sbcz", Response: "Found"}}
	benchHTTP(b, s.Handler())
}

// BenchmarkBareHandler is the baseline: a bare net/http handler writing the
// same headers and bytes, measured the same way.
func BenchmarkBareHandler(b *testing.B) {
	body := []byte(benchBody)
	benchHTTP(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	}))
}
