package config

import (
	"strings"
	"testing"

	"qemupack/internal/profile"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := FromEnv("/tmp/x", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.CacheDir != "/tmp/x/.cache" || c.DistDir != "/tmp/x/dist" || c.CrossPrefix != "x86_64-w64-mingw32-" ||
		c.Python != "python3" || c.Deps != DepsAuto || c.Profile != profile.Default ||
		c.Jobs < 1 || c.SourceDateEpoch != -1 || c.Constraint != nil {
		t.Errorf("defaults: %+v", c)
	}
}

func TestProfileChoosesTheTargets(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{EnvProfile: "desk"}, "x86_64-softmmu aarch64-softmmu"},
		{map[string]string{EnvProfile: "headless"}, "x86_64-softmmu"},
		{map[string]string{EnvProfile: "headless", EnvTargets: "riscv64-softmmu, x86_64-softmmu"}, "riscv64-softmmu x86_64-softmmu"},
		{map[string]string{EnvTargets: "all"}, "all"},
	} {
		c, err := FromEnv("/tmp", env(tc.env))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.Targets, " "); got != tc.want {
			t.Errorf("%v: targets %q, want %q", tc.env, got, tc.want)
		}
	}
	_, err := FromEnv("/tmp", env(map[string]string{EnvProfile: "gui", EnvTargets: "all,x86_64-softmmu"}))
	if err == nil || !strings.Contains(err.Error(), `QEMUPACK_PROFILE="gui"`) || !strings.Contains(err.Error(), "stands alone") {
		t.Errorf("bad profile and targets: %v", err)
	}
}

func TestConstraint(t *testing.T) {
	c, err := FromEnv("/tmp", env(map[string]string{EnvVersion: ">= 6.0, < 7"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Constraint.String() != ">= 6.0, < 7" {
		t.Errorf("constraint %q", c.Constraint)
	}
}

func TestBadValuesAllReported(t *testing.T) {
	_, err := FromEnv("/tmp", env(map[string]string{
		EnvVersion: "seven", EnvJobs: "0", EnvDeps: "apt", EnvFormat: "xml", EnvOffline: "maybe", EnvEpoch: "-4",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"QEMU_VERSION=\"seven\"", "JOBS=\"0\"", "QEMUPACK_DEPS=\"apt\"", "QEMUPACK_FORMAT=\"xml\"", "QEMUPACK_OFFLINE=\"maybe\"", "SOURCE_DATE_EPOCH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s:\n%v", want, err)
		}
	}
}

func TestEveryBadVMSettingAtOnce(t *testing.T) {
	bad := map[string]string{"QEMUPACK_VM_CPUS": "two", "QEMUPACK_VM_MEM": "10", "QEMUPACK_VM_RESTRICT": "maybe", "QEMUPACK_VM_SEED": "floppy", "QEMUPACK_VM_ACCEL": "xen", "QEMUPACK_VM_TIMEOUT": "soon", "QEMUPACK_VM_DOWN_TIMEOUT": "-1s"}
	_, err := FromEnv(t.TempDir(), env(bad))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for k := range bad {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s: %v", k, err)
		}
	}
}
