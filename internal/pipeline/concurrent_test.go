//go:build !windows

package pipeline

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/checksum"
	"qemupack/internal/config"
	"qemupack/internal/stepcache"
	"qemupack/internal/xbuild"
)

// The small job: the real probe, deps and bundle steps over a checkout
// whose only recipe is a tiny DLL built with its own Makefile, and a build
// step that cross-compiles a "QEMU" program importing that DLL (the real
// build step needs a QEMU tree and ten minutes).
const helperEnv = "PIPELINE_SMALL_JOB" // <root>,<cache>,<dist>,<mirror>

const demoC = "__declspec(dllexport) int demo(void) { return 42; }\n"
const demoH = "int demo(void);\n"
const demoMakefile = "" +
	"libdemo-1.dll: demo.c demo.h\n\t$(CROSS)gcc -O2 -shared -o $@ demo.c -Wl,--out-implib,libdemo.dll.a -Wl,--no-insert-timestamp\n" +
	"install: libdemo-1.dll\n\tmkdir -p $(DEST)/bin $(DEST)/lib $(DEST)/include\n\tcp libdemo-1.dll $(DEST)/bin/\n\tcp libdemo.dll.a $(DEST)/lib/\n\tcp demo.h $(DEST)/include/\n"

// qemuC is the "QEMU" program of a version.
func qemuC(version string) string {
	return "#include <stdio.h>\n#include <demo.h>\nint main(void) { printf(\"QEMU emulator version " + version + " %d\\n\", demo()); return 0; }\n"
}

// smallCheckout makes a checkout with the demo recipe and a mirror folder
// holding its tarball.
func smallCheckout(t *testing.T) (root, mirror string) {
	root, mirror = t.TempDir(), t.TempDir()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{"demo-1.0/demo.c": demoC, "demo-1.0/demo.h": demoH, "demo-1.0/Makefile": demoMakefile, "demo-1.0/COPYING": "demo licence\n"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	sum := sha256.Sum256(buf.Bytes())
	os.WriteFile(filepath.Join(mirror, "demo-1.0.tar.gz"), buf.Bytes(), 0o644)
	rec, _ := json.Marshal(map[string]any{
		"name": "demo", "version": "1.0", "license": "MIT", "build": "make",
		"provides":   map[string]string{"demo": "1.0"},
		"sources":    []map[string]string{{"url": "https://example.invalid/demo-1.0.tar.gz", "file": "demo-1.0.tar.gz", "sha256": hex.EncodeToString(sum[:])}},
		"make_args":  []string{"CROSS={cross}", "DEST={prefix}"},
		"pkg_config": map[string]string{"module": "demo", "libs": "-L${libdir} -ldemo", "cflags": "-I${includedir}"},
		"link_test":  "#include <demo.h>\nint main(void) { return demo() == 42 ? 0 : 1; }\n",
		"link_libs":  []string{"demo"},
	})
	os.MkdirAll(filepath.Join(root, "recipes", "deps"), 0o755)
	os.WriteFile(filepath.Join(root, "recipes", "deps", "demo.json"), rec, 0o644)
	os.WriteFile(filepath.Join(root, "COPYING"), []byte("the QEMU licence stand-in\n"), 0o644)
	return root, mirror
}

// smallSteps are the small job's steps for a "QEMU" version: probe, deps,
// bundle and release are the real ones.
func smallSteps(version string) []Step {
	byName := map[string]Step{}
	for _, s := range Steps {
		byName[s.Name] = s
	}
	fakePick := Step{Name: "pick", Needs: []string{"probe"}, Doc: "x", Run: func(ctx context.Context, r *Run) error { return nil }}
	deps := byName["deps"]
	deps.Needs = []string{"pick"}
	build := Step{Name: "build", Needs: []string{"deps"}, Doc: "x", Run: func(ctx context.Context, r *Run) error { return smallBuild(ctx, r, version) }}
	bundle := byName["bundle"]
	release := byName["release"]
	release.Needs = []string{"bundle"}
	return []Step{byName["probe"], fakePick, deps, build, bundle, release}
}

// smallBuild compiles the "QEMU" program against the stack, as a step
// cache entry like the real build.
func smallBuild(ctx context.Context, r *Run, version string) error {
	var in stepcache.Inputs
	in.Add("program", qemuC(version))
	in.Add("stack", r.Deps.Dir)
	e, err := r.Cache.Do(ctx, xbuild.Kind, "qemu-"+version, in, stepcache.Options{}, func(ctx context.Context, tmp, final, work string) error {
		src := filepath.Join(work, "qemu.c")
		os.WriteFile(src, []byte(qemuC(version)), 0o644)
		os.MkdirAll(filepath.Join(tmp, "stage"), 0o755)
		out, err := exec.CommandContext(ctx, r.Config.CrossPrefix+"gcc", "-O2", "-o", filepath.Join(tmp, "stage", "qemu-system-x86_64.exe"), src,
			"-I"+filepath.Join(r.Deps.Dir, "include"), "-L"+filepath.Join(r.Deps.Dir, "lib"), "-ldemo", "-Wl,--no-insert-timestamp").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.hold(e)
	r.Build = xbuild.Result{StageDir: filepath.Join(e.Dir, "stage"), Version: version, Flavor: "upstream", SourceOrigin: "a test program",
		Exes: []string{"qemu-system-x86_64.exe"}, LicenseFiles: map[string]string{"QEMU": filepath.Join(r.Config.Root, "COPYING")}}
	r.Source.SourceURL, r.Source.SourceSHA256 = "https://example.invalid/qemu-"+version+".tar.xz", strings.Repeat("0", 64)
	return nil
}

// TestMain lets the test binary run the small job as its own process.
func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		p := strings.Split(spec, ",")
		env := map[string]string{config.EnvCache: p[1], config.EnvDist: p[2], config.EnvMirror: p[3], config.EnvOffline: "1", config.EnvJobs: "1"}
		cfg, err := config.FromEnv(p[0], func(k string) string { return env[k] })
		if err == nil {
			r := New(cfg, os.Stdout)
			r.Want = []string{"demo"}
			err = r.runSteps(context.Background(), smallSteps("0.0.1"), "bundle")
			r.Close()
			if err == nil {
				fmt.Printf("archive %s %s\n", r.Bundle.Archive.Path, r.Bundle.Archive.SHA256)
			}
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Two runs of the job started together on one cache and one dist/ both
// succeed and produce the same archive: each library, stack, build and
// archive is made once, the other run waits and takes it.
func TestTwoRunsOnOneCache(t *testing.T) {
	root, mirror := smallCheckout(t)
	cache, dist := t.TempDir(), t.TempDir()
	type out struct {
		lines []string
		err   error
	}
	outs := make([]chan out, 2)
	for i := range outs {
		outs[i] = make(chan out, 1)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join([]string{root, cache, dist, mirror}, ","))
		pipe, _ := cmd.StdoutPipe()
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func(c chan out) {
			var o out
			sc := bufio.NewScanner(pipe)
			for sc.Scan() {
				o.lines = append(o.lines, sc.Text())
			}
			o.err = cmd.Wait()
			c <- o
		}(outs[i])
	}
	var sums []string
	built := 0
	for i, c := range outs {
		o := <-c
		text := strings.Join(o.lines, "\n")
		if o.err != nil {
			t.Fatalf("run %d failed: %v\n%s", i, o.err, text)
		}
		last := o.lines[len(o.lines)-1]
		f := strings.Fields(last)
		if len(f) != 3 || f[0] != "archive" {
			t.Fatalf("run %d ended with %q\n%s", i, last, text)
		}
		sums = append(sums, f[2])
		if strings.Contains(text, "link test passed") {
			built++
		}
	}
	if sums[0] != sums[1] {
		t.Fatalf("the two runs made different archives: %s and %s", sums[0], sums[1])
	}
	if built != 1 {
		t.Errorf("the library was built %d times by two runs on one cache (want once)", built)
	}
	data, err := os.ReadFile(filepath.Join(dist, checksum.SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := checksum.Parse(data)["qemu-0.0.1-win64.zip"]; got != sums[0] {
		t.Fatalf("SHA256SUMS says %q, the archive is %s", got, sums[0])
	}
	if got, _ := checksum.File(filepath.Join(dist, "qemu-0.0.1-win64.zip")); got != sums[0] {
		t.Fatalf("dist's archive is %s, the runs made %s", got, sums[0])
	}
}

// A cache holding the builds of two versions: each run's release is made
// from the build that run made (before the pipeline, release took the
// newest build by modification time, and a cache hit does not touch it).
func TestReleaseUsesThisRunsBuild(t *testing.T) {
	root, mirror := smallCheckout(t)
	cache, dist := t.TempDir(), t.TempDir()
	env := map[string]string{config.EnvCache: cache, config.EnvDist: dist, config.EnvMirror: mirror, config.EnvOffline: "1", config.EnvJobs: "1"}
	cfg, err := config.FromEnv(root, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"0.0.1", "0.0.2", "0.0.1"} {
		r := New(cfg, nil)
		r.Want = []string{"demo"}
		r.Release.Zip = true
		err := r.runSteps(context.Background(), smallSteps(v), "release")
		r.Close()
		if err != nil {
			t.Fatalf("release of %s: %v", v, err)
		}
		for _, f := range []string{r.Outputs.Zip, r.Outputs.Installer, r.Outputs.SBOM} {
			if !strings.Contains(filepath.Base(f), "qemu-"+v+"-win64") {
				t.Fatalf("the run that built %s released %s", v, f)
			}
		}
		sbom, err := os.ReadFile(r.Outputs.SBOM)
		if err != nil || !strings.Contains(string(sbom), "qemu-"+v+".tar.xz") {
			t.Fatalf("the SBOM of %s does not name its source: %v", v, err)
		}
	}
}
