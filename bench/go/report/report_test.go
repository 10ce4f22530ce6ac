package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

const raw = `# a comment line is skipped
variant=map[string]func()	lang=go	threads=1	churn=false	names=100000	ns_per_op=60	alloc_bytes=8000000	reg_alloc_bytes=8000000	read_alloc_bytes=0	gcs=1	reg_gcs=1	read_gcs=0	retained_bytes=4000000	alloc_source=runtime.ReadMemStats
variant=map[string]func()	lang=go	threads=1	churn=false	names=100000	ns_per_op=70	alloc_bytes=8000000	reg_alloc_bytes=8000000	read_alloc_bytes=0	gcs=1	reg_gcs=1	read_gcs=0	retained_bytes=4000000	alloc_source=runtime.ReadMemStats
variant=map[string]func()	lang=go	threads=1	churn=false	names=100000	ns_per_op=65	alloc_bytes=8000000	reg_alloc_bytes=8000000	read_alloc_bytes=0	gcs=1	reg_gcs=1	read_gcs=0	retained_bytes=4000000	alloc_source=runtime.ReadMemStats

variant=tether_emit	lang=c	threads=1	churn=false	names=100000	ns_per_op=45.5	alloc_bytes=11985554	retained_bytes=9887202	alloc_source=counting allocator
variant=sync.Map	lang=go	threads=1	churn=false	names=100000	ns_per_op=20	alloc_bytes=1100000	reg_alloc_bytes=1100000	read_alloc_bytes=0	gcs=5	reg_gcs=5	read_gcs=0	retained_bytes=900000	alloc_source=runtime.ReadMemStats
variant=tether_emit	ir_per_op=146.2
`

func parse(t *testing.T, text string) *Results {
	t.Helper()
	var rs Results
	if err := rs.Parse(strings.NewReader(text), "raw"); err != nil {
		t.Fatal(err)
	}
	return &rs
}

func TestTSV(t *testing.T) {
	rs := parse(t, raw)
	var b bytes.Buffer
	if err := WriteTSV(&b, "set-up\twith a tab", rs.Ordered()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if lines[0] != "# set-up with a tab" {
		t.Errorf("comment line = %q", lines[0])
	}
	if lines[1] != "variant\tns_per_op\talloc_bytes\tgcs\tarticle_ns_per_op\tarticle_alloc_bytes\tarticle_gcs" {
		t.Errorf("header = %q", lines[1])
	}
	want := []string{
		"map[string]func()\t65.00\t8000000\t1\t2.1\t0\t0", // median of 60, 70, 65
		"map[string]*func()\t\t\t\t4.7\t800000\t3",        // not measured: empty cells
		"sync.Map\t20.00\t1100000\t5\t18.9\t1200000\t5",   // the article's order, not the input's
		"tether_emit\t45.50\t11985554\t\t\t\t",            // no GC count, no article numbers
	}
	if len(lines) != 2+len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), 2+len(want), b.String())
	}
	for i, w := range want {
		if lines[2+i] != w {
			t.Errorf("row %d = %q, want %q", i, lines[2+i], w)
		}
		if n := strings.Count(lines[2+i], "\t"); n != len(Columns)-1 {
			t.Errorf("row %d has %d tabs", i, n)
		}
	}
}

func TestMedianIsAMeasuredValue(t *testing.T) {
	rs := parse(t, "variant=x\tns_per_op=1\nvariant=x\tns_per_op=4\nvariant=x\tns_per_op=2\nvariant=x\tns_per_op=3\n")
	r := rs.Row("x")
	if r.Get("ns_per_op") != 2 || r.Runs != 4 {
		t.Fatalf("median of 1,4,2,3 = %v (runs %d), want the lower middle 2", r.Get("ns_per_op"), r.Runs)
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{
		"ns_per_op=1\tvariant=x\n", // variant not first
		"variant=\tns_per_op=1\n",
		"variant=x\tns_per_op\n",
		"variant=x\tns_per_op=fast\n",
		"variant=x\tns_per_op=NaN\n",
		"variant=x\tns_per_op=1\tns_per_op=2\n",
		"variant=x\tchurn=maybe\n",
	} {
		var rs Results
		err := rs.Parse(strings.NewReader(bad), "raw")
		if err == nil || !strings.HasPrefix(err.Error(), "raw:1: ") {
			t.Errorf("Parse(%q) = %v, want an error at raw:1", bad, err)
		}
	}
}

func verdictOf(vs []Verdict, claim string) Verdict {
	for _, v := range vs {
		if v.Claim == claim {
			return v
		}
	}
	return Verdict{}
}

func TestVerdicts(t *testing.T) {
	rs := parse(t, raw)
	vs := Verdicts(rs, 2<<20)
	cases := []struct{ claim, verdict string }{
		{"map[string]func(): read latency", DoesNotHold},    // 65 vs 2.1
		{"map[string]func(): bytes allocated", DoesNotHold}, // 8 MB vs 0
		{"map[string]func(): GCs", DoesNotHold},             // 1 vs 0: a claimed 0 holds only as 0
		{"map[string]*func(): read latency", Unmeasurable},
		{"sync.Map: read latency", Holds},    // 20 vs 18.9
		{"sync.Map: bytes allocated", Holds}, // 1.1 MB vs 1.2 MB
		{"sync.Map: GCs", Holds},
	}
	for _, c := range cases {
		if v := verdictOf(vs, c.claim); v.Verdict != c.verdict {
			t.Errorf("%s: verdict %q (%s), want %q", c.claim, v.Verdict, v.Why, c.verdict)
		}
	}
	if v := verdictOf(vs, "map[string]func(): bytes allocated"); !strings.Contains(v.Why, "0 holds for the lookups alone") {
		t.Errorf("the reason does not say the lookups allocate nothing: %q", v.Why)
	}
	if v := verdictOf(vs, "map[string]func(): read latency"); !strings.Contains(v.Why, "more than this CPU's 2 MiB L2 cache") {
		t.Errorf("the latency reason does not compare the table with the L2 cache: %q", v.Why)
	}
	if n := len(vs); n != 3*len(Claims)+3 {
		t.Errorf("%d verdicts, want one per number of the table and three orderings", n)
	}
}

func TestSVGIsWellFormed(t *testing.T) {
	rs := parse(t, raw+"variant=a <b> & \"c\"\tlang=c\tns_per_op=3\talloc_bytes=0\n")
	var b bytes.Buffer
	if err := WriteSVG(&b, rs.Ordered(), "title & more", "sub <x>"); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(&b)
	rects, texts := 0, []string{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local == "rect" {
				rects++
			}
		case xml.CharData:
			texts = append(texts, string(e))
		}
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"map[string]*func()", "a <b> & \"c\"", "article: 2.1", "not measured", "65.0"} {
		if !strings.Contains(all, want) {
			t.Errorf("chart text lacks %q", want)
		}
	}
	if rects < 8 {
		t.Errorf("only %d rects", rects)
	}
}

func TestSplice(t *testing.T) {
	doc := "# Title\nbefore\n" + BeginMarker + "\nold numbers\n" + EndMarker + "\nafter\n"
	got, err := Splice(doc, "new numbers\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\nbefore\n" + BeginMarker + "\nnew numbers\n" + EndMarker + "\nafter\n"
	if got != want {
		t.Errorf("Splice = %q, want %q", got, want)
	}
	again, _ := Splice(got, "new numbers\n")
	if again != got {
		t.Error("splicing the same section twice changed the document")
	}
	for _, bad := range []string{"no markers", BeginMarker + EndMarker + BeginMarker, EndMarker + "\n" + BeginMarker} {
		if _, err := Splice(bad, "x"); err == nil {
			t.Errorf("Splice(%q) succeeded", bad)
		}
	}
}

func TestL2Bytes(t *testing.T) {
	for in, want := range map[string]float64{"2048K": 2 << 20, "4M": 4 << 20, "1000": 1000, "": 0, "big": 0} {
		if got := L2Bytes(Machine{Values: map[string]string{"l2": in}}); got != want {
			t.Errorf("L2Bytes(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	rs := parse(t, raw)
	var b bytes.Buffer
	WriteMarkdown(&b, rs, Machine{Values: map[string]string{"cpu": "x | y"}}, "chart.svg")
	md := b.String()
	for _, want := range []string{"- CPU: x | y", "| `map[string]*func()` |", "![", "(chart.svg)", "**" + DoesNotHold + "**"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| map[string]") {
			t.Errorf("an unquoted variant name would turn '*' into emphasis: %q", line)
		}
	}
}
