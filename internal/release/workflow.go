package release

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/rhysd/actionlint"
)

// Workflows lists the workflow files of the checkout at root.
func Workflows(root string) ([]string, error) {
	var out []string
	for _, pat := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, ".github", "workflows", pat))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	return out, nil
}

// Lint runs actionlint over the workflow files (with shellcheck over their
// scripts when shellcheck is given) and returns every problem found, one
// per line, or "" when there are none.
func Lint(files []string, shellcheck string) (string, error) {
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{Shellcheck: shellcheck, Oneline: true})
	if err != nil {
		return "", fmt.Errorf("actionlint: %w", err)
	}
	errs, err := l.LintFiles(files, nil)
	if err != nil {
		return "", fmt.Errorf("actionlint: %w", err)
	}
	if len(errs) == 0 {
		return "", nil
	}
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "%s:%d:%d: %s [%s]\n", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
	return b.String(), nil
}

// MageTargets returns the names `mage` accepts in the checkout at root
// (lower case, namespaced ones as "ns:target", aliases included), read
// from the magefile*.go sources with the mage build tag, each with its doc
// comment ("" for an alias).
func MageTargets(root string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(root, "magefile*.go"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no magefile*.go in %s", root)
	}
	fset := token.NewFileSet()
	targets := map[string]string{}
	namespaces := map[string]bool{}
	var methods []*ast.FuncDecl
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		if !hasMageTag(file) {
			continue
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					targets[strings.ToLower(d.Name.Name)] = d.Doc.Text()
				} else {
					methods = append(methods, d)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if sel, ok := s.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Namespace" {
							namespaces[s.Name.Name] = true
						}
					case *ast.ValueSpec:
						for i, n := range s.Names {
							if n.Name != "Aliases" || i >= len(s.Values) {
								continue
							}
							if cl, ok := s.Values[i].(*ast.CompositeLit); ok {
								for _, e := range cl.Elts {
									if kv, ok := e.(*ast.KeyValueExpr); ok {
										if lit, ok := kv.Key.(*ast.BasicLit); ok {
											targets[strings.ToLower(strings.Trim(lit.Value, "\"`"))] = ""
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	for _, m := range methods {
		recv := m.Recv.List[0].Type
		if st, ok := recv.(*ast.StarExpr); ok {
			recv = st.X
		}
		if id, ok := recv.(*ast.Ident); ok && namespaces[id.Name] {
			targets[strings.ToLower(id.Name+":"+m.Name.Name)] = m.Doc.Text()
		}
	}
	return targets, nil
}

func hasMageTag(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "//go:build") && strings.Contains(c.Text, "mage") {
				return true
			}
		}
	}
	return false
}

// mageCall finds `go run mage.go [flags] target...` or `mage [flags]
// target...` in a shell line.
var mageCall = regexp.MustCompile(`(?:\bgo run (?:\./)?mage\.go|(?:^|[\s;&|(])mage)((?:\s+[-\w:.=]+)+)`)

// WorkflowMageTargets returns every mage target the workflow's run steps
// name, with the line each is on.
func WorkflowMageTargets(path string) (map[string]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	wf, errs := actionlint.Parse(data)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", path, errs[0].Message)
	}
	out := map[string]int{}
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			run, ok := st.Exec.(*actionlint.ExecRun)
			if !ok || run.Run == nil {
				continue
			}
			for i, line := range strings.Split(run.Run.Value, "\n") {
				for _, m := range mageCall.FindAllStringSubmatch(line, -1) {
					for _, w := range strings.Fields(m[1]) {
						if strings.HasPrefix(w, "-") {
							continue
						}
						if strings.ContainsAny(w, "=") {
							break
						}
						out[strings.ToLower(w)] = run.Run.Pos.Line + 1 + i
					}
				}
			}
		}
	}
	return out, nil
}
