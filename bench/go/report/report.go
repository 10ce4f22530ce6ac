// Package report turns the raw result lines of make bench-article (from
// articlebench, bench-article and its callgrind runs) into the comparison
// table: article.tsv, the chart, the printed table, and the generated section
// of docs/bench.md with a verdict on each claim of the article's table.
//
// A raw line is tab-separated key=value fields, the first being variant=NAME.
// Lines of one variant (its runs, and its instruction count) are merged: each
// number is the median of the lines that have it (the lower middle one for an
// even count, so it is always a measured value).
package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Columns is article.tsv's header, in order.
var Columns = []string{"variant", "ns_per_op", "alloc_bytes", "gcs", "article_ns_per_op", "article_alloc_bytes", "article_gcs"}

// Claim is one row of the article's table (section 2.5): 100k keys, 10M
// operations, Go 1.22. "800KB" and "1.2MB" are read as 800000 and 1200000 bytes.
type Claim struct {
	Variant string
	NsPerOp float64
	Bytes   float64
	GCs     float64
}

// Claims are the article's rows; they are article.tsv's first three rows.
var Claims = []Claim{
	{"map[string]func()", 2.1, 0, 0},
	{"map[string]*func()", 4.7, 800000, 3},
	{"sync.Map", 18.9, 1200000, 5},
}

// Row is one variant's merged results.
type Row struct {
	Variant     string
	Lang        string // "go", "c", "c++"; empty when nothing was measured
	AllocSource string
	Runs        int // lines with ns_per_op
	num         map[string][]float64
}

// Has reports whether key was measured.
func (r *Row) Has(key string) bool { return len(r.num[key]) > 0 }

// Get returns key's median, or 0 when it was not measured.
func (r *Row) Get(key string) float64 {
	v := r.num[key]
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[(len(s)-1)/2]
}

// Results are the merged rows in first-seen order.
type Results struct {
	Rows  []*Row
	index map[string]*Row
}

// Row returns the variant's row, or nil.
func (rs *Results) Row(variant string) *Row { return rs.index[variant] }

func (rs *Results) add(variant string) *Row {
	if rs.index == nil {
		rs.index = map[string]*Row{}
	}
	r := rs.index[variant]
	if r == nil {
		r = &Row{Variant: variant, num: map[string][]float64{}}
		rs.index[variant] = r
		rs.Rows = append(rs.Rows, r)
	}
	return r
}

// text fields; every other field must be a number.
var textFields = map[string]bool{"variant": true, "lang": true, "alloc_source": true, "churn": true}

// Parse reads raw lines from in (name is used in errors) into rs. Blank lines
// and lines starting with '#' are skipped.
func (rs *Results) Parse(in io.Reader, name string) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		kv := map[string]string{}
		var order []string
		for _, f := range fields {
			k, v, ok := strings.Cut(f, "=")
			if !ok || k == "" {
				return fmt.Errorf("%s:%d: field %q is not key=value", name, line, f)
			}
			if _, dup := kv[k]; dup {
				return fmt.Errorf("%s:%d: field %q given twice", name, line, k)
			}
			kv[k] = v
			order = append(order, k)
		}
		if order[0] != "variant" || kv["variant"] == "" {
			return fmt.Errorf("%s:%d: a line must start with variant=NAME", name, line)
		}
		r := rs.add(kv["variant"])
		for _, k := range order {
			v := kv[k]
			switch {
			case k == "lang":
				r.Lang = v
			case k == "alloc_source":
				r.AllocSource = v
			case textFields[k]:
				if k == "churn" && v != "true" && v != "false" {
					return fmt.Errorf("%s:%d: churn=%q is not true or false", name, line, v)
				}
			default:
				x, err := strconv.ParseFloat(v, 64)
				if err != nil || x != x {
					return fmt.Errorf("%s:%d: %s=%q is not a number", name, line, k, v)
				}
				r.num[k] = append(r.num[k], x)
				if k == "ns_per_op" {
					r.Runs++
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}

// Ordered returns the rows of article.tsv: the article's three variants first
// (measured or not), then every other measured row in first-seen order.
func (rs *Results) Ordered() []*Row {
	var out []*Row
	seen := map[string]bool{}
	for _, c := range Claims {
		r := rs.Row(c.Variant)
		if r == nil {
			r = &Row{Variant: c.Variant, num: map[string][]float64{}}
		}
		out = append(out, r)
		seen[c.Variant] = true
	}
	for _, r := range rs.Rows {
		if !seen[r.Variant] {
			out = append(out, r)
		}
	}
	return out
}

func claimOf(variant string) (Claim, bool) {
	for _, c := range Claims {
		if c.Variant == variant {
			return c, true
		}
	}
	return Claim{}, false
}

// num formats a measured number: ns with two decimals, counts as integers,
// empty when not measured.
func num(r *Row, key string) string {
	if !r.Has(key) {
		return ""
	}
	v := r.Get(key)
	if key == "ns_per_op" || key == "ir_per_op" || key == "reg_ns" || key == "cpu_per_wall" {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func articleCells(variant string) []string {
	c, ok := claimOf(variant)
	if !ok {
		return []string{"", "", ""}
	}
	return []string{strconv.FormatFloat(c.NsPerOp, 'f', -1, 64), strconv.FormatFloat(c.Bytes, 'f', -1, 64),
		strconv.FormatFloat(c.GCs, 'f', -1, 64)}
}

// WriteTSV writes article.tsv: the comment line, the header, one row per variant.
func WriteTSV(w io.Writer, comment string, rows []*Row) error {
	comment = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(comment)
	if _, err := fmt.Fprintf(w, "# %s\n%s\n", comment, strings.Join(Columns, "\t")); err != nil {
		return err
	}
	for _, r := range rows {
		cells := append([]string{r.Variant, num(r, "ns_per_op"), num(r, "alloc_bytes"), num(r, "gcs")},
			articleCells(r.Variant)...)
		if _, err := fmt.Fprintln(w, strings.Join(cells, "\t")); err != nil {
			return err
		}
	}
	return nil
}

// DetailColumns is article-detail.tsv's header: every measure of every row.
var DetailColumns = []string{"variant", "lang", "threads", "churn", "names", "ops", "runs", "ns_per_op", "ir_per_op",
	"reg_ns", "alloc_bytes", "reg_alloc_bytes", "read_alloc_bytes", "gcs", "reg_gcs", "read_gcs", "retained_bytes",
	"retained_per_name", "alloc_source", "cpu_per_wall", "writer_ops_per_s"}

// WriteDetail writes article-detail.tsv.
func WriteDetail(w io.Writer, rows []*Row) error {
	if _, err := fmt.Fprintln(w, strings.Join(DetailColumns, "\t")); err != nil {
		return err
	}
	for _, r := range rows {
		var cells []string
		for _, c := range DetailColumns {
			switch c {
			case "variant":
				cells = append(cells, r.Variant)
			case "lang":
				cells = append(cells, r.Lang)
			case "alloc_source":
				cells = append(cells, r.AllocSource)
			case "runs":
				cells = append(cells, strconv.Itoa(r.Runs))
			case "churn":
				cells = append(cells, strconv.FormatBool(strings.Contains(r.Variant, "+ churn")))
			case "retained_per_name":
				cells = append(cells, perName(r))
			default:
				cells = append(cells, num(r, c))
			}
		}
		if _, err := fmt.Fprintln(w, strings.Join(cells, "\t")); err != nil {
			return err
		}
	}
	return nil
}

func perName(r *Row) string {
	if !r.Has("retained_bytes") || r.Get("names") <= 0 {
		return ""
	}
	return strconv.FormatFloat(r.Get("retained_bytes")/r.Get("names"), 'f', 1, 64)
}

// Human formats a byte count with a decimal unit (B, kB, MB).
func Human(b float64) string {
	switch {
	case b >= 1e6 || b <= -1e6:
		return strconv.FormatFloat(b/1e6, 'f', 2, 64) + " MB"
	case b >= 1e4 || b <= -1e4:
		return strconv.FormatFloat(b/1e3, 'f', 1, 64) + " kB"
	}
	return strconv.FormatFloat(b, 'f', 0, 64) + " B"
}

// PrintTable writes the table as printed by the script: aligned columns, the
// article's numbers beside the measured ones.
func PrintTable(w io.Writer, rows []*Row) {
	head := []string{"variant", "ns/op", "Ir/op", "CPU/wall", "alloc bytes", "B/name kept", "GCs", "article ns/op", "article bytes", "article GCs"}
	table := [][]string{head}
	for _, r := range rows {
		a := articleCells(r.Variant)
		table = append(table, []string{r.Variant, num(r, "ns_per_op"), num(r, "ir_per_op"), num(r, "cpu_per_wall"), num(r, "alloc_bytes"),
			perName(r), num(r, "gcs"), a[0], a[1], a[2]})
	}
	width := make([]int, len(head))
	for _, row := range table {
		for i, c := range row {
			if n := len([]rune(c)); n > width[i] {
				width[i] = n
			}
		}
	}
	for _, row := range table {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
