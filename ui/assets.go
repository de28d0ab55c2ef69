package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed assets
var embedded embed.FS

// assetFS is the embedded assets directory.
func assetFS() fs.FS {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		panic(err) // the directory is embedded
	}
	return sub
}

// assetHash is a hash of every embedded asset: the page's version.
var assetHash = sync.OnceValue(func() string {
	h := sha256.New()
	fsys := assetFS()
	var names []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
})

// Strings returns the kiosk's strings in lang ("fr", "fr-CH", …), falling
// back key by key to English, and the language actually used.
func Strings(lang string) (map[string]string, string, error) {
	b, err := fs.ReadFile(assetFS(), "strings.json")
	if err != nil {
		return nil, "", err
	}
	var tables map[string]map[string]string
	if err := json.Unmarshal(b, &tables); err != nil {
		return nil, "", fmt.Errorf("ui: strings.json: %w", err)
	}
	en, ok := tables["en"]
	if !ok {
		return nil, "", fmt.Errorf("ui: strings.json has no \"en\" table")
	}
	used := "en"
	var t map[string]string
	lang = strings.ToLower(strings.TrimSpace(lang))
	for _, l := range []string{lang, strings.SplitN(lang, "-", 2)[0]} {
		if tt, ok := tables[l]; ok && l != "" {
			t, used = tt, l
			break
		}
	}
	out := make(map[string]string, len(en))
	for k, v := range en {
		out[k] = v
		if tv, ok := t[k]; ok && tv != "" {
			out[k] = tv
		}
	}
	return out, used, nil
}

// Langs returns the languages of the strings file.
func Langs() []string {
	b, err := fs.ReadFile(assetFS(), "strings.json")
	if err != nil {
		return nil
	}
	var tables map[string]json.RawMessage
	if json.Unmarshal(b, &tables) != nil {
		return nil
	}
	out := make([]string, 0, len(tables))
	for l := range tables {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// pageData is what index.html is rendered with.
type pageData struct {
	Lang    string
	Version string
	IdleMS  int64
	S       map[string]string
}

// renderPage renders index.html for a language, version and idle delay;
// it returns the language used.
func renderPage(lang, version string, idleMS int64) ([]byte, string, error) {
	s, used, err := Strings(lang)
	if err != nil {
		return nil, "", err
	}
	src, err := fs.ReadFile(assetFS(), "index.html")
	if err != nil {
		return nil, "", err
	}
	tmpl, err := template.New("index").Parse(string(src))
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, pageData{Lang: used, Version: version, IdleMS: idleMS, S: s}); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), used, nil
}

// contentSecurityPolicy lets the page load only its own assets, same-origin
// or data: images, and talk only to its own origin.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers common to the page and its assets.
func securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// assetHandler serves the embedded assets under /assets/: forever
// cacheable when the request names the current version, revalidated
// otherwise. Directories are not listed.
func assetHandler(version string) http.Handler {
	files := http.StripPrefix("/assets/", http.FileServerFS(assetFS()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/assets/")
		if name == "" || strings.HasSuffix(name, "/") || path.Clean("/"+name) != "/"+name || name == "index.html" {
			http.NotFound(w, r)
			return
		}
		securityHeaders(w.Header())
		if r.URL.Query().Get("v") == version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
