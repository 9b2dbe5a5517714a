// This file defines Server: its configuration, lifecycle, routes and the
// token that guards a dashboard listening beyond loopback.

package dash

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed assets
var assets embed.FS

// Config is a dashboard's configuration. Fields are read by New only.
type Config struct {
	// Addr is the address to listen on, "host:port"; port 0 picks a free
	// one. A host that is not loopback (127.0.0.0/8, ::1, localhost)
	// turns the token on.
	Addr string
	// Token is required beyond loopback; "" makes New generate one.
	// It is ignored on loopback.
	Token string
	// Source gives the snapshots; required.
	Source Source
	// Rate and Tail, when set, fill Snapshot.Rate and Snapshot.Output.
	Rate *RateMeter
	Tail *Tail
	// Interval is the time between events on /api/events; 0 means 1s.
	Interval time.Duration
	// Watching, when set, is called with true when the first page opens
	// the event stream and with false once the last has gone, so that the
	// hub may keep a feed (say, a subscription to engine output) only
	// while someone watches. Calls are serialized and alternate; it must
	// not call back into the Server.
	Watching func(on bool)
	// Logger receives serving errors; nil discards them.
	Logger *slog.Logger
}

// Server is the dashboard's HTTP server: New, then Start, then Shutdown.
// Its methods are safe for concurrent use.
type Server struct {
	cfg      Config
	loopback bool
	token    [sha256.Size]byte // sha256 of the token; unused on loopback
	tokenStr string
	http     *http.Server
	ln       net.Listener
	quit     chan struct{} // closed by Shutdown: event streams end
	stopOnce sync.Once
	wg       sync.WaitGroup // the serve loop and the ticker

	mu       sync.Mutex // guards closed, watchers, ticking
	closed   bool
	watchers map[chan []byte]struct{}
	ticking  bool

	report   sync.Mutex // serializes Config.Watching calls; guards reported
	reported bool

	build  sync.Mutex // one snapshot is built at a time; guards last, lastAt
	last   []byte     // the latest snapshot's JSON
	lastAt time.Time

	builds atomic.Int64 // snapshots built, for tests and the benchmark
}

// New checks cfg and returns a Server that is not listening yet.
func New(cfg Config) (*Server, error) {
	if cfg.Source == nil {
		return nil, errors.New("dashboard: no Source to take the cluster's state from")
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard address %q: %w; give host:port, e.g. 127.0.0.1:8080 or :8080 for every interface", cfg.Addr, err)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, loopback: isLoopback(host), quit: make(chan struct{}), watchers: map[chan []byte]struct{}{}}
	if !s.loopback {
		if err := s.setToken(cfg.Token); err != nil {
			return nil, err
		}
	}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)}
	return s, nil
}

// setToken keeps the token given, or makes one of 128 random bits.
func (s *Server) setToken(token string) error {
	if token == "" {
		b := make([]byte, 16)
		rand.Read(b)
		token = hex.EncodeToString(b)
	}
	if len(token) < 16 {
		return fmt.Errorf("dashboard token: %d characters is too short to guard a dashboard beyond loopback; give 16 or more, or none to have one made", len(token))
	}
	s.tokenStr, s.token = token, sha256.Sum256([]byte(token))
	return nil
}

// isLoopback reports whether host names only this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start listens and serves in the background. It returns once the
// address accepts connections, or the error that prevents it.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("dashboard: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.wg.Go(func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("dashboard stopped serving", "addr", ln.Addr().String(), "err", err)
		}
	})
	return nil
}

// Addr returns the address listened on (valid after Start).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Token returns the token the dashboard asks for, or "" on loopback.
func (s *Server) Token() string { return s.tokenStr }

// URL returns the page's address to print at start, with the token when
// one is needed; a wildcard listen address is shown as this machine's
// host name.
func (s *Server) URL() string {
	host, port, _ := net.SplitHostPort(s.Addr())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil {
			host = name
		}
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: "/"}
	if s.tokenStr != "" {
		u.RawQuery = url.Values{"token": {s.tokenStr}}.Encode()
	}
	return u.String()
}

// Shutdown ends the event streams, stops serving and waits for every
// goroutine the server started. It is idempotent.
func (s *Server) Shutdown() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.quit)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			s.http.Close()
		}
	})
	s.wg.Wait()
}

// routes returns the handler: methods and the token are checked first.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.asset("index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("/app.css", s.asset("app.css", "text/css; charset=utf-8"))
	mux.HandleFunc("/app.js", s.asset("app.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("/api/status", s.status)
	mux.HandleFunc("/api/events", s.events)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusNotFound, "pirun dashboard: nothing at %s; the pages are / (the dashboard), /api/status (JSON) and /api/events (server-sent events)", r.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			plain(w, http.StatusMethodNotAllowed, "pirun dashboard: %s is not served; the dashboard is read-only, use GET or HEAD", r.Method)
			return
		}
		if !s.authorize(w, r) {
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	})
}

// cookieName is per port: cookies are shared by every port of a host.
func (s *Server) cookieName() string {
	_, port, _ := net.SplitHostPort(s.Addr())
	return "pirun_dash_" + port
}

// authorize lets a request through on loopback, or with the right token
// (?token=, which sets the cookie, the cookie, or an Authorization:
// Bearer header); otherwise it answers 401.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	if s.loopback {
		return true
	}
	given, from := "", ""
	if q := r.URL.Query(); q.Has("token") {
		given, from = q.Get("token"), "?token="
	} else if c, err := r.Cookie(s.cookieName()); err == nil {
		given, from = c.Value, "cookie"
	} else if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		given, from = v, "Authorization header"
	}
	sum := sha256.Sum256([]byte(given))
	if from != "" && subtle.ConstantTimeCompare(sum[:], s.token[:]) == 1 {
		if from == "?token=" {
			http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: s.tokenStr, Path: "/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		return true
	}
	why := "no token was given"
	if from != "" {
		why = "the token in the " + from + " is wrong"
	}
	plain(w, http.StatusUnauthorized, "pirun dashboard: %s. This dashboard listens beyond loopback (%s), so it needs the token printed when it started: open the address it printed, ending in /?token=…, once; a cookie keeps you in afterwards", why, s.Addr())
	return false
}

// plain answers a status with a one-line text body.
func plain(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, format+"\n", args...)
}

// asset serves an embedded file.
func (s *Server) asset(name, ctype string) http.HandlerFunc {
	data, err := assets.ReadFile(path.Join("assets", name))
	if err != nil {
		panic("dash: asset " + name + " is not embedded") // a build mistake, caught by any test
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.noQuery(w, r) {
			return
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Length", strconv.Itoa(len(data)))
		if name == "index.html" {
			h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
		}
		w.Write(data)
	}
}

// noQuery refuses parameters other than token with 400.
func (s *Server) noQuery(w http.ResponseWriter, r *http.Request) bool {
	for k := range r.URL.Query() {
		if k != "token" {
			plain(w, http.StatusBadRequest, "pirun dashboard: unknown parameter %q in %s; it takes none (token= only, beyond loopback)", k, r.URL.Path)
			return false
		}
	}
	return true
}

// status answers GET /api/status with the snapshot's JSON.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if !s.noQuery(w, r) {
		return
	}
	data := s.snapshot(false)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// snapshot returns the JSON of a fresh snapshot or, unless fresh is set,
// of one built less than half an interval ago (many pollers cost the hub
// one build).
func (s *Server) snapshot(fresh bool) []byte {
	s.build.Lock()
	defer s.build.Unlock()
	now := time.Now()
	if !fresh && s.last != nil && now.Sub(s.lastAt) < s.cfg.Interval/2 {
		return s.last
	}
	snap := s.cfg.Source.Snapshot()
	snap.complete(now, s.cfg.Rate, s.cfg.Tail)
	data, err := json.Marshal(&snap)
	if err != nil { // only NaN or Inf figures can fail: say so in the JSON
		data, _ = json.Marshal(map[string]string{"error": "dashboard: the snapshot cannot be written as JSON: " + err.Error()})
	}
	s.builds.Add(1)
	s.last, s.lastAt = data, now
	return data
}
