package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteJSON writes the releases as a JSON array, one object per release,
// in the order given.
func WriteJSON(w io.Writer, rs []Release) error {
	if rs == nil {
		rs = []Release{}
	}
	b, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the releases as an aligned text table.
func WriteTable(w io.Writer, rs []Release) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tGLIB\tGTHREAD\tMESON\tMESON BUNDLED\tPYTHON\tNINJA\tPIXMAN\tSLIRP\tFDT")
	for _, r := range rs {
		meson := r.MesonMin
		if meson == "" {
			meson = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Version, r.GlibMin, yesNo(r.GthreadChecked), meson, yesNo(r.MesonBundled),
			r.PythonMin, yesNo(r.NinjaRequired), r.PixmanMin, r.Slirp, orDash(r.Fdt))
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
