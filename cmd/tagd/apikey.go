package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
	"github.com/tagd-nfc/tagd/store"
)

// apiKeyConfig is the API-key part of the config file (embedded in
// config).
type apiKeyConfig struct {
	// APIKeyRate and APIKeyBurst are each key's token bucket: requests a
	// second, sustained, and at once (defaults 10 and 20).
	APIKeyRate  float64 `json:"api_key_rate"`
	APIKeyBurst int     `json:"api_key_burst"`
	// APIKeysPerAccount limits the keys of one account (default 10).
	APIKeysPerAccount int `json:"api_keys_per_account"`
}

// keyPurgeEvery is how often the service purges expired API keys (and once
// at start).
const keyPurgeEvery = 24 * time.Hour

// startAPIKeys wires API keys into the service: the key store and limits
// of api, and the purge of expired keys, once now and then daily. The
// returned function stops the purge and waits for the last-used writes
// still queued; call it after the listeners stopped, before db closes.
func (c *runCmd) startAPIKeys(ctx context.Context, api *httpapi.Server, db *store.DB, logger *slog.Logger) (stop func()) {
	api.Auth = httpapi.AuthConfig{
		Keys:              db,
		KeyAdmin:          db,
		Rate:              httpapi.KeyRate{PerSecond: c.cfg.APIKeyRate, Burst: c.cfg.APIKeyBurst},
		MaxKeysPerAccount: c.cfg.APIKeysPerAccount,
	}
	purge := func() {
		ids, err := db.PurgeExpiredAPIKeys(ctx, c.now())
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("purging expired API keys failed", "err", err)
		case len(ids) > 0:
			logger.Info("purged API keys a week past their expiry", "key_ids", ids)
		}
	}
	purge()
	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(keyPurgeEvery)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
				purge()
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		api.WaitKeyUse()
	}
}

// apiKeyCmd is `tagd apikey create|list|disable|enable|delete|rotate`. It
// talks to the running service over its admin socket, else opens the
// database. Keys are made here, in the CLI: the service (or the database)
// gets only the SHA-256 of the secret, and the key is printed once.
type apiKeyCmd struct {
	out    io.Writer
	action string
	id     string
	cfg    config
	json   bool
	now    func() time.Time

	// create
	name, description, account string
	scopes                     []string
	expires                    time.Time
	allowIPs                   []string
}

// apiKeyUsage is the usage line of `tagd apikey`.
const apiKeyUsage = "usage: tagd apikey create --name NAME [--scope public|private|admin|sync]... [--expires YYYY-MM-DD|RFC3339] [--allow-ip IP|CIDR]... [--description TEXT] [--account AID] [--json]\n" +
	"       tagd apikey list [ID] [--json] | tagd apikey disable|enable|delete|rotate ID [--json]   (all take --data DIR, --config FILE)"

func (c *apiKeyCmd) parse(args []string) error {
	if len(args) == 0 || !slices.Contains([]string{"create", "list", "disable", "enable", "delete", "rotate"}, args[0]) {
		return usageErr("%s", apiKeyUsage)
	}
	c.action = args[0]
	fs := newFlagSet("apikey " + c.action)
	data := dataFlag(fs)
	cfgPath := fs.String("config", "", "config file (JSON): data directory, api_keys_per_account")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	var scopes, allow listFlag
	var expires string
	if c.action == "create" {
		fs.StringVar(&c.name, "name", "", "name of the key (required)")
		fs.StringVar(&c.description, "description", "", "what the key is for")
		fs.StringVar(&c.account, "account", "", "account (AID) the key belongs to; none: the appliance's own")
		fs.Var(&scopes, "scope", "public|private|admin|sync; repeat or comma-separate (default public)")
		fs.StringVar(&expires, "expires", "", "last moment of validity: YYYY-MM-DD (valid up to, not on, that day, local time) or RFC 3339")
		fs.Var(&allow, "allow-ip", "IP address or CIDR prefix the key may be used from; repeat (default anywhere)")
	}
	if err := parseFlagSet(fs, args[1:]); err != nil {
		return err
	}
	var err error
	if c.cfg, err = loadConfig(*cfgPath); err != nil {
		return usageErr("--config: %v", err)
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "data" {
			c.cfg.Data = *data
		}
	})
	switch {
	case c.action == "create" && len(fs.args) > 0:
		return usageErr("unexpected argument %q", fs.args[0])
	case c.action == "list" && len(fs.args) > 1:
		return usageErr("unexpected argument %q", fs.args[1])
	case c.action != "create" && c.action != "list" && len(fs.args) != 1:
		return usageErr("%s needs one key id: tagd apikey %s ID", c.action, c.action)
	}
	if len(fs.args) > 0 {
		// a whole key pasted instead of its id: use the id, never echo the secret
		c.id, _, _ = strings.Cut(fs.args[0], ".")
	}
	if c.action != "create" {
		return nil
	}
	if strings.TrimSpace(c.name) == "" {
		return usageErr("--name: a key needs a name")
	}
	for _, s := range scopes {
		switch s {
		case tagd.ScopePublic, tagd.ScopePrivate, tagd.ScopeAdmin, tagd.ScopeSync:
			if !slices.Contains(c.scopes, s) {
				c.scopes = append(c.scopes, s)
			}
		default:
			return usageErr("--scope: %q is not public, private, admin or sync", s)
		}
	}
	if len(c.scopes) == 0 {
		c.scopes = []string{tagd.ScopePublic}
	}
	for _, a := range allow {
		var err error
		if strings.Contains(a, "/") {
			_, err = netip.ParsePrefix(a)
		} else {
			_, err = netip.ParseAddr(a)
		}
		if err != nil {
			return usageErr("--allow-ip: %q is not an IP address or CIDR prefix (such as 192.168.1.20, fd00::1 or 192.168.1.0/24)", a)
		}
		c.allowIPs = append(c.allowIPs, a)
	}
	if expires != "" {
		if c.expires, err = parseExpiry(expires); err != nil {
			return usageErr("--expires: %v", err)
		}
	}
	return nil
}

// parseExpiry reads --expires: a date (the key is valid up to, not on,
// that day: it expires at its first moment, local time) or an RFC 3339
// time.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor an RFC 3339 time (such as 2027-01-31T18:00:00Z)", s)
}

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

func (c *apiKeyCmd) run(ctx context.Context) error {
	if c.now == nil {
		c.now = time.Now
	}
	if !c.expires.IsZero() && !c.expires.After(c.now()) {
		return usageErr("--expires: %s is not in the future", c.expires.Format(time.RFC3339))
	}
	keys, err := c.openKeys()
	if err != nil {
		return err
	}
	defer keys.close()
	switch c.action {
	case "create":
		return c.create(ctx, keys, httpapi.NewKey{Name: c.name, Description: c.description, Scopes: c.scopes,
			Expires: c.expires, AllowIPs: c.allowIPs, Account: c.account}, "")
	case "rotate":
		old, err := keys.get(ctx, c.id)
		if err != nil {
			return err
		}
		if old.Expires != nil && !old.Expires.After(c.now()) {
			return fmt.Errorf("API key %s expired at %s: a rotation would be expired too; create a new key", old.ID, old.Expires.Format(time.RFC3339))
		}
		nk := httpapi.NewKey{Name: old.Name, Description: old.Description, Scopes: old.Scopes, AllowIPs: old.AllowIPs, Account: old.Account}
		if old.Expires != nil {
			nk.Expires = *old.Expires
		}
		return c.create(ctx, keys, nk, old.ID)
	case "list":
		var list []httpapi.KeyInfo
		if c.id != "" {
			k, err := keys.get(ctx, c.id)
			if err != nil {
				return err
			}
			list = append(list, k)
		} else if list, err = keys.list(ctx); err != nil {
			return err
		}
		return c.printList(list)
	case "disable", "enable":
		k, err := keys.setDisabled(ctx, c.id, c.action == "disable")
		if err != nil {
			return err
		}
		if c.json {
			return json.NewEncoder(c.out).Encode(k)
		}
		_, err = fmt.Fprintf(c.out, "%sd API key %s (%s)\n", c.action, k.ID, k.Name)
		return err
	case "delete":
		if err := keys.remove(ctx, c.id); err != nil {
			return err
		}
		if c.json {
			return json.NewEncoder(c.out).Encode(map[string]any{"id": c.id, "deleted": true})
		}
		_, err := fmt.Fprintf(c.out, "deleted API key %s\n", c.id)
		return err
	}
	return usageErr("%s", apiKeyUsage)
}

// createdKey is what `tagd apikey create|rotate --json` prints: the key,
// once, with the stored key's description.
type createdKey struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	RotatedFrom string `json:"rotated_from,omitempty"`
	httpapi.KeyInfo
}

// create makes a key like nk, stores it and prints it once.
func (c *apiKeyCmd) create(ctx context.Context, keys keyAdmin, nk httpapi.NewKey, rotatedFrom string) error {
	key, rec, err := newAPIKey(nk.Name, nk.Scopes, c.now())
	if err != nil {
		return err
	}
	nk.ID, nk.SecretHash = rec.ID, rec.SecretHash
	info, err := keys.create(ctx, nk)
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(c.out).Encode(createdKey{ID: info.ID, Key: key, RotatedFrom: rotatedFrom, KeyInfo: info})
	}
	verb := "created"
	if rotatedFrom != "" {
		verb = "rotated " + rotatedFrom + " to"
	}
	fmt.Fprintf(c.out, "%s API key %s %q (scopes %s", verb, info.ID, info.Name, strings.Join(info.Scopes, ","))
	if info.Account != "" {
		fmt.Fprintf(c.out, "; account %s", info.Account)
	}
	if info.Expires != nil {
		fmt.Fprintf(c.out, "; valid until %s", info.Expires.Format(time.RFC3339))
	}
	if len(info.AllowIPs) > 0 {
		fmt.Fprintf(c.out, "; only from %s", strings.Join(info.AllowIPs, ", "))
	}
	fmt.Fprintf(c.out, ")\nthe key, shown once — store it now:\n%s\n", key)
	if rotatedFrom != "" {
		fmt.Fprintf(c.out, "%s stays valid: once every client uses the new key, run: tagd apikey disable %s\n", rotatedFrom, rotatedFrom)
	}
	return nil
}

// printList prints keys as a table or JSON.
func (c *apiKeyCmd) printList(list []httpapi.KeyInfo) error {
	if c.json {
		if list == nil {
			list = []httpapi.KeyInfo{}
		}
		return json.NewEncoder(c.out).Encode(list)
	}
	now := c.now()
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSCOPES\tACCOUNT\tSTATUS\tEXPIRES\tLAST USED\tALLOW")
	opt := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, k := range list {
		status := "active"
		switch {
		case k.Disabled:
			status = "disabled"
		case k.Expires != nil && !now.Before(*k.Expires):
			status = "expired"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), dash(k.Account), status,
			opt(k.Expires), opt(k.LastUsed), dash(strings.Join(k.AllowIPs, ",")))
	}
	return w.Flush()
}

// keyAdmin manages keys through the running service or the database.
type keyAdmin interface {
	list(ctx context.Context) ([]httpapi.KeyInfo, error)
	get(ctx context.Context, id string) (httpapi.KeyInfo, error)
	create(ctx context.Context, nk httpapi.NewKey) (httpapi.KeyInfo, error)
	setDisabled(ctx context.Context, id string, disabled bool) (httpapi.KeyInfo, error)
	remove(ctx context.Context, id string) error
	close() error
}

// openKeys returns the running service's admin socket when a service
// answers on it, else the database.
func (c *apiKeyCmd) openKeys() (keyAdmin, error) {
	if serviceRunning(context.Background(), c.cfg.Data) {
		return newSocketKeys(filepath.Join(c.cfg.Data, sockFile)), nil
	}
	d, err := openData(c.cfg.Data)
	if err != nil {
		return nil, err
	}
	db, err := d.openStore(c.now)
	if err != nil {
		return nil, err
	}
	return &storeKeys{db: db, now: c.now, max: c.cfg.APIKeysPerAccount}, nil
}

// socketKeys manages keys through the admin socket of the running service.
type socketKeys struct{ cl *http.Client }

// newSocketKeys returns a client of the admin socket sock.
func newSocketKeys(sock string) *socketKeys {
	cl := adminClient(sock)
	cl.Timeout = 30 * time.Second
	return &socketKeys{cl: cl}
}

// call sends a request to the service and decodes the answer into out.
// An error answer becomes a *tagd.Error with the service's code and
// message.
func (s *socketKeys) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://tagd"+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.cl.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return serviceError(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func (s *socketKeys) list(ctx context.Context) ([]httpapi.KeyInfo, error) {
	var out []httpapi.KeyInfo
	return out, s.call(ctx, "GET", "/api/v1/apikeys", nil, &out)
}

func (s *socketKeys) get(ctx context.Context, id string) (httpapi.KeyInfo, error) {
	var out httpapi.KeyInfo
	return out, s.call(ctx, "GET", "/api/v1/apikeys/"+url.PathEscape(id), nil, &out)
}

func (s *socketKeys) create(ctx context.Context, nk httpapi.NewKey) (httpapi.KeyInfo, error) {
	var out httpapi.KeyInfo
	return out, s.call(ctx, "POST", "/api/v1/apikeys", nk, &out)
}

func (s *socketKeys) setDisabled(ctx context.Context, id string, disabled bool) (httpapi.KeyInfo, error) {
	var out httpapi.KeyInfo
	return out, s.call(ctx, "PATCH", "/api/v1/apikeys/"+url.PathEscape(id), httpapi.KeyChange{Disabled: &disabled}, &out)
}

func (s *socketKeys) remove(ctx context.Context, id string) error {
	return s.call(ctx, "DELETE", "/api/v1/apikeys/"+url.PathEscape(id), nil, nil)
}

func (s *socketKeys) close() error {
	s.cl.CloseIdleConnections()
	return nil
}

// storeKeys manages keys in the database (no service running). It applies
// the same rules as the service's admin endpoints.
type storeKeys struct {
	db  *store.DB
	now func() time.Time
	max int
}

func (s *storeKeys) list(ctx context.Context) ([]httpapi.KeyInfo, error) {
	keys, err := s.db.APIKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]httpapi.KeyInfo, 0, len(keys))
	for i := range keys {
		out = append(out, httpapi.KeyInfoOf(&keys[i]))
	}
	return out, nil
}

func (s *storeKeys) get(ctx context.Context, id string) (httpapi.KeyInfo, error) {
	k, err := s.db.APIKey(ctx, id)
	if err != nil {
		return httpapi.KeyInfo{}, err
	}
	return httpapi.KeyInfoOf(k), nil
}

func (s *storeKeys) create(ctx context.Context, nk httpapi.NewKey) (httpapi.KeyInfo, error) {
	max := s.max
	if max <= 0 {
		max = httpapi.DefaultMaxKeysPerAccount
	}
	rec := tagd.APIKey{ID: nk.ID, AID: nk.Account, Name: nk.Name, Description: nk.Description, Scopes: nk.Scopes,
		SecretHash: nk.SecretHash, Created: s.now(), Expires: nk.Expires, AllowIPs: nk.AllowIPs}
	if err := s.db.CreateAPIKeyMax(ctx, rec, max); err != nil {
		return httpapi.KeyInfo{}, err
	}
	return httpapi.KeyInfoOf(&rec), nil
}

func (s *storeKeys) setDisabled(ctx context.Context, id string, disabled bool) (httpapi.KeyInfo, error) {
	var out tagd.APIKey
	err := s.db.UpdateAPIKey(ctx, id, func(k *tagd.APIKey) error {
		k.Disabled = disabled
		out = *k
		return nil
	})
	if err != nil {
		return httpapi.KeyInfo{}, err
	}
	return httpapi.KeyInfoOf(&out), nil
}

func (s *storeKeys) remove(ctx context.Context, id string) error { return s.db.DeleteAPIKey(ctx, id) }

func (s *storeKeys) close() error { return s.db.Close() }
