package installer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"qemupack/internal/sign"
	"qemupack/internal/testbin"
)

// stage makes a staging folder like the bundle's: the program at the top,
// data files in nested folders, one with characters NSIS treats specially.
func stage(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stage")
	testbin.Build(t, dir)
	for name, text := range map[string]string{
		"share/keymaps/en-us":        "include common\n",
		"share/firmware $dollar.txt": "a file whose name has a $ in it\n",
		"COPYING":                    "licence text\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func options(stageDir, out string) Options {
	return Options{
		StageDir:  stageDir,
		OutFile:   out,
		Name:      "QEMU",
		Version:   "1.0.0",
		Shortcuts: []Shortcut{{Name: "hello", Target: "hello.exe", Args: "-version"}},
	}
}

func TestScriptListsEveryFileAndRemovesOnlyThose(t *testing.T) {
	files := []string{"COPYING", "hello.exe", "share/keymaps/en-us", "share/x $y.txt"}
	s, err := Script(options("/stage", ""), files, "/out/setup.exe")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`File "/stage/share/keymaps/en-us"`,
		`Delete "$INSTDIR\share\keymaps\en-us"`,
		`Delete "$INSTDIR\share\x $$y.txt"`,
		`RMDir "$INSTDIR\share\keymaps"`,
		`SetOutPath "$INSTDIR\share\keymaps"`,
		`CreateShortcut "$SMPROGRAMS\QEMU 1.0.0\hello.lnk" "$INSTDIR\hello.exe" "-version"`,
		`VIProductVersion "1.0.0.0"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "RMDir /r") {
		t.Errorf("the uninstaller must not remove folders recursively (it would delete the user's files):\n%s", s)
	}
	// Deepest folder removed before its parent.
	if i, j := strings.Index(s, `RMDir "$INSTDIR\share\keymaps"`), strings.Index(s, `RMDir "$INSTDIR\share"`); i < 0 || j < 0 || i > j {
		t.Errorf("folders not removed deepest first:\n%s", s)
	}
	again, _ := Script(options("/stage", ""), files, "/out/setup.exe")
	if again != s {
		t.Error("the same inputs gave two different scripts")
	}
}

func TestScriptBadInput(t *testing.T) {
	o := options("/stage", "")
	if _, err := Script(o, []string{"COPYING"}, "/o.exe"); err == nil || !strings.Contains(err.Error(), "hello.exe") {
		t.Errorf("shortcut to a missing program: got %v", err)
	}
	if _, err := Script(o, []string{"hello.exe", "uninstall.exe"}, "/o.exe"); err == nil {
		t.Error("a staged uninstall.exe was accepted")
	}
	if _, err := Script(o, []string{"hello.exe", "../evil"}, "/o.exe"); err == nil {
		t.Error("a path outside the install folder was accepted")
	}
	o.Version = ""
	if _, err := Script(o, []string{"hello.exe"}, "/o.exe"); err == nil {
		t.Error("a missing version was accepted")
	}
}

func TestBuildWithoutMakensis(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "dist", "setup.exe")
	o := options(stage(t), out)
	o.Makensis = "makensis-that-does-not-exist"
	err := Build(context.Background(), o)
	if !errors.Is(err, ErrNoMakensis) || !strings.Contains(err.Error(), "apt-get install nsis") {
		t.Fatalf("want a makensis-missing error with the install command, got %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an installer was left at %s", out)
	}
}

func TestBuildFinalizeErrorLeavesNothing(t *testing.T) {
	requireMakensis(t)
	dist := filepath.Join(t.TempDir(), "dist")
	o := options(stage(t), filepath.Join(dist, "setup.exe"))
	o.Finalize = func(context.Context, string) error { return errors.New("signing refused") }
	if err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), "signing refused") {
		t.Fatalf("want the finalize error, got %v", err)
	}
	left, _ := os.ReadDir(dist)
	if len(left) != 0 {
		t.Errorf("dist/ holds %v after a failed build; want nothing", left)
	}
}

func requireMakensis(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("makensis"); err != nil {
		t.Fatalf("makensis not found: %s", MakensisHint())
	}
}

// TestInstallRoundTripUnderWine builds a real installer, installs it
// silently into an empty folder of a fresh wine prefix, runs the installed
// program, then uninstalls and checks that exactly the installed files and
// Start-menu entries are gone and a file the user added is kept.
func TestInstallRoundTripUnderWine(t *testing.T) {
	requireMakensis(t)
	dir := t.TempDir()
	stageDir := stage(t)
	out := filepath.Join(dir, "dist", "qemu-1.0.0-setup.exe")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := Build(ctx, options(stageDir, out)); err != nil {
		t.Fatal(err)
	}
	// Same inputs, same installer.
	out2 := filepath.Join(dir, "again", "setup.exe")
	if err := Build(ctx, options(stageDir, out2)); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Errorf("two builds from the same staging folder differ (%d and %d bytes)", len(a), len(b))
	}

	// The installer used below is signed, and so is the uninstaller
	// makensis generates inside it.
	cert := testbin.CodeSigningCert(t, dir, "pw")
	signer := &sign.Signer{PFX: cert.PFX, Password: cert.Password}
	signCmd, cleanup, err := signer.Command()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	so := options(stageDir, filepath.Join(dir, "signed", "qemu-1.0.0-setup.exe"))
	so.SignUninstaller = signCmd
	so.Finalize = func(ctx context.Context, p string) error { return signer.Files(ctx, []string{p}) }
	if err := Build(ctx, so); err != nil {
		t.Fatal(err)
	}
	out = so.OutFile
	if err := sign.Verify(ctx, out, cert.CertPEM); err != nil {
		t.Error(err)
	}

	env, prefix := testbin.Wine(t, dir)
	wine := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "wine", args...)
		cmd.Env = env
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Run(); err != nil {
			t.Fatalf("wine %s: %v\n%s%s", strings.Join(args, " "), err, so.String(), se.String())
		}
		// Wait for every process of the prefix (an uninstaller re-runs
		// itself from %TEMP% and the first process returns at once).
		w := exec.CommandContext(ctx, "wineserver", "-w")
		w.Env = env
		if err := w.Run(); err != nil {
			t.Fatalf("wineserver -w: %v", err)
		}
		return so.String()
	}
	t.Cleanup(func() {
		k := exec.Command("wineserver", "-k")
		k.Env = env
		k.Run()
	})

	instWin := `C:\users\Public\inst\QEMU`
	inst := filepath.Join(prefix, "drive_c", "users", "Public", "inst", "QEMU")
	if err := os.MkdirAll(inst, 0o755); err != nil { // an empty folder the user picked
		t.Fatal(err)
	}
	wine(out, "/S", "/D="+instWin)

	got := listFiles(t, inst)
	want, _ := Files(stageDir)
	want = append(want, UninstallerName)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("installed files:\n%v\nwant:\n%v", got, want)
	}
	if err := sign.Verify(ctx, filepath.Join(inst, UninstallerName), cert.CertPEM); err != nil {
		t.Errorf("the installed uninstaller: %v", err)
	}
	if o := wine(instWin + `\hello.exe`); !strings.Contains(o, testbin.Greeting) {
		t.Fatalf("installed hello.exe printed %q, want %q", o, testbin.Greeting)
	}
	links, _ := filepath.Glob(filepath.Join(prefix, "drive_c", "users", "*", "AppData", "Roaming", "Microsoft", "Windows", "Start Menu", "Programs", "QEMU 1.0.0", "*.lnk"))
	if len(links) != 2 {
		t.Fatalf("Start-menu entries: %v, want hello.lnk and the uninstaller's", links)
	}

	mine := filepath.Join(inst, "share", "my-notes.txt")
	if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	wine(instWin+`\`+UninstallerName, "/S")

	if left := listFiles(t, inst); strings.Join(left, ",") != "share/my-notes.txt" {
		t.Errorf("after uninstall the folder holds %v; want only the user's share/my-notes.txt", left)
	}
	if err := os.Remove(mine); err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if _, err := os.Stat(l); !os.IsNotExist(err) {
			t.Errorf("Start-menu entry %s left after uninstall", l)
		}
	}
	if _, err := os.Stat(filepath.Dir(links[0])); !os.IsNotExist(err) {
		t.Errorf("Start-menu folder %s left after uninstall", filepath.Dir(links[0]))
	}

	// A second install into the folder (now with only an empty share/)
	// and an uninstall leave it with nothing at all.
	wine(out, "/S", "/D="+instWin)
	wine(instWin+`\`+UninstallerName, "/S")
	if _, err := os.Stat(inst); !os.IsNotExist(err) {
		t.Errorf("install folder %s still there after uninstall (holds %v)", inst, listFiles(t, inst))
	}
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}
