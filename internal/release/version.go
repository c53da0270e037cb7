package release

import (
	"context"
	"path/filepath"
	"strings"

	"qemupack/internal/run"
)

// ToolVersion is `git describe` of the checkout, or "unknown" when the
// checkout is not a git work tree of its own. git must not look above it:
// reprocheck's copies sit inside the user's cache, and one inside the
// user's clone found that clone's commit while the other found nothing.
func ToolVersion(ctx context.Context, root string) string {
	env := run.Environ("GIT_CEILING_DIRECTORIES=" + filepath.Dir(filepath.Clean(root)))
	v, err := run.Output(ctx, run.Cmd{Args: []string{"git", "-C", root, "describe", "--always", "--dirty"}, Env: env})
	if err != nil || strings.TrimSpace(v) == "" {
		return "unknown"
	}
	return strings.TrimSpace(v)
}
