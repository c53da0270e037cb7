package xbuild

import (
	"reflect"
	"strconv"
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

func TestShippedTargetsLeaveOutTests(t *testing.T) {
	js := `[
 {"name": "qemu-img", "type": "executable", "filename": ["/b/build/qemu-img.exe"], "installed": true},
 {"name": "test-bitmap", "type": "executable", "filename": ["/b/build/tests/unit/test-bitmap.exe"], "installed": false},
 {"name": "qemu-system-x86_64", "type": "executable", "filename": ["/b/build/qemu-system-x86_64.exe"], "installed": true},
 {"name": "trace-events-all", "type": "custom", "filename": ["/b/build/trace/trace-events-all"], "installed": true},
 {"name": "qemu-system-x86_64w", "type": "executable", "filename": ["/b/build/qemu-system-x86_64w.exe"], "installed": true}
]`
	got, err := ShippedTargets([]byte(js), "/b/build")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"qemu-img.exe", "qemu-system-x86_64.exe", "qemu-system-x86_64w.exe", "trace/trace-events-all"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := ShippedTargets([]byte(`[{"name":"x","filename":["/elsewhere/x.exe"],"installed":true}]`), "/b/build"); err == nil {
		t.Error("a target outside the build folder accepted")
	}
	if _, err := ShippedTargets([]byte(`[]`), "/b/build"); err == nil {
		t.Error("no installed targets accepted")
	}
	if _, err := ShippedTargets([]byte(`not json`), "/b/build"); err == nil {
		t.Error("bad JSON accepted")
	}
}
