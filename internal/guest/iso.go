package guest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf16"

	"qemupack/internal/atomicfile"
)

// An ISO 9660 image with a Joliet tree, enough for a NoCloud seed: a few
// small files in the root folder. The primary tree has 8.3 upper-case names
// (META_DAT.;1) as the standard demands; the Joliet tree carries the real
// names (meta-data), which is what Linux and Windows show when they mount
// it. The volume label is what cloud-init looks for: cidata.

const sector = 2048

// ISOFile is one file in the root folder of the image.
type ISOFile struct {
	Name string // the real name (Joliet), e.g. "meta-data"
	Data []byte
}

// WriteISO writes an ISO 9660 + Joliet image with the given volume label
// and files (all in the root folder) to w. t stamps every date, so the same
// input gives the same bytes.
func WriteISO(w io.Writer, label string, files []ISOFile, t time.Time) error {
	if label == "" || len(label) > 16 {
		return fmt.Errorf("iso: volume label %q must be 1-16 characters", label)
	}
	if len(files) == 0 || len(files) > 30 {
		return fmt.Errorf("iso: %d files: give 1-30 (they must fit one directory sector)", len(files))
	}
	seen := map[string]bool{}
	short := map[string]bool{}
	type entry struct {
		ISOFile
		primary string // 8.3 name with ;1
		joliet  []byte // UCS-2 BE, the name as it is (no ;1: Joliet does not need it)
		extent  uint32
	}
	entries := make([]*entry, 0, len(files))
	for _, f := range files {
		if f.Name == "" || len(f.Name) > 60 || strings.ContainsAny(f.Name, "/\\;:*?\"<>|\x00") {
			return fmt.Errorf("iso: file name %q: use up to 60 characters, no / \\ ; : * ? \" < > |", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("iso: file %q given twice", f.Name)
		}
		seen[f.Name] = true
		p := primaryName(f.Name)
		for i := 1; short[p]; i++ {
			p = primaryName(fmt.Sprintf("%s%d", f.Name, i))
		}
		short[p] = true
		entries = append(entries, &entry{ISOFile: f, primary: p, joliet: ucs2(f.Name)})
	}

	// Layout: 16 system sectors, PVD, Joliet SVD, terminator, four path
	// tables, two root folders, then the files.
	const (
		pvdLBA    = 16
		svdLBA    = 17
		termLBA   = 18
		lPathPri  = 19
		mPathPri  = 20
		lPathJol  = 21
		mPathJol  = 22
		rootPri   = 23
		rootJol   = 24
		firstData = 25
	)
	next := uint32(firstData)
	for _, e := range entries {
		e.extent = next
		next += uint32((len(e.Data) + sector - 1) / sector)
		if len(e.Data) == 0 {
			e.extent = 0 // an empty file has no extent
		}
	}
	total := next

	img := make([]byte, int(total)*sector)
	put := func(lba uint32, b []byte) { copy(img[int(lba)*sector:], b) }

	// Root folders.
	byPri := append([]*entry(nil), entries...)
	sort.Slice(byPri, func(i, j int) bool { return byPri[i].primary < byPri[j].primary })
	var dirPri bytes.Buffer
	dirPri.Write(dirRecord([]byte{0}, rootPri, sector, true, t))
	dirPri.Write(dirRecord([]byte{1}, rootPri, sector, true, t))
	for _, e := range byPri {
		dirPri.Write(dirRecord([]byte(e.primary), e.extent, uint32(len(e.Data)), false, t))
	}
	byJol := append([]*entry(nil), entries...)
	sort.Slice(byJol, func(i, j int) bool { return bytes.Compare(byJol[i].joliet, byJol[j].joliet) < 0 })
	var dirJol bytes.Buffer
	dirJol.Write(dirRecord([]byte{0}, rootJol, sector, true, t))
	dirJol.Write(dirRecord([]byte{1}, rootJol, sector, true, t))
	for _, e := range byJol {
		dirJol.Write(dirRecord(e.joliet, e.extent, uint32(len(e.Data)), false, t))
	}
	if dirPri.Len() > sector || dirJol.Len() > sector {
		return errors.New("iso: the root folder does not fit one sector; use fewer or shorter names")
	}
	put(rootPri, dirPri.Bytes())
	put(rootJol, dirJol.Bytes())

	// Path tables: the root only.
	pathTable := func(extent uint32, big bool) []byte {
		b := make([]byte, 10)
		b[0] = 1 // length of the identifier
		if big {
			binary.BigEndian.PutUint32(b[2:], extent)
			binary.BigEndian.PutUint16(b[6:], 1)
		} else {
			binary.LittleEndian.PutUint32(b[2:], extent)
			binary.LittleEndian.PutUint16(b[6:], 1)
		}
		return b // identifier 0x00 and a pad byte are already zero
	}
	put(lPathPri, pathTable(rootPri, false))
	put(mPathPri, pathTable(rootPri, true))
	put(lPathJol, pathTable(rootJol, false))
	put(mPathJol, pathTable(rootJol, true))

	// Volume descriptors.
	put(pvdLBA, volumeDescriptor(1, label, total, lPathPri, mPathPri, rootPri, t, false))
	put(svdLBA, volumeDescriptor(2, label, total, lPathJol, mPathJol, rootJol, t, true))
	term := make([]byte, 7)
	term[0] = 255
	copy(term[1:], "CD001")
	term[6] = 1
	put(termLBA, term)

	for _, e := range entries {
		if len(e.Data) > 0 {
			put(e.extent, e.Data)
		}
	}
	_, err := w.Write(img)
	if err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	return nil
}

// WriteSeedISO writes the seed as a cidata ISO at path, atomically.
func WriteSeedISO(path string, s Seed, t time.Time) error {
	var buf bytes.Buffer
	if err := WriteISO(&buf, "cidata", []ISOFile{{"meta-data", s.MetaData}, {"user-data", s.UserData}}, t); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

// primaryName makes an ISO 9660 level 1 name: 8.3, upper-case d-characters.
func primaryName(name string) string {
	clean := func(s string, n int) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			if b.Len() == n {
				break
			}
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i+1:]
	}
	return clean(base, 8) + "." + clean(ext, 3) + ";1"
}

func ucs2(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.BigEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func both16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}

func both32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}

func dirRecord(id []byte, extent, size uint32, dir bool, t time.Time) []byte {
	n := 33 + len(id)
	if n%2 == 1 {
		n++
	}
	b := make([]byte, n)
	b[0] = byte(n)
	both32(b[2:], extent)
	both32(b[10:], size)
	u := t.UTC()
	b[18] = byte(u.Year() - 1900)
	b[19] = byte(u.Month())
	b[20] = byte(u.Day())
	b[21] = byte(u.Hour())
	b[22] = byte(u.Minute())
	b[23] = byte(u.Second())
	b[24] = 0 // UTC
	if dir {
		b[25] = 2
	}
	both16(b[28:], 1)
	b[32] = byte(len(id))
	copy(b[33:], id)
	return b
}

func volumeDescriptor(typ byte, label string, total, lPath, mPath, root uint32, t time.Time, joliet bool) []byte {
	b := make([]byte, sector)
	b[0] = typ
	copy(b[1:], "CD001")
	b[6] = 1
	text := func(off, n int, s string) {
		if joliet {
			u := ucs2(s)
			for i := 0; i+1 < n; i += 2 {
				if i < len(u) {
					b[off+i], b[off+i+1] = u[i], u[i+1]
				} else {
					b[off+i], b[off+i+1] = 0, ' '
				}
			}
			return
		}
		for i := 0; i < n; i++ {
			if i < len(s) {
				b[off+i] = s[i]
			} else {
				b[off+i] = ' '
			}
		}
	}
	text(8, 32, "")
	text(40, 32, label)
	both32(b[80:], total)
	if joliet {
		copy(b[88:], "%/E") // UCS-2 level 3
	}
	both16(b[120:], 1)
	both16(b[124:], 1)
	both16(b[128:], sector)
	both32(b[132:], 10)
	binary.LittleEndian.PutUint32(b[140:], lPath)
	binary.BigEndian.PutUint32(b[148:], mPath)
	copy(b[156:], dirRecord([]byte{0}, root, sector, true, t))
	text(190, 128, "")
	text(318, 128, "")
	text(446, 128, "")
	text(574, 128, "QEMUPACK")
	text(702, 37, "")
	text(739, 37, "")
	text(776, 37, "")
	stamp := []byte(t.UTC().Format("20060102150405") + "00")
	copy(b[813:], stamp)
	copy(b[830:], stamp)
	copy(b[847:], "0000000000000000")
	copy(b[864:], stamp)
	b[881] = 1
	return b
}

// ReadISO reads back an image WriteISO made (or any ISO 9660 image whose
// files sit in the root folder): the volume label and the files of the
// Joliet tree when there is one, else of the primary tree.
func ReadISO(img []byte) (label string, files map[string][]byte, err error) {
	if len(img) < 19*sector {
		return "", nil, fmt.Errorf("iso: %d bytes is too short for an ISO 9660 image", len(img))
	}
	var pvd, svd []byte
	for lba := 16; (lba+1)*sector <= len(img); lba++ {
		d := img[lba*sector : (lba+1)*sector]
		if string(d[1:6]) != "CD001" {
			return "", nil, fmt.Errorf("iso: sector %d is not a volume descriptor", lba)
		}
		if d[0] == 255 {
			break
		}
		if d[0] == 1 && pvd == nil {
			pvd = d
		}
		if d[0] == 2 && bytes.HasPrefix(d[88:], []byte("%/")) {
			svd = d
		}
	}
	if pvd == nil {
		return "", nil, errors.New("iso: no primary volume descriptor")
	}
	vd, joliet := pvd, false
	if svd != nil {
		vd, joliet = svd, true
	}
	decode := func(b []byte) string {
		if !joliet {
			return strings.TrimRight(string(b), " ")
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(b[2*i:])
		}
		return strings.TrimRight(string(utf16.Decode(u)), " ")
	}
	label = decode(vd[40:72])
	rootRec := vd[156:190]
	extent := binary.LittleEndian.Uint32(rootRec[2:])
	size := binary.LittleEndian.Uint32(rootRec[10:])
	if int(extent)*sector+int(size) > len(img) {
		return "", nil, errors.New("iso: root folder lies outside the image")
	}
	dir := img[int(extent)*sector : int(extent)*sector+int(size)]
	files = map[string][]byte{}
	for off := 0; off < len(dir); {
		n := int(dir[off])
		if n == 0 { // rest of the sector is padding
			off = (off/sector + 1) * sector
			continue
		}
		if off+n > len(dir) || n < 34 {
			return "", nil, fmt.Errorf("iso: bad folder record at offset %d", off)
		}
		rec := dir[off : off+n]
		off += n
		idLen := int(rec[32])
		id := rec[33 : 33+idLen]
		if idLen == 1 && (id[0] == 0 || id[0] == 1) {
			continue
		}
		if rec[25]&2 != 0 {
			continue // sub-folders are not part of a seed
		}
		name := decode(id)
		name = strings.TrimSuffix(name, ";1")
		name = strings.TrimSuffix(name, ".")
		fe := binary.LittleEndian.Uint32(rec[2:])
		fs := binary.LittleEndian.Uint32(rec[10:])
		if int(fe)*sector+int(fs) > len(img) {
			return "", nil, fmt.Errorf("iso: file %s lies outside the image", name)
		}
		files[name] = img[int(fe)*sector : int(fe)*sector+int(fs)]
	}
	return label, files, nil
}
