// Command articlereport gathers make bench-article's raw result files into
// OUT/article.tsv (the comparison table), OUT/article-detail.tsv (every
// measure), OUT/article.svg (the chart), OUT/article.md (the generated section
// of docs/bench.md, spliced into -doc when given) and prints the table and the
// verdicts.
//
// Usage: articlereport -out DIR [-machine FILE] [-doc FILE] [-svg-name NAME] RAW...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"tetherbench/report"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "articlereport: "+format+"\n", args...)
	os.Exit(1)
}

func writeFile(path string, fill func(*bytes.Buffer) error) {
	var b bytes.Buffer
	if err := fill(&b); err != nil {
		fail("%s: %v", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		fail("%v", err)
	}
}

// comment describes the set-up on article.tsv's first line.
func comment(m report.Machine) string {
	return fmt.Sprintf("set-up: %s names \"handler-N\" registered, then %s lookups + calls in a fixed shuffled order, per row; "+
		"ns_per_op: wall time of the lookups / ops, median of %s runs (aggregate over the readers where a row has two); "+
		"churn rows: a writer in a tight loop, readers stop after 2 s; "+
		"Go rows (%s, GOGC=100, GOMAXPROCS=1 unless the row says 2, a fresh process per run): alloc_bytes and gcs are "+
		"runtime.ReadMemStats TotalAlloc and NumGC deltas around registration + lookups; C and C++ rows (libtether's public "+
		"API, GLib %s, liburcu %s, uthash %s, Boost %s): alloc_bytes from a counting allocator (bytes asked for) or from "+
		"mallinfo2 (growth of malloc's bytes in use), gcs empty (no collector); article_*: the article's section 2.5 table "+
		"(Go 1.22, machine not given; 800KB = 800000 B, 1.2MB = 1200000 B), empty where it gives nothing; machine: %s, %s CPUs, %s",
		m.Get("keys"), m.Get("ops"), m.Get("reps"), m.Get("go"), m.Get("glib"), m.Get("liburcu"), m.Get("uthash"),
		m.Get("boost"), m.Get("cpu"), m.Get("cpus"), m.Get("kernel"))
}

func main() {
	out := flag.String("out", "", "directory for the outputs (required)")
	machineFile := flag.String("machine", "", "key=value file describing the machine and versions")
	doc := flag.String("doc", "", "Markdown file whose marked section is rewritten")
	svgName := flag.String("svg-name", "article.svg", "how the generated section refers to the chart")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: articlereport -out DIR [-machine FILE] [-doc FILE] [-svg-name NAME] RAW...")
		os.Exit(2)
	}
	var rs report.Results
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fail("%v", err)
		}
		err = rs.Parse(f, name)
		f.Close()
		if err != nil {
			fail("%v", err)
		}
	}
	m := report.Machine{Values: map[string]string{}}
	if *machineFile != "" {
		f, err := os.Open(*machineFile)
		if err != nil {
			fail("%v", err)
		}
		m, err = report.ParseMachine(f)
		f.Close()
		if err != nil {
			fail("%s: %v", *machineFile, err)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail("%v", err)
	}
	rows := rs.Ordered()
	writeFile(filepath.Join(*out, "article.tsv"), func(b *bytes.Buffer) error { return report.WriteTSV(b, comment(m), rows) })
	writeFile(filepath.Join(*out, "article-detail.tsv"), func(b *bytes.Buffer) error { return report.WriteDetail(b, rows) })
	title := fmt.Sprintf("The article's comparison table, measured: %s names, %s lookups + calls per row", m.Get("keys"), m.Get("ops"))
	subtitle := fmt.Sprintf("%s, %s CPUs, %s; %s; medians of %s runs; %s", m.Get("cpu"), m.Get("cpus"), m.Get("os"), m.Get("go"),
		m.Get("reps"), m.Get("date"))
	writeFile(filepath.Join(*out, "article.svg"), func(b *bytes.Buffer) error { return report.WriteSVG(b, rows, title, subtitle) })
	var md bytes.Buffer
	report.WriteMarkdown(&md, &rs, m, *svgName)
	writeFile(filepath.Join(*out, "article.md"), func(b *bytes.Buffer) error { _, err := b.Write(md.Bytes()); return err })
	if *doc != "" {
		old, err := os.ReadFile(*doc)
		if err != nil {
			fail("%v", err)
		}
		text, err := report.Splice(string(old), md.String())
		if err != nil {
			fail("%s: %v", *doc, err)
		}
		if err := os.WriteFile(*doc, []byte(text), 0o644); err != nil {
			fail("%v", err)
		}
	}

	report.PrintTable(os.Stdout, rows)
	fmt.Println()
	fmt.Println("the article's claims:")
	for _, v := range report.Verdicts(&rs, report.L2Bytes(m)) {
		measured := v.Measured
		if measured == "" {
			measured = "-"
		}
		fmt.Printf("  %-22s %s: article %s, here %s\n", strings.ToUpper(v.Verdict[:1])+v.Verdict[1:], v.Claim, v.Article, measured)
	}
}
