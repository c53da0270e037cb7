package qemusrc

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ourPatchesRoot is the checkout's patches/qemu.
var ourPatchesRoot = filepath.Join("..", "..", "patches", "qemu")

// Every release with real files in testdata/qemupatches takes all of its
// patches/qemu/<version>/ patches the way a build applies them (applyOurs),
// without fuzz.
func TestOurQEMUPatchesApplyToTheirTrees(t *testing.T) {
	needPatch(t)
	trees := filepath.Join("..", "..", "testdata", "qemupatches")
	ents, err := os.ReadDir(trees)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		version := e.Name()
		t.Run(version, func(t *testing.T) {
			ours, err := OurPatches(ourPatchesRoot, version)
			if err != nil {
				t.Fatal(err)
			}
			if len(ours) == 0 {
				t.Fatalf("testdata/qemupatches/%s exists but patches/qemu/%s holds no patch", version, version)
			}
			tree, logs := t.TempDir(), t.TempDir()
			if err := os.CopyFS(tree, os.DirFS(filepath.Join(trees, version))); err != nil {
				t.Fatal(err)
			}
			if err := applyOurs(context.Background(), tree, ours, logs); err != nil {
				t.Fatalf("patches/qemu/%s: %v", version, err)
			}
			for _, p := range ours {
				b, err := os.ReadFile(filepath.Join(logs, "patch."+p.Name+".log"))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), "fuzz") {
					t.Errorf("%s applies to %s only with fuzz; refresh it:\n%s", p.Name, version, b)
				}
			}
		})
		seen++
	}
	if seen < 2 {
		t.Fatalf("found %d release folders in testdata/qemupatches, want the curl patch's two (10.2.2, 10.0.13)", seen)
	}
}

// The curl block driver, patched, hands the event loop only the descriptor
// it keeps per socket (socket->aio_fd), never curl's socket itself, and
// makes that descriptor with _open_osfhandle and releases it with
// qemu_close_socket_osfhandle on Windows.
func TestCurlPatchLeavesNoBareSocketForTheEventLoop(t *testing.T) {
	needPatch(t)
	for _, version := range []string{"10.2.2", "10.0.13"} {
		t.Run(version, func(t *testing.T) {
			orig := filepath.Join("..", "..", "testdata", "qemupatches", version)
			before, err := os.ReadFile(filepath.Join(orig, "block", "curl.c"))
			if err != nil {
				t.Fatal(err)
			}
			call := regexp.MustCompile(`aio_set_fd_handler\(s->aio_context,\s*([^,]+),`)
			if n := bareSocketCalls(call, string(before)); n == 0 {
				t.Fatalf("the unpatched curl.c of %s passes no bare socket: the check below would prove nothing", version)
			}
			ours, err := OurPatches(ourPatchesRoot, version)
			if err != nil {
				t.Fatal(err)
			}
			tree := t.TempDir()
			if err := os.CopyFS(tree, os.DirFS(orig)); err != nil {
				t.Fatal(err)
			}
			if err := applyOurs(context.Background(), tree, ours, t.TempDir()); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(tree, "block", "curl.c"))
			if err != nil {
				t.Fatal(err)
			}
			after := string(b)
			if n := bareSocketCalls(call, after); n != 0 {
				t.Errorf("%d aio_set_fd_handler calls still pass something other than socket->aio_fd", n)
			}
			if len(call.FindAllString(after, -1)) < 5 {
				t.Errorf("expected the four curl_sock_cb calls and curl_drop_socket's, found %d", len(call.FindAllString(after, -1)))
			}
			for _, want := range []string{"_open_osfhandle((intptr_t)fd, _O_BINARY)", "qemu_close_socket_osfhandle(socket->aio_fd)", "g_hash_table_new_full(NULL, NULL, NULL, curl_socket_free)"} {
				if !strings.Contains(after, want) {
					t.Errorf("patched curl.c lacks %q", want)
				}
			}
		})
	}
}

// bareSocketCalls counts aio_set_fd_handler calls whose descriptor is not
// socket->aio_fd.
func bareSocketCalls(call *regexp.Regexp, src string) int {
	n := 0
	for _, m := range call.FindAllStringSubmatch(src, -1) {
		if strings.TrimSpace(m[1]) != "socket->aio_fd" {
			n++
		}
	}
	return n
}
