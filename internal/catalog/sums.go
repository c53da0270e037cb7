package catalog

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// SumsFile lists known sha256 sums of upstream release tarballs, relative
// to the checkout, in sha256sum's format ("HASH  qemu-X.Y.Z.tar.xz";
// lines starting with # are comments saying where each sum was read).
const SumsFile = "recipes/qemu-release-sums.txt"

// LoadSums reads a sums file into version -> sha256. A missing file is no
// sums; a malformed line is an error naming the line.
func LoadSums(path string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("release sums: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || !reSHA256.MatchString(fields[0]) {
			return nil, fmt.Errorf("release sums %s:%d: want \"<64 hex digits>  qemu-X.Y.Z.tar.xz\", got %q", path, n, line)
		}
		m := reUpstreamTarball.FindStringSubmatch(strings.TrimPrefix(fields[1], "*"))
		if m == nil || m[2] != "xz" {
			return nil, fmt.Errorf("release sums %s:%d: %q is not a qemu-X.Y.Z.tar.xz name", path, n, fields[1])
		}
		if prev, ok := out[m[1]]; ok && prev != fields[0] {
			return nil, fmt.Errorf("release sums %s:%d: two different sums for qemu %s", path, n, m[1])
		}
		out[m[1]] = fields[0]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("release sums %s: %w", path, err)
	}
	return out, nil
}
