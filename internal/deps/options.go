package deps

import (
	"path/filepath"
	"strings"
)

// expandOptions replaces {dep:NAME} in a recipe's options with the prefix
// of its dependency NAME (as LinkPath writes it; the host sysroot for a
// library the host has), for a configure script that wants a tool of a
// dependency by path: libgcrypt's wants libgpg-error's gpgrt-config. A
// NAME that is not a dependency of the recipe is left as it is, so the
// build fails on it visibly.
func expandOptions(j *job, opts []string) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		for _, d := range j.deps {
			o = strings.ReplaceAll(o, "{dep:"+d.Name+"}", LinkPath(filepath.ToSlash(d.Prefix)))
		}
		out[i] = o
	}
	return out
}
