package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteJSON writes the releases as a JSON array, one object per release,
// in the order given: what each requires, "inherits" when those values
// come from another release of its series, "upstream" with how its
// tarball is verified. A release whose requirements are unknown shows
// "requirements_unknown" and no requirement values.
func WriteJSON(w io.Writer, rs []Release) error {
	out := make([]any, 0, len(rs))
	for _, r := range rs {
		if r.Unknown != "" {
			out = append(out, struct {
				storedEntry
				Upstream *Upstream `json:"upstream,omitempty"`
			}{storedEntry{Version: r.Version, Unknown: r.Unknown, Source: r.Source, URL: r.URL, SHA256: r.SHA256}, r.Upstream})
			continue
		}
		out = append(out, r)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the releases as an aligned text table. INHERITS names
// the release whose requirements an entry takes (its own files were not
// read); UPSTREAM says what verifies its upstream tarball.
func WriteTable(w io.Writer, rs []Release) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tGLIB\tGTHREAD\tMESON\tMESON BUNDLED\tPYTHON\tNINJA\tPIXMAN\tSLIRP\tFDT\tINHERITS\tUPSTREAM")
	for _, r := range rs {
		up := "-"
		if r.Upstream != nil {
			up = r.Upstream.VerifiedBy
		} else if r.SHA256 != "" {
			up = "sha256"
		}
		if r.Unknown != "" {
			fmt.Fprintf(tw, "%s\t?\t?\t?\t?\t?\t?\t?\t?\t?\tunknown\t%s\n", r.Version, up)
			continue
		}
		meson := r.MesonMin
		if meson == "" {
			meson = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Version, r.GlibMin, yesNo(r.GthreadChecked), meson, yesNo(r.MesonBundled),
			r.PythonMin, yesNo(r.NinjaRequired), r.PixmanMin, r.Slirp, orDash(r.Fdt), orDash(r.Inherits), up)
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
