package debimage

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKeyFollowsTheRecipe(t *testing.T) {
	a := DefaultRecipe()
	b := DefaultRecipe()
	b.Packages = append([]string{b.Packages[len(b.Packages)-1]}, b.Packages[:len(b.Packages)-1]...)
	if a.Key() != b.Key() {
		t.Error("the package order changed the key")
	}
	c := DefaultRecipe()
	c.Packages = append(c.Packages, "vim")
	d := DefaultRecipe()
	d.Suite = "trixie"
	if a.Key() == c.Key() || a.Key() == d.Key() {
		t.Error("a different recipe has the same key")
	}
}

// The kernel links in the tree are absolute (/boot/vmlinuz-...): they must
// be followed inside the tree, never into the host's /boot.
func TestResolveInRoot(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "boot"), 0o755)
	os.WriteFile(filepath.Join(root, "boot", "vmlinuz-6.1"), []byte("kernel"), 0o644)
	os.Symlink("/boot/vmlinuz-6.1", filepath.Join(root, "vmlinuz"))
	os.Symlink("boot/vmlinuz-6.1", filepath.Join(root, "vmlinuz.rel"))
	for _, name := range []string{"vmlinuz", "vmlinuz.rel"} {
		p, err := resolveInRoot(root, name)
		if err != nil || p != filepath.Join(root, "boot", "vmlinuz-6.1") {
			t.Errorf("%s: %q %v", name, p, err)
		}
	}
	if _, err := resolveInRoot(root, "initrd.img"); err == nil {
		t.Error("a missing initrd was not reported")
	}
}

func TestCachedNeedsEveryFile(t *testing.T) {
	cache := t.TempDir()
	img, ok := Cached(cache, DefaultRecipe())
	if ok {
		t.Fatal("empty cache reported an image")
	}
	os.MkdirAll(img.Dir, 0o755)
	os.WriteFile(img.Disk, []byte("x"), 0o644)
	os.WriteFile(img.Kernel, []byte("x"), 0o644)
	if _, ok := Cached(cache, DefaultRecipe()); ok {
		t.Error("an image without its initrd counted as cached")
	}
	os.WriteFile(img.Initrd, []byte("x"), 0o644)
	if _, ok := Cached(cache, DefaultRecipe()); !ok {
		t.Error("a complete image was not found")
	}
}
