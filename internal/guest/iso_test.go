package guest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var isoTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func TestISOReadBack(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 300) // spans three sectors
	files := []ISOFile{{"user-data", []byte("#cloud-config\n")}, {"meta-data", []byte("instance-id: x\n")}, {"vendor-data", nil}, {"big.file", big}}
	var buf bytes.Buffer
	if err := WriteISO(&buf, "cidata", files, isoTime); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%2048 != 0 {
		t.Errorf("size %d is not whole sectors", buf.Len())
	}
	label, got, err := ReadISO(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if label != "cidata" {
		t.Errorf("label %q", label)
	}
	for _, f := range files {
		if g, ok := got[f.Name]; !ok || !bytes.Equal(g, f.Data) {
			t.Errorf("%s: got %q (present %v)", f.Name, g, ok)
		}
	}
	if len(got) != len(files) {
		t.Errorf("files %v", got)
	}
	// Same input, same bytes.
	var again bytes.Buffer
	WriteISO(&again, "cidata", files, isoTime)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two writes of the same input differ")
	}
}

func TestISORejects(t *testing.T) {
	var buf bytes.Buffer
	for name, c := range map[string]struct {
		label string
		files []ISOFile
	}{
		"no label":       {"", []ISOFile{{"a", nil}}},
		"long label":     {strings.Repeat("x", 17), []ISOFile{{"a", nil}}},
		"no files":       {"cidata", nil},
		"slash in name":  {"cidata", []ISOFile{{"a/b", nil}}},
		"duplicate name": {"cidata", []ISOFile{{"a", nil}, {"a", nil}}},
	} {
		if err := WriteISO(&buf, c.label, c.files, isoTime); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := ReadISO(make([]byte, 100)); err == nil {
		t.Error("ReadISO took 100 zero bytes")
	}
}

// isoinfo (genisoimage) and blkid (util-linux) are independent readers:
// what they see is what a guest's kernel and cloud-init will see.
func TestISOWithSystemTools(t *testing.T) {
	for tool, pkg := range map[string]string{"isoinfo": "genisoimage", "blkid": "util-linux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install the Debian package %s (`go run mage.go test` installs it as root)", tool, pkg)
		}
	}
	dir := t.TempDir()
	iso := filepath.Join(dir, "seed.iso")
	seed := Seed{MetaData: []byte("instance-id: iid-1\nlocal-hostname: h\n"), UserData: []byte("#cloud-config\nruncmd: [ [ true ] ]\n")}
	if err := WriteSeedISO(iso, seed, isoTime); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("blkid", "-p", "-o", "export", iso).CombinedOutput()
	if err != nil {
		t.Fatalf("blkid: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "LABEL=cidata") || !strings.Contains(string(out), "TYPE=iso9660") {
		t.Errorf("blkid sees:\n%s", out)
	}
	out, err = exec.Command("isoinfo", "-i", iso, "-J", "-f").CombinedOutput()
	if err != nil {
		t.Fatalf("isoinfo -f: %v\n%s", err, out)
	}
	if got := strings.Fields(string(out)); len(got) != 2 || got[0] != "/meta-data" || got[1] != "/user-data" {
		t.Errorf("isoinfo -J lists %q", got)
	}
	for name, want := range map[string][]byte{"meta-data": seed.MetaData, "user-data": seed.UserData} {
		got, err := exec.Command("isoinfo", "-i", iso, "-J", "-x", "/"+name).Output()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("isoinfo -x /%s: %q %v", name, got, err)
		}
	}
	// The primary (non-Joliet) tree is valid ISO 9660 too.
	out, err = exec.Command("isoinfo", "-i", iso, "-d").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Volume id: cidata") || !strings.Contains(string(out), "Joliet with UCS level 3") {
		t.Errorf("isoinfo -d: %v\n%s", err, out)
	}
	if _, err := os.Stat(iso); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
