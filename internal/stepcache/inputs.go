package stepcache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"qemupack/internal/checksum"
)

// Input is one declared input of a step: a name and its value (a version,
// a command line, a file's sha256).
type Input struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Inputs are everything a cached result is made from. The key is a hash of
// them, so a result is found again exactly when every input is the same,
// and a changed input makes a new entry.
type Inputs struct {
	list []Input
	errs []string
}

// Add declares one input. A name given twice is an error Key reports.
func (in *Inputs) Add(name, value string) *Inputs {
	for _, i := range in.list {
		if i.Name == name {
			in.errs = append(in.errs, fmt.Sprintf("input %q declared twice", name))
		}
	}
	in.list = append(in.list, Input{Name: name, Value: value})
	return in
}

// AddList declares an input whose value is a list (kept in its order).
func (in *Inputs) AddList(name string, values []string) *Inputs {
	return in.Add(name, strings.Join(values, "\x1f"))
}

// AddFile declares a file's content (its sha256) as an input.
func (in *Inputs) AddFile(name, path string) error {
	sum, err := checksum.File(path)
	if err != nil {
		return fmt.Errorf("input %s: %w", name, err)
	}
	in.Add(name, "sha256:"+sum)
	return nil
}

// AddFiles declares several files as one input: each base name with its
// content's sha256, in the order given (patches apply in order).
func (in *Inputs) AddFiles(name string, paths []string) error {
	var parts []string
	for _, p := range paths {
		sum, err := checksum.File(p)
		if err != nil {
			return fmt.Errorf("input %s: %w", name, err)
		}
		parts = append(parts, baseName(p)+"="+sum)
	}
	in.AddList(name, parts)
	return nil
}

// Merge declares every input of other under prefix/ (a step that builds
// on another step's result inherits its inputs this way, or names the
// other result's key as one input).
func (in *Inputs) Merge(prefix string, other Inputs) *Inputs {
	for _, i := range other.list {
		in.Add(prefix+"/"+i.Name, i.Value)
	}
	in.errs = append(in.errs, other.errs...)
	return in
}

// List returns the inputs sorted by name.
func (in Inputs) List() []Input {
	out := append([]Input(nil), in.list...)
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Key is the hex sha256 of the inputs, independent of the order they were
// declared in.
func (in Inputs) Key() (string, error) {
	if len(in.errs) > 0 {
		return "", fmt.Errorf("step cache: %s", strings.Join(in.errs, "; "))
	}
	h := sha256.New()
	for _, i := range in.List() {
		fmt.Fprintf(h, "%d:%s=%d:%s\n", len(i.Name), i.Name, len(i.Value), i.Value)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
