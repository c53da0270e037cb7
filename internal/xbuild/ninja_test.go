package xbuild

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProgressIsThrottled(t *testing.T) {
	now := time.Unix(1000, 0)
	var printed []string
	p := &Progress{Every: 5 * time.Second, Print: func(s string) { printed = append(printed, s) }, Now: func() time.Time { return now }}
	p.Line("ninja: Entering directory `.'")
	p.Line("[1/300] Generating trace-events-all with a custom command")
	for i := 2; i < 300; i++ {
		now = now.Add(100 * time.Millisecond)
		p.Line("[" + strconv.Itoa(i) + "/300] Compiling C object libqemuutil.a.p/util_osdep.c.obj")
	}
	p.Line("warning: something unrelated")
	now = now.Add(time.Second)
	p.Line("[300/300] Linking target qemu-system-x86_64.exe")
	// 298 steps 0.1 s apart: one line at the start, one every 5 s, the last.
	if len(printed) < 5 || len(printed) > 9 {
		t.Errorf("printed %d lines: %q", len(printed), printed)
	}
	if printed[0] != "[1/300] Generating trace-events-all with a custom command" || printed[len(printed)-1] != "[300/300] Linking target qemu-system-x86_64.exe" {
		t.Errorf("first/last: %q / %q", printed[0], printed[len(printed)-1])
	}
	if p.Done != 300 || p.Tot != 300 {
		t.Errorf("counted %d/%d", p.Done, p.Tot)
	}
}

// The excerpt is real `meson introspect --targets` output of QEMU 7.2.22
// configured for x86_64-softmmu: every installed target plus some unit
// tests and generated headers that are not installed.
func TestShippedTargetsLeaveOutTests(t *testing.T) {
	js, err := os.ReadFile("../../testdata/xbuild/meson-introspect-targets-7.2.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ShippedTargets(js, "/work/cache/build/7.2.22-0004d45de7ec5acc/build/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"qemu-edid.exe", "qemu-img.exe", "qemu-io.exe", "qemu-nbd.exe", "qemu-system-x86_64.exe",
		"storage-daemon/qemu-storage-daemon.exe", "trace/trace-events-all"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, g := range got {
		if strings.Contains(g, "test-") {
			t.Errorf("a unit test is built: %s", g)
		}
	}
	if _, err := ShippedTargets(js, "/elsewhere/build"); err == nil {
		t.Error("targets outside the build folder accepted")
	}
	if _, err := ShippedTargets([]byte(`[]`), "/b/build"); err == nil {
		t.Error("no installed targets accepted")
	}
	if _, err := ShippedTargets([]byte(`not json`), "/b/build"); err == nil {
		t.Error("bad JSON accepted")
	}
}
