package guest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// MaxReportBytes bounds a host-key report: a handful of public keys is a
// few kilobytes; anything larger is refused.
const MaxReportBytes = 16 << 10

// Report is what the guest POSTed: its SSH host public keys, and the user
// that holds our key.
type Report struct {
	Keys []ssh.PublicKey
	User string
}

// Server serves a NoCloud seed and collects the guest's host-key report.
// It listens on the loopback only: QEMU's user-mode network reaches it as
// 10.0.2.2 (or through a guestfwd), and nothing else may.
type Server struct {
	seed     Seed
	token    string
	listener net.Listener
	srv      *http.Server
	logf     func(format string, args ...any)

	mu       sync.Mutex
	fetched  map[string]int
	reported chan Report
	done     bool
}

// NewServer listens on 127.0.0.1 (port 0: any free port) and starts serving;
// it serves 404 for the seed files until SetSeed.
// logf receives one line for every request, accepted or not.
func NewServer(port int, logf func(format string, args ...any)) (*Server, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("seed server: token: %w", err)
	}
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	if err != nil {
		return nil, fmt.Errorf("seed server: listen on 127.0.0.1:%d: %w", port, err)
	}
	s := &Server{
		token:    hex.EncodeToString(tok),
		listener: ln,
		logf:     logf,
		fetched:  map[string]int{},
		reported: make(chan Report, 1),
	}
	s.srv = &http.Server{
		Handler: s,
		// No header or idle timeout: through a guestfwd, QEMU opens ONE
		// connection when it starts and carries every guest request over
		// it, the first one a minute or more later. A read deadline would
		// close it, and the guest's cloud-init would then wait forever.
		ReadHeaderTimeout: 0,
		IdleTimeout:       0,
	}
	go s.srv.Serve(ln)
	return s, nil
}

// SetSeed sets what the server hands out (the seed may name the server's
// port and token, so it is made after the server).
func (s *Server) SetSeed(seed Seed) {
	s.mu.Lock()
	s.seed = seed
	s.mu.Unlock()
}

// Addr is the address the server listens on.
func (s *Server) Addr() *net.TCPAddr { return s.listener.Addr().(*net.TCPAddr) }

// Token is the per-boot secret in the report path.
func (s *Server) Token() string { return s.token }

// ReportPath is the path the guest POSTs its host keys to.
func (s *Server) ReportPath() string { return "/hostkeys/" + s.token }

// Reported delivers the first accepted report.
func (s *Server) Reported() <-chan Report { return s.reported }

// Fetched reports how many times each seed file was served.
func (s *Server) Fetched() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.fetched {
		out[k] = v
	}
	return out
}

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return nil
}

var userRe = regexp.MustCompile(`^[a-z_][a-z0-9_.-]{0,31}$`)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	from := r.RemoteAddr
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		var body []byte
		name := strings.TrimPrefix(r.URL.Path, "/")
		s.mu.Lock()
		seed := s.seed
		s.mu.Unlock()
		switch name {
		case "meta-data":
			body = seed.MetaData
			if body == nil {
				http.NotFound(w, r)
				return
			}
		case "user-data":
			body = seed.UserData
		case "vendor-data", "network-config":
			// Not given: an empty vendor-data is valid; for network-config
			// a 404 makes cloud-init fall back to DHCP on the first NIC.
			if name == "network-config" {
				s.logf("seed server: %s %s from %s: 404 (not provided)", r.Method, r.URL.Path, from)
				http.NotFound(w, r)
				return
			}
			body = nil
		default:
			s.logf("seed server: %s %s from %s: 404", r.Method, r.URL.Path, from)
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.fetched[name]++
		s.mu.Unlock()
		s.logf("seed server: %s %s from %s: 200 (%d bytes)", r.Method, r.URL.Path, from, len(body))
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	case r.Method == http.MethodPost:
		rep, code, err := s.report(w, r)
		if err != nil {
			s.logf("seed server: POST %s from %s: %d: %v", redact(r.URL.Path, s.token), from, code, err)
			http.Error(w, err.Error(), code)
			return
		}
		var fps []string
		for _, k := range rep.Keys {
			fps = append(fps, k.Type()+" "+ssh.FingerprintSHA256(k))
		}
		s.logf("seed server: POST %s from %s: 200: host keys of user %q: %s", redact(r.URL.Path, s.token), from, rep.User, strings.Join(fps, ", "))
		s.mu.Lock()
		first := !s.done
		s.done = true
		s.mu.Unlock()
		if first {
			s.reported <- rep
		}
		fmt.Fprintf(w, "thanks: %d host keys\n", len(rep.Keys))
	default:
		s.logf("seed server: %s %s from %s: 405", r.Method, r.URL.Path, from)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// report checks and parses a host-key POST.
func (s *Server) report(w http.ResponseWriter, r *http.Request) (Report, int, error) {
	tok, ok := strings.CutPrefix(r.URL.Path, "/hostkeys/")
	if !ok || tok == "" {
		return Report{}, http.StatusForbidden, errors.New("no token in the report path")
	}
	if !constantTimeEqual(tok, s.token) {
		return Report{}, http.StatusForbidden, errors.New("wrong token")
	}
	if r.ContentLength > MaxReportBytes {
		return Report{}, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes is over the limit of %d", r.ContentLength, MaxReportBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxReportBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Report{}, http.StatusRequestEntityTooLarge, fmt.Errorf("body over the limit of %d bytes", MaxReportBytes)
		}
		return Report{}, http.StatusBadRequest, fmt.Errorf("reading the body: %w", err)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Report{}, http.StatusBadRequest, fmt.Errorf("query %q: %v", r.URL.RawQuery, err)
	}
	user := q.Get("user")
	if user != "" && !userRe.MatchString(user) {
		return Report{}, http.StatusBadRequest, fmt.Errorf("user %q is not a user name", user)
	}
	keys, err := ParseHostKeys(body)
	if err != nil {
		excerpt := body
		if len(excerpt) > 120 {
			excerpt = excerpt[:120]
		}
		return Report{}, http.StatusBadRequest, fmt.Errorf("%w (%d bytes, starting %q)", err, len(body), excerpt)
	}
	return Report{Keys: keys, User: user}, http.StatusOK, nil
}

// ParseHostKeys reads SSH public keys, one a line (the content of
// /etc/ssh/ssh_host_*_key.pub). Every non-empty line must be a well-formed
// public key with no options, and there must be at least one.
func ParseHostKeys(body []byte) ([]ssh.PublicKey, error) {
	var keys []ssh.PublicKey
	for i, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("line %d is not an SSH public key: %v", i+1, err)
		}
		if len(opts) > 0 {
			return nil, fmt.Errorf("line %d has authorized_keys options; a host key has none", i+1)
		}
		if _, isCert := k.(*ssh.Certificate); isCert {
			return nil, fmt.Errorf("line %d is a certificate, not a host key", i+1)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no SSH public key in the body")
	}
	return keys, nil
}

func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// redact keeps the token out of logs a user might paste somewhere.
func redact(path, token string) string {
	return strings.ReplaceAll(path, token, "<token>")
}
