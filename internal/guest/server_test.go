package guest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func startServer(t *testing.T) (*Server, *logBuf) {
	t.Helper()
	var lb logBuf
	s, err := NewServer(0, lb.logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.SetSeed(Seed{MetaData: []byte("instance-id: i\n"), UserData: []byte("#cloud-config\n")})
	return s, &lb
}

func TestServerListensOnLoopbackOnly(t *testing.T) {
	s, _ := startServer(t)
	a := s.Addr()
	if !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port == 0 {
		t.Fatalf("server bound to %s, want 127.0.0.1:<port>", a)
	}
	// Not reachable on any other address of this machine.
	addrs, _ := net.InterfaceAddrs()
	for _, ad := range addrs {
		ipn, ok := ad.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.To4() == nil {
			continue
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), fmt.Sprint(a.Port)), time.Second)
		if err == nil {
			c.Close()
			t.Errorf("seed server answers on %s", ipn.IP)
		}
	}
}

func post(t *testing.T, s *Server, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(fmt.Sprintf("http://%s%s", s.Addr(), path), "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerServesSeed(t *testing.T) {
	s, lb := startServer(t)
	for path, want := range map[string]string{"/meta-data": "instance-id: i\n", "/user-data": "#cloud-config\n", "/vendor-data": ""} {
		resp, err := http.Get(fmt.Sprintf("http://%s%s", s.Addr(), path))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Errorf("%s: %d %q", path, resp.StatusCode, b)
		}
	}
	resp, _ := http.Get(fmt.Sprintf("http://%s/etc/passwd", s.Addr()))
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
	resp.Body.Close()
	if f := s.Fetched(); f["meta-data"] != 1 || f["user-data"] != 1 {
		t.Errorf("fetched %v", f)
	}
	if !strings.Contains(lb.String(), "GET /user-data") || !strings.Contains(lb.String(), "/etc/passwd") {
		t.Errorf("log misses requests:\n%s", lb)
	}
}

func TestServerRejectsBadReports(t *testing.T) {
	s, lb := startServer(t)
	_, line := testKey(t)
	cases := []struct {
		name, path, body string
		code             int
	}{
		{"no token", "/hostkeys/", line, 403},
		{"no token path", "/", line, 403},
		{"wrong token", "/hostkeys/" + strings.Repeat("0", 32), line, 403},
		{"token prefix", "/hostkeys/" + s.Token()[:8], line, 403},
		{"oversized body", s.ReportPath(), strings.Repeat(line+"\n", MaxReportBytes/len(line)+2), 413},
		{"not an SSH key", s.ReportPath(), "hello, I am a host key\n", 400},
		{"key then garbage", s.ReportPath(), line + "\nrm -rf /\n", 400},
		{"empty body", s.ReportPath(), "\n\n", 400},
		{"key with options", s.ReportPath(), `command="x" ` + line, 400},
		{"bad user", s.ReportPath() + "?user=root;reboot", line, 400},
	}
	for _, c := range cases {
		code, msg := post(t, s, c.path, c.body)
		if code != c.code {
			t.Errorf("%s: got %d %q, want %d", c.name, code, msg, c.code)
		}
	}
	select {
	case r := <-s.Reported():
		t.Fatalf("a bad report was accepted: %+v", r)
	default:
	}
	if strings.Contains(lb.String(), s.Token()) {
		t.Errorf("the token leaked into the log")
	}
	if n := strings.Count(lb.String(), "POST"); n != len(cases) {
		t.Errorf("%d POSTs logged, want %d:\n%s", n, len(cases), lb)
	}
}

func TestServerTakesGoodReport(t *testing.T) {
	s, lb := startServer(t)
	k1, l1 := testKey(t)
	_, l2 := testKey(t)
	code, msg := post(t, s, s.ReportPath()+"?user=debian", l1+" root@guest\r\n"+l2+"\n")
	if code != 200 {
		t.Fatalf("good report: %d %s", code, msg)
	}
	select {
	case r := <-s.Reported():
		if len(r.Keys) != 2 || r.User != "debian" || string(r.Keys[0].Marshal()) != string(k1.Marshal()) {
			t.Errorf("report %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no report delivered")
	}
	if !strings.Contains(lb.String(), "SHA256:") {
		t.Errorf("fingerprints not logged:\n%s", lb)
	}
}

// Through a guestfwd, every guest request travels over the one connection
// QEMU opened at its start, maybe minutes later: the server must keep it.
func TestServerKeepsOneConnection(t *testing.T) {
	s, _ := startServer(t)
	_, line := testKey(t)
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(1500 * time.Millisecond) // idle before the first request, as QEMU's is
	r := bufio.NewReader(c)
	for i, req := range []string{
		"GET /meta-data HTTP/1.1\r\nHost: 10.0.2.100\r\n\r\n",
		"GET /user-data HTTP/1.1\r\nHost: 10.0.2.100\r\n\r\n",
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: 10.0.2.100\r\nContent-Length: %d\r\n\r\n%s", s.ReportPath(), len(line), line),
	} {
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("request %d on the same connection: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("request %d: status %d, close %v", i, resp.StatusCode, resp.Close)
		}
	}
}
