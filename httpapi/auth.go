package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tagd-nfc/tagd"
)

// API-key errors (SPEC §7). They are tagd codes like the others: statusOf
// maps them to their statuses (400, 401, 403, 429) and writeError renders
// them as {"Code":"…","Message":"…"}. The spelling is the SPEC's.
const (
	CodeMissingAPIKey      tagd.Code = "MISSING_API_KEY"      // 400: no key given
	CodeInvalidAPIKey      tagd.Code = "INVALID_API_KEY"      // 401: unknown or malformed key id
	CodeSecretRequired     tagd.Code = "SECRET_REQUIRED"      // 401: KeyId without .Secret
	CodeInvalidSecret      tagd.Code = "INVALID_SECRET"       // 401: wrong secret
	CodeAPIKeyDisabled     tagd.Code = "API_KEY_DISABLED"     // 401: key disabled
	CodeAPIKeyExpired      tagd.Code = "API_KEY_EXPIRED"      // 401: past its expiry
	CodeCompanyAPIDisabled tagd.Code = "COMPANY_API_DISABLED" // 401: the key's account has API access off
	CodeIPNotAuthorized    tagd.Code = "IP_NOT_AUTHORIZED"    // 403: caller outside the allow-list
	CodeInsufficientScope  tagd.Code = "INSUFFICIENT_SCOPE"   // 403: key lacks the scope
	CodeRateLimited        tagd.Code = "RATE_LIMITED"         // 429: over the key's rate (Retry-After)
)

// APIKeyCodes returns the API-key error codes in the SPEC's order.
func APIKeyCodes() []tagd.Code {
	return []tagd.Code{CodeMissingAPIKey, CodeInvalidAPIKey, CodeSecretRequired, CodeInvalidSecret, CodeAPIKeyDisabled,
		CodeAPIKeyExpired, CodeCompanyAPIDisabled, CodeIPNotAuthorized, CodeInsufficientScope, CodeRateLimited}
}

// ScopeAny, given to RequireKey, accepts any valid key whatever its
// scopes (GET /api/v1/identity).
const ScopeAny = ""

// DefaultMaxKeysPerAccount is the number of API keys an account may hold
// (SPEC §7) when AuthConfig.MaxKeysPerAccount is zero.
const DefaultMaxKeysPerAccount = 10

// touchEvery is how stale an API key's stored last-used time may get: a
// use is written at most once per touchEvery per key.
const touchEvery = time.Minute

// touchTimeout bounds one last-used write.
const touchTimeout = 10 * time.Second

// Limits on what a client presents.
const (
	maxKeyIDLen = 64  // as the store's ids
	maxKeyLen   = 512 // a whole "KeyId.Secret"
)

// The headers and the query parameter that carry a key.
const (
	headerAuthorization = "Authorization"
	queryAPIKey         = "api_key"
)

// APIKeyStore is what RequireKey reads; *store.DB satisfies it. Errors
// carry codes; CodeNotFound means no such key or account.
type APIKeyStore interface {
	// APIKey returns the key record with the given id.
	APIKey(ctx context.Context, id string) (*tagd.APIKey, error)
	// Account returns account aid, for its APIDisabled flag.
	Account(ctx context.Context, aid string) (*tagd.Account, error)
	// TouchAPIKey moves the key's last-used time forward to when.
	TouchAPIKey(ctx context.Context, id string, when time.Time) error
}

// APIKeyManager is what the key-management endpoints change; *store.DB
// satisfies it.
type APIKeyManager interface {
	// APIKeys lists the key records, by id.
	APIKeys(ctx context.Context) ([]tagd.APIKey, error)
	// CreateAPIKeyMax stores a new key unless its account already holds
	// max keys (CodeConflict).
	CreateAPIKeyMax(ctx context.Context, k tagd.APIKey, max int) error
	// UpdateAPIKey applies fn to key id in one transaction.
	UpdateAPIKey(ctx context.Context, id string, fn func(*tagd.APIKey) error) error
	// DeleteAPIKey deletes key id.
	DeleteAPIKey(ctx context.Context, id string) error
}

// AuthConfig configures API-key authentication and management.
type AuthConfig struct {
	// Keys looks keys up; without it every key-guarded route answers 500
	// (and logs why): it fails closed.
	Keys APIKeyStore
	// KeyAdmin changes keys (the /api/v1/apikeys endpoints); without it
	// they answer 500.
	KeyAdmin APIKeyManager
	// Rate is each key's token bucket; zero fields take the defaults.
	Rate KeyRate
	// MaxKeysPerAccount limits the keys of one account (the appliance's
	// own keys, of no account, count as one account); zero means
	// DefaultMaxKeysPerAccount.
	MaxKeysPerAccount int
}

// maxKeys returns the per-account key limit.
func (c *AuthConfig) maxKeys() int {
	if c.MaxKeysPerAccount > 0 {
		return c.MaxKeysPerAccount
	}
	return DefaultMaxKeysPerAccount
}

// keyState is the server's in-memory API-key bookkeeping: the rate
// limiter and the last-used times waiting to be written.
type keyState struct {
	limiter limiter

	mu sync.Mutex
	// touched is the last use queued per key, so that a key is queued at
	// most once per touchEvery even before its record shows the write.
	touched map[string]time.Time
	// pending are the uses to write, by key id.
	pending map[string]time.Time
	// done is non-nil while a writer runs, and closed when it stops.
	done chan struct{}
}

// keyContext is the context key of the authenticated API key.
type keyContext struct{}

// KeyOf returns the API key that RequireKey authenticated for the request
// whose context is ctx, or nil. The record still holds the secret's hash:
// never show it.
func KeyOf(ctx context.Context) *tagd.APIKey {
	k, _ := ctx.Value(keyContext{}).(*tagd.APIKey)
	return k
}

// RequireKey guards h with API-key authentication (SPEC §7). The key,
// "KeyId.Secret", comes in the X-Api-Key header or as Authorization:
// Bearer, or, only where legacyQuery, in the query parameter api_key
// (which is then removed from the request h sees). A request passes when
// the key exists, its secret's SHA-256 matches (compared in constant
// time), it is enabled and not expired (valid up to, not on, its expiry),
// its account has API access, the caller's address (RemoteAddr, never
// X-Forwarded-For) is in its allow-list if it has one, it holds scope
// (admin implies every scope, private implies public, sync is only sync;
// ScopeAny accepts any key) and its token bucket has a token. Otherwise
// the answer is the SPEC's error, {"Code":"…","Message":"…"} with its
// status; 429 carries Retry-After. h finds the key with KeyOf. An unknown
// scope is a programming error: RequireKey panics.
func (s *Server) RequireKey(scope string, legacyQuery bool, h http.Handler) http.Handler {
	switch scope {
	case ScopeAny, tagd.ScopePublic, tagd.ScopePrivate, tagd.ScopeAdmin, tagd.ScopeSync:
	default:
		panic(fmt.Sprintf("httpapi: RequireKey: unknown scope %q", scope))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Auth.Keys == nil {
			s.writeError(w, tagd.Errorf(tagd.CodeInternal, "httpapi: no API key store (Server.Auth.Keys) for %s", r.URL.Path))
			return
		}
		k, err := s.authenticate(w, r, scope, legacyQuery)
		if err != nil {
			s.refuse(w, r, k, err)
			return
		}
		r = withoutQueryKey(r)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyContext{}, k)))
	})
}

// authenticate runs the checks of RequireKey in the SPEC's order. The
// error is a *tagd.Error with one of the API-key codes (or an internal
// error); k is the key record once one was found, for the log. The
// status checks come after the secret, so that only the key's holder
// learns whether it is disabled, expired or restricted; the rate limit
// comes last, so that nobody but the holder can spend the key's tokens.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, scope string, legacyQuery bool) (*tagd.APIKey, error) {
	presented, err := presentedKey(r, legacyQuery)
	if err != nil {
		return nil, err
	}
	id, secret, hasSecret := strings.Cut(presented, ".")
	if !validKeyID(id) || len(presented) > maxKeyLen {
		dummyCompare(secret)
		return nil, authErr(CodeInvalidAPIKey, "the API key does not exist or is malformed")
	}
	if !hasSecret || secret == "" {
		// Answered without a lookup: SECRET_REQUIRED says nothing about
		// whether the id exists.
		return nil, authErr(CodeSecretRequired, "the API key has no secret part: send KeyId.Secret")
	}
	ctx := r.Context()
	k, err := s.Auth.Keys.APIKey(ctx, id)
	if err != nil && tagd.ErrorCode(err) != tagd.CodeNotFound {
		return nil, err
	}
	if err != nil {
		k = nil
	}
	// The same work whether or not the id exists: hash the secret and
	// compare it in constant time, with a dummy hash for an unknown id.
	got := sha256.Sum256([]byte(secret))
	var dummy [sha256.Size]byte
	want := dummy[:]
	if k != nil && len(k.SecretHash) == sha256.Size {
		want = k.SecretHash
	}
	match := subtle.ConstantTimeCompare(got[:], want) == 1
	if k == nil {
		return nil, authErr(CodeInvalidAPIKey, "the API key does not exist or is malformed")
	}
	if !match || len(k.SecretHash) != sha256.Size {
		return k, authErr(CodeInvalidSecret, "the secret part of the API key is wrong")
	}
	if k.Disabled {
		return k, authErr(CodeAPIKeyDisabled, "this API key is disabled")
	}
	now := s.now()
	if !k.Expires.IsZero() && !now.Before(k.Expires) {
		return k, authErr(CodeAPIKeyExpired, "this API key expired at "+k.Expires.Format(time.RFC3339))
	}
	if k.AID != "" {
		a, err := s.Auth.Keys.Account(ctx, k.AID)
		switch {
		case tagd.ErrorCode(err) == tagd.CodeNotFound:
			return k, authErr(CodeCompanyAPIDisabled, "the API key's account no longer exists")
		case err != nil:
			return k, err
		case a.APIDisabled:
			return k, authErr(CodeCompanyAPIDisabled, "API access is disabled for the API key's account")
		}
	}
	if len(k.AllowIPs) > 0 {
		ip, ok := clientAddr(r)
		if !ok || !ipAllowed(k.AllowIPs, ip) {
			shown := "this address"
			if ok {
				shown = ip.String()
			}
			return k, authErr(CodeIPNotAuthorized, "this API key may not be used from "+shown)
		}
	}
	if !hasScope(k.Scopes, scope) {
		return k, authErr(CodeInsufficientScope, "this API key lacks the "+scope+" scope")
	}
	if ok, wait := s.keys.limiter.take(k.ID, s.Auth.Rate, now); !ok {
		secs := retryAfter(wait)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return k, authErr(CodeRateLimited, "too many requests with this API key: retry after "+strconv.Itoa(secs)+"s")
	}
	s.noteUse(k, now)
	return k, nil
}

// authErr returns an API-key error.
func authErr(code tagd.Code, msg string) *tagd.Error {
	return &tagd.Error{Code: code, Message: msg}
}

// refuse answers a request that failed authentication and logs the
// refusal: the key id only when it names a stored key (a presented "id"
// may be a secret pasted in the wrong place), never anything else the
// client sent.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, k *tagd.APIKey, err error) {
	code := tagd.ErrorCode(err)
	if statusOf(code) == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tagd"`)
	}
	if code != tagd.CodeInternal {
		level := slog.LevelInfo
		if code == CodeRateLimited {
			level = slog.LevelDebug // one per refused request: keep the log readable
		}
		attrs := []any{"code", code, "path", r.URL.Path, "remote", remoteHost(r)}
		if k != nil {
			attrs = append(attrs, "key_id", k.ID)
		}
		s.logger().Log(r.Context(), level, "API key refused", attrs...)
	}
	s.writeError(w, err)
}

// presentedKey returns the one key a request presents: X-Api-Key, else
// Authorization: Bearer, else (where legacyQuery) the api_key query
// parameter. Several different keys are INVALID_API_KEY: which one the
// client meant is unknowable.
func presentedKey(r *http.Request, legacyQuery bool) (string, error) {
	var keys []string
	for _, v := range r.Header.Values(headerAPIKey) {
		if v = strings.TrimSpace(v); v != "" {
			keys = append(keys, v)
		}
	}
	for _, v := range r.Header.Values(headerAuthorization) {
		scheme, tok, _ := strings.Cut(strings.TrimSpace(v), " ")
		if tok = strings.TrimSpace(tok); strings.EqualFold(scheme, "Bearer") && tok != "" {
			keys = append(keys, tok)
		}
	}
	inQuery := false
	if r.URL.RawQuery != "" { // parsed, not searched: the name may be percent-encoded
		for _, v := range r.URL.Query()[queryAPIKey] {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			inQuery = true
			if legacyQuery {
				keys = append(keys, v)
			}
		}
	}
	if len(keys) == 0 {
		if inQuery {
			return "", authErr(CodeMissingAPIKey, "this endpoint does not take the API key in the query string: send it as X-Api-Key: KeyId.Secret or Authorization: Bearer KeyId.Secret")
		}
		return "", authErr(CodeMissingAPIKey, "no API key: send it as X-Api-Key: KeyId.Secret or Authorization: Bearer KeyId.Secret")
	}
	for _, v := range keys[1:] {
		if v != keys[0] {
			return "", authErr(CodeInvalidAPIKey, "several different API keys were sent: send one")
		}
	}
	return keys[0], nil
}

// withoutQueryKey returns r without the api_key query parameter, so that
// no handler (or log line) downstream sees a key that came in the URL.
func withoutQueryKey(r *http.Request) *http.Request {
	if r.URL.RawQuery == "" {
		return r
	}
	q := r.URL.Query()
	if !q.Has(queryAPIKey) {
		return r
	}
	q.Del(queryAPIKey)
	u := *r.URL
	u.RawQuery = q.Encode()
	r2 := r.WithContext(r.Context())
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	r2.Form, r2.PostForm = nil, nil
	return r2
}

// validKeyID reports whether id can name a key: what the store accepts as
// an id, 1 to 64 ASCII letters, digits, '-' and '_'.
func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// dummyCompare does the hashing and comparing work of a real check, so
// that a malformed key costs what a well-formed one does.
func dummyCompare(secret string) {
	got := sha256.Sum256([]byte(secret))
	var dummy [sha256.Size]byte
	subtle.ConstantTimeCompare(got[:], dummy[:])
}

// hasScope reports whether a key with the scopes have may use a route that
// needs scope need: admin implies every scope, private implies public,
// sync is only sync.
func hasScope(have []string, need string) bool {
	if need == ScopeAny {
		return true
	}
	for _, s := range have {
		if s == need || s == tagd.ScopeAdmin || s == tagd.ScopePrivate && need == tagd.ScopePublic {
			return true
		}
	}
	return false
}

// clientAddr is the caller's IP address, from the connection
// (RemoteAddr): headers such as X-Forwarded-For are the client's to
// choose and are ignored. IPv4-mapped IPv6 addresses (a dual-stack
// listener) are unmapped; zones are dropped.
func clientAddr(r *http.Request) (netip.Addr, bool) {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		a = ap.Addr()
	} else if a, err = netip.ParseAddr(r.RemoteAddr); err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// remoteHost is the caller's address for the log.
func remoteHost(r *http.Request) string {
	if a, ok := clientAddr(r); ok {
		return a.String()
	}
	return r.RemoteAddr
}

// ipAllowed reports whether ip matches an entry of allow: an address
// (IPv4 or IPv6, compared unmapped) or a CIDR prefix. Entries that do not
// parse match nothing (the store refuses them anyway).
func ipAllowed(allow []string, ip netip.Addr) bool {
	for _, e := range allow {
		if strings.Contains(e, "/") {
			if p, err := netip.ParsePrefix(e); err == nil && p.Contains(ip) {
				return true
			}
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil && a.Unmap().WithZone("") == ip {
			return true
		}
	}
	return false
}

// noteUse queues a write of the key's last-used time when the stored one
// (or the last one queued) is touchEvery old or more. The write happens
// off the request path, in one writer goroutine that runs while there is
// something to write: no request waits for an fsync, and a busy key costs
// one write a minute.
func (s *Server) noteUse(k *tagd.APIKey, now time.Time) {
	st := &s.keys
	st.mu.Lock()
	defer st.mu.Unlock()
	last := k.LastUsed
	if t, ok := st.touched[k.ID]; ok && t.After(last) {
		last = t
	}
	if !last.IsZero() && now.Sub(last) < touchEvery {
		return
	}
	if st.touched == nil {
		st.touched = make(map[string]time.Time)
		st.pending = make(map[string]time.Time)
	}
	if len(st.touched) >= 4096 { // forget keys whose last touch is old news
		for id, t := range st.touched {
			if now.Sub(t) >= touchEvery {
				delete(st.touched, id)
			}
		}
	}
	st.touched[k.ID] = now
	st.pending[k.ID] = now
	if st.done == nil {
		st.done = make(chan struct{})
		go s.writeUses(st.done)
	}
}

// writeUses writes the queued last-used times until none is left, then
// closes done.
func (s *Server) writeUses(done chan struct{}) {
	st := &s.keys
	for {
		st.mu.Lock()
		batch := st.pending
		st.pending = make(map[string]time.Time)
		if len(batch) == 0 {
			st.done = nil
			st.mu.Unlock()
			close(done)
			return
		}
		st.mu.Unlock()
		for id, when := range batch {
			ctx, cancel := context.WithTimeout(context.Background(), touchTimeout)
			err := s.Auth.Keys.TouchAPIKey(ctx, id, when)
			cancel()
			if err != nil && tagd.ErrorCode(err) != tagd.CodeNotFound {
				s.logger().Warn("recording API key use failed", "key_id", id, "err", err)
			}
		}
	}
}

// WaitKeyUse waits until the queued API-key last-used times are written.
// Call it after the listeners stopped and before the store closes.
func (s *Server) WaitKeyUse() {
	for {
		s.keys.mu.Lock()
		done := s.keys.done
		s.keys.mu.Unlock()
		if done == nil {
			return
		}
		<-done
	}
}
