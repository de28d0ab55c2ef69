// Package ui serves the kiosk: a full-screen page, embedded in the binary,
// that shows the verdict of every tap, and the websocket that pushes taps,
// reader statuses and the sync status to it.
//
// The page (/), its assets (/assets/…) and the websocket (/ws) come from
// Server.Handler. The server subscribes once to tagd.Events and fans every
// event out to the connected pages (the hub pattern): each connection has
// one writer goroutine and a bounded send buffer, and a page that does not
// keep up is disconnected rather than allowed to slow anything down. The
// page reconnects by itself, with backoff, and reloads itself when the
// server's assets change. This package is the only importer of the
// websocket library.
package ui

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tagd-nfc/tagd"
)

// Defaults of the Server's settings.
const (
	// DefaultIdleAfter is how long a verdict stays on screen.
	DefaultIdleAfter = 6 * time.Second
	// DefaultPongWait is how long a page may leave a ping unanswered.
	DefaultPongWait = 60 * time.Second
	// DefaultPingPeriod is how often the server pings a page.
	DefaultPingPeriod = 54 * time.Second
	// DefaultWriteWait bounds each write to a page.
	DefaultWriteWait = 10 * time.Second
	// DefaultSendBuffer is how many messages may wait for a page.
	DefaultSendBuffer = 64
	// eventBuffer is the buffer of the server's own subscription.
	eventBuffer = 1024
	// closeGrace is how long Close lets pages receive their close frame
	// before it cuts the connections.
	closeGrace = time.Second
	// maxRead is the largest message a page may send.
	maxRead = 512
)

// Server is the kiosk's web server: the page and its websocket. Set the
// fields, then call Handler; Close ends every connection.
type Server struct {
	// Events is the event stream shown on the page; nil shows nothing.
	Events *tagd.Events
	// Now is the clock (default time.Now); it decides whether the last tap
	// is recent enough to show to a page that (re)connects.
	Now func() time.Time
	// IdleAfter is how long a verdict stays on screen (default 6 s).
	IdleAfter time.Duration
	// Lang is the operator's language, a table of assets/strings.json
	// (default "en"; missing strings fall back to English).
	Lang string
	// Logger receives connection problems (default: discarded).
	Logger *slog.Logger
	// AllowedOrigins are origins ("http://kiosk.lan:8080") allowed to open
	// the websocket besides the page's own host.
	AllowedOrigins []string
	// Version identifies the assets; the page reloads itself when it
	// changes. Default: a hash of the embedded assets.
	Version string

	// PongWait is how long a connection may stay silent (no pong) before
	// it is closed (default 60 s); PingPeriod is how often the server pings
	// (default 54 s, less than PongWait); WriteWait bounds every write
	// (default 10 s).
	PongWait, PingPeriod, WriteWait time.Duration
	// SendBuffer is how many messages may wait for a slow page before it
	// is disconnected (default 64).
	SendBuffer int

	once     sync.Once
	version  string
	lang     string // the language of the strings used
	page     []byte
	pageErr  error
	idPrefix string
	upgrader websocket.Upgrader
	sub      *tagd.Subscription

	wg      sync.WaitGroup // hub and connection goroutines
	mu      sync.Mutex
	closed  bool
	clients map[*client]struct{}
	readers map[string]Reader
	sync    Sync
	last    *Tap // the last tap, for pages that connect
	seq     uint64
	dropped atomic.Uint64
}

// client is one websocket connection.
type client struct {
	ws   *websocket.Conn
	send chan *websocket.PreparedMessage
}

// init applies the defaults and starts the hub, once.
func (s *Server) init() {
	s.once.Do(func() {
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.IdleAfter <= 0 {
			s.IdleAfter = DefaultIdleAfter
		}
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.PongWait <= 0 {
			s.PongWait = DefaultPongWait
		}
		if s.PingPeriod <= 0 || s.PingPeriod >= s.PongWait {
			s.PingPeriod = s.PongWait * 9 / 10 // 54 s for 60 s
		}
		if s.WriteWait <= 0 {
			s.WriteWait = DefaultWriteWait
		}
		if s.SendBuffer <= 0 {
			s.SendBuffer = DefaultSendBuffer
		}
		s.version = s.Version
		if s.version == "" {
			s.version = assetHash()
		}
		s.page, s.lang, s.pageErr = renderPage(s.Lang, s.version, s.IdleAfter.Milliseconds())
		if s.lang == "" {
			s.lang = "en"
		}
		s.idPrefix = strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
		s.upgrader = websocket.Upgrader{
			ReadBufferSize:  1024,
			WriteBufferSize: 4096,
			CheckOrigin:     s.checkOrigin,
		}
		s.clients = map[*client]struct{}{}
		s.readers = map[string]Reader{}
		s.sync = Sync{State: SyncNotConfigured}
		if s.Events != nil {
			// Subscribe hands the latest status of every reader first.
			s.sub = s.Events.Subscribe(eventBuffer)
			for n := len(s.sub.C); n > 0; n-- {
				s.dispatch(<-s.sub.C) // so that the first hello has them
			}
			s.wg.Add(1)
			go s.hub()
		}
	})
}

// Handler returns the kiosk's handler: GET / (the page), GET /assets/…
// and GET /ws (the websocket).
func (s *Server) Handler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePage)
	mux.Handle("GET /assets/", assetHandler(s.version))
	mux.HandleFunc("GET /ws", s.serveWS)
	return mux
}

// servePage serves index.html, rendered for the operator's language.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	if s.pageErr != nil {
		s.Logger.Error("kiosk page", "err", s.pageErr)
		http.Error(w, "kiosk page unavailable", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	securityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	w.Write(s.page)
}

// checkOrigin accepts requests without an Origin (not from a browser),
// from the host the request was made to, or from an allowed origin.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range s.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	return false
}

// serveWS upgrades to a websocket, sends hello and registers the page.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if !s.checkOrigin(r) {
		s.Logger.Warn("kiosk websocket refused", "origin", r.Header.Get("Origin"), "host", r.Host, "remote", r.RemoteAddr)
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &client{ws: ws, send: make(chan *websocket.PreparedMessage, s.SendBuffer)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(s.WriteWait))
		ws.Close()
		return
	}
	hello, err := s.helloLocked()
	if err != nil {
		s.mu.Unlock()
		s.Logger.Error("kiosk hello", "err", err)
		ws.Close()
		return
	}
	c.send <- hello // the buffer is empty
	s.clients[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go s.readPump(c)
	go s.writePump(c) // sends the hello
}

// helloLocked builds the hello of a new connection; s.mu is held, so that
// no event falls between the hello and the broadcasts that follow it.
func (s *Server) helloLocked() (*websocket.PreparedMessage, error) {
	m := Message{
		Type:        TypeHello,
		Version:     s.version,
		Lang:        s.lang,
		IdleAfterMS: s.IdleAfter.Milliseconds(),
		Sync:        &Sync{},
	}
	*m.Sync = s.sync
	for _, rd := range s.readers {
		m.Readers = append(m.Readers, rd)
	}
	sort.Slice(m.Readers, func(i, j int) bool { return m.Readers[i].Name < m.Readers[j].Name })
	if s.last != nil {
		age := s.Now().Sub(s.last.Time)
		if age < 0 {
			age = 0
		}
		if age <= s.IdleAfter {
			t := *s.last
			t.ShowMS = max((s.IdleAfter - age).Milliseconds(), 1)
			m.Tap = &t
		}
	}
	return prepare(m)
}

// prepare marshals a message once for all connections.
func prepare(m Message) (*websocket.PreparedMessage, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return websocket.NewPreparedMessage(websocket.TextMessage, b)
}

// hub turns events into messages and broadcasts them, until the
// subscription is closed.
func (s *Server) hub() {
	defer s.wg.Done()
	var missed uint64
	for ev := range s.sub.C {
		s.dispatch(ev)
		if d := s.sub.Dropped(); d != missed {
			s.Logger.Warn("kiosk missed events", "missed", d-missed)
			missed = d
		}
	}
}

// dispatch broadcasts one event and remembers what a new page needs.
func (s *Server) dispatch(ev tagd.Event) {
	switch {
	case ev.Kind == tagd.EventTap && ev.Result != nil:
		t := NewTap(ev)
		s.mu.Lock()
		s.seq++
		t.ID = s.idPrefix + strconv.FormatUint(s.seq, 10)
		t.ShowMS = s.IdleAfter.Milliseconds()
		s.last = &t
		s.broadcastLocked(Message{Type: TypeTap, Tap: &t})
		s.mu.Unlock()
	case ev.Kind == tagd.EventReader && ev.Reader != nil:
		rd := Reader{Name: ev.Reader.Reader, State: ev.Reader.State, Since: ev.Reader.Since}
		s.mu.Lock()
		s.readers[rd.Name] = rd
		s.broadcastLocked(Message{Type: TypeReader, Reader: &rd})
		s.mu.Unlock()
	}
}

// SetSync sets the sync status and shows it on every page.
func (s *Server) SetSync(st Sync) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sync = st
	s.broadcastLocked(Message{Type: TypeSync, Sync: &st})
}

// broadcastLocked queues m to every page without ever blocking: a page
// whose buffer is full is dropped. s.mu is held.
func (s *Server) broadcastLocked(m Message) {
	if len(s.clients) == 0 {
		return
	}
	pm, err := prepare(m)
	if err != nil {
		s.Logger.Error("kiosk message", "err", err)
		return
	}
	for c := range s.clients {
		select {
		case c.send <- pm:
		default:
			s.removeLocked(c)
			s.dropped.Add(1)
			// Cut the connection now: its writer may be blocked in a
			// write to a peer that does not read.
			c.ws.UnderlyingConn().Close()
			s.Logger.Warn("kiosk page too slow, disconnected", "remote", c.ws.RemoteAddr().String())
		}
	}
}

// removeLocked unregisters c and tells its writer to finish; it is a no-op
// for a connection already removed. s.mu is held.
func (s *Server) removeLocked(c *client) {
	if _, ok := s.clients[c]; ok {
		delete(s.clients, c)
		close(c.send)
	}
}

// remove unregisters c.
func (s *Server) remove(c *client) {
	s.mu.Lock()
	s.removeLocked(c)
	s.mu.Unlock()
}

// writePump is the only goroutine that writes to c: queued messages, pings
// and the final close frame, each under a write deadline.
func (s *Server) writePump(c *client) {
	defer s.wg.Done()
	ping := time.NewTicker(s.PingPeriod)
	defer func() {
		ping.Stop()
		c.ws.Close()
		s.remove(c)
	}()
	for {
		select {
		case pm, ok := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(s.WriteWait))
			if !ok {
				c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
				return
			}
			if err := c.ws.WritePreparedMessage(pm); err != nil {
				s.logClose(c, err)
				return
			}
		case <-ping.C:
			c.ws.SetWriteDeadline(time.Now().Add(s.WriteWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				s.logClose(c, err)
				return
			}
		}
	}
}

// readPump reads (and discards) what the page sends, so that pongs and
// close frames are handled; a page silent for PongWait is disconnected.
func (s *Server) readPump(c *client) {
	defer s.wg.Done()
	defer s.remove(c)
	c.ws.SetReadLimit(maxRead)
	c.ws.SetReadDeadline(time.Now().Add(s.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(s.PongWait))
	})
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			s.logClose(c, err)
			return
		}
	}
}

// logClose logs the end of a connection unless it is an ordinary one.
func (s *Server) logClose(c *client, err error) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
		return
	}
	s.Logger.Debug("kiosk connection closed", "remote", c.ws.RemoteAddr().String(), "err", err)
}

// Clients returns the number of connected pages.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Dropped returns how many pages were disconnected for being too slow.
func (s *Server) Dropped() uint64 { return s.dropped.Load() }

// Close disconnects every page (with a close frame when the page still
// reads), stops the server's subscription and waits for its goroutines.
// The handler refuses new websockets afterwards.
func (s *Server) Close() error {
	s.init()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	conns := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		conns = append(conns, c)
		s.removeLocked(c)
	}
	s.mu.Unlock()
	if s.sub != nil {
		s.sub.Close()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(closeGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		for _, c := range conns {
			c.ws.UnderlyingConn().Close()
		}
		<-done
	}
	return nil
}
