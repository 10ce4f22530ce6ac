package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The chart: one line per row of article.tsv, grouped; a log-scale bar of
// ns/op and one of bytes allocated, the GC count beside them, and the article's
// numbers as diamonds on the three rows it gives.
const (
	svgWidth   = 1230
	labelW     = 404
	panelW     = 330
	panelGap   = 36
	gcW        = 60
	rowH       = 18
	claimRowH  = 34 // a row the article gives: our bar, then the article's below it
	barH       = 11
	claimBarH  = 8
	groupH     = 26
	topH       = 118
	bottomH    = 40
	colorGo    = "#2a9d8f"
	colorPeer  = "#7b8794"
	colorTeth  = "#e76f51"
	colorClaim = "#c0392b"
	colorGrid  = "#e4e7eb"
	colorText  = "#1f2933"
	colorMuted = "#616e7c"
)

// logAxis maps values in [10^lo, 10^hi] onto [x0, x0+w].
type logAxis struct {
	lo, hi int
	x0, w  float64
}

func newLogAxis(vals []float64, x0, w float64, minLo int) logAxis {
	lo, hi := math.MaxInt32, math.MinInt32
	for _, v := range vals {
		if v <= 0 {
			continue
		}
		e := math.Log10(v)
		if f := int(math.Floor(e)); f < lo {
			lo = f
		}
		if c := int(math.Ceil(e)); c > hi {
			hi = c
		}
	}
	if lo > hi { // nothing positive
		lo, hi = minLo, minLo+3
	}
	if lo < minLo {
		lo = minLo
	}
	if hi <= lo {
		hi = lo + 1
	}
	return logAxis{lo, hi, x0, w}
}

func (a logAxis) x(v float64) float64 {
	if v <= 0 {
		return a.x0
	}
	f := (math.Log10(v) - float64(a.lo)) / float64(a.hi-a.lo)
	return a.x0 + math.Max(0, math.Min(1, f))*a.w
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func nsTick(e int) string {
	switch {
	case e >= 6:
		return strconv.Itoa(int(math.Pow10(e-6))) + " ms"
	case e >= 3:
		return strconv.Itoa(int(math.Pow10(e-3))) + " µs"
	case e >= 0:
		return strconv.Itoa(int(math.Pow10(e))) + " ns"
	}
	return strconv.FormatFloat(math.Pow10(e), 'f', -1, 64) + " ns"
}

func byteTick(e int) string {
	units := []string{"B", "kB", "MB", "GB"}
	if e < 0 {
		return ""
	}
	u := e / 3
	if u >= len(units) {
		u = len(units) - 1
	}
	return strconv.Itoa(int(math.Pow10(e-3*u))) + " " + units[u]
}

// group names a row's section of the chart.
func group(r *Row) string {
	lang := "Go"
	if r.Lang == "c" || r.Lang == "c++" {
		lang = "C and C++"
	}
	churn := strings.Contains(r.Variant, "+ churn")
	threads := r.Get("threads")
	switch {
	case r.Lang == "":
		return "Go: one goroutine, GOMAXPROCS=1"
	case churn && lang == "Go":
		return "Go: readers while a goroutine stores and deletes other keys"
	case churn:
		return "C and C++: readers while a thread registers and removes other names"
	case threads > 1 && lang == "Go":
		return "Go: GOMAXPROCS=2, two reader goroutines (aggregate ns/op)"
	case threads > 1:
		return "C and C++: two reader threads (aggregate ns/op)"
	case lang == "Go":
		return "Go: one goroutine, GOMAXPROCS=1"
	}
	return "C and C++: one thread"
}

func barColor(r *Row) string {
	switch {
	case strings.HasPrefix(r.Variant, "tether_"):
		return colorTeth
	case r.Lang == "c" || r.Lang == "c++":
		return colorPeer
	}
	return colorGo
}

func rowHeight(r *Row) int {
	if _, ok := claimOf(r.Variant); ok {
		return claimRowH
	}
	return rowH
}

// claimBar draws the article's number as an outlined bar from x0 to x, labelled.
func claimBar(w io.Writer, x0, x, y float64, label string) {
	if x > x0 {
		fmt.Fprintf(w, `<rect x="%s" y="%s" width="%s" height="%d" rx="2" fill="#fff" stroke="%s" stroke-width="1.5"><title>%s</title></rect>`+"\n",
			f1(x0), f1(y), f1(x-x0), claimBarH, colorClaim, esc(label))
	}
	fmt.Fprintf(w, `<text x="%s" y="%s" font-size="10.5" fill="%s">%s</text>`+"\n", f1(x+4), f1(y+claimBarH), colorClaim, esc(label))
}

// WriteSVG draws the chart of rows; subtitle says where it was measured.
func WriteSVG(w io.Writer, rows []*Row, title, subtitle string) error {
	var nsVals, byteVals []float64
	for _, r := range rows {
		if r.Has("ns_per_op") {
			nsVals = append(nsVals, r.Get("ns_per_op"))
		}
		if r.Has("alloc_bytes") {
			byteVals = append(byteVals, r.Get("alloc_bytes"))
		}
		if c, ok := claimOf(r.Variant); ok {
			nsVals = append(nsVals, c.NsPerOp)
			byteVals = append(byteVals, c.Bytes)
		}
	}
	nsX0 := float64(labelW)
	bytesX0 := nsX0 + panelW + panelGap
	gcX := bytesX0 + panelW + panelGap
	nsAxis := newLogAxis(nsVals, nsX0, panelW-70, 0)
	byteAxis := newLogAxis(byteVals, bytesX0, panelW-64, 2)

	groups := 0
	last := ""
	for _, r := range rows {
		if g := group(r); g != last {
			groups++
			last = g
		}
	}
	height := topH + groups*groupH + bottomH
	for _, r := range rows {
		height += rowHeight(r)
	}
	bodyTop := float64(topH)
	bodyBottom := float64(height - bottomH)

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="11.5" fill="%s">`+"\n",
		svgWidth, height, svgWidth, height, colorText)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="16" y="28" font-size="17" font-weight="600">%s</text>`+"\n", esc(title))
	fmt.Fprintf(&b, `<text x="16" y="48" fill="%s">%s</text>`+"\n", colorMuted, esc(subtitle))

	// Legend.
	lx := 16.0
	for _, item := range []struct{ color, text string }{{colorGo, "Go"}, {colorTeth, "libtether"}, {colorPeer, "C and C++ peers"}} {
		fmt.Fprintf(&b, `<rect x="%s" y="62" width="14" height="10" rx="2" fill="%s"/><text x="%s" y="71">%s</text>`+"\n",
			f1(lx), item.color, f1(lx+19), esc(item.text))
		lx += 30 + float64(len(item.text))*6.5
	}
	fmt.Fprintf(&b, `<rect x="%s" y="63" width="14" height="8" rx="2" fill="#fff" stroke="%s" stroke-width="1.5"/>`+"\n", f1(lx), colorClaim)
	fmt.Fprintf(&b, `<text x="%s" y="71">the article's number (section 2.5, Go 1.22, machine not given)</text>`+"\n", f1(lx+19))

	// Panel headings and grid.
	heads := []struct {
		x    float64
		text string
	}{{nsX0, "lookup + call, ns/op (log scale) · callgrind Ir/op"}, {bytesX0, "bytes allocated, registration + lookups (log scale)"}, {gcX, "GCs"}}
	for _, h := range heads {
		fmt.Fprintf(&b, `<text x="%s" y="100" font-weight="600">%s</text>`+"\n", f1(h.x), esc(h.text))
	}
	grid := func(a logAxis, tick func(int) string) {
		every := 1 // a label per decade, or per two where decades are narrow
		if a.w/float64(a.hi-a.lo) < 44 {
			every = 2
		}
		for e := a.lo; e <= a.hi; e++ {
			x := a.x(math.Pow10(e))
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", f1(x), f1(bodyTop), f1(x), f1(bodyBottom), colorGrid)
			if (e-a.lo)%every == 0 {
				fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="%s" font-size="10.5">%s</text>`+"\n",
					f1(x), f1(bodyBottom+16), colorMuted, esc(tick(e)))
			}
		}
	}
	grid(nsAxis, nsTick)
	grid(byteAxis, byteTick)

	y := bodyTop
	last = ""
	for i, r := range rows {
		if g := group(r); g != last {
			y += groupH
			fmt.Fprintf(&b, `<text x="16" y="%s" font-weight="600" fill="%s">%s</text>`+"\n", f1(y-8), colorMuted, esc(g))
			last = g
		}
		h := rowHeight(r)
		mid := y + rowH/2
		if i%2 == 0 {
			fmt.Fprintf(&b, `<rect x="10" y="%s" width="%d" height="%d" fill="#f7f8fa"/>`+"\n", f1(y), svgWidth-20, h)
		}
		fmt.Fprintf(&b, `<text x="24" y="%s">%s</text>`+"\n", f1(mid+4), esc(r.Variant))
		color := barColor(r)
		if r.Has("ns_per_op") {
			v := r.Get("ns_per_op")
			x := nsAxis.x(v)
			label := strconv.FormatFloat(v, 'f', 1, 64)
			if r.Has("ir_per_op") {
				label += " · " + strconv.FormatFloat(r.Get("ir_per_op"), 'f', 0, 64) + " Ir"
			}
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%d" rx="2" fill="%s"><title>%s: %s ns/op</title></rect>`+"\n",
				f1(nsX0), f1(mid-barH/2), f1(math.Max(1, x-nsX0)), barH, color, esc(r.Variant), esc(label))
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="10.5">%s</text>`+"\n", f1(x+4), f1(mid+4), esc(label))
		} else {
			fmt.Fprintf(&b, `<text x="%s" y="%s" fill="%s" font-size="10.5">not measured</text>`+"\n", f1(nsX0+4), f1(mid+4), colorMuted)
		}
		if r.Has("alloc_bytes") {
			v := r.Get("alloc_bytes")
			x := byteAxis.x(v)
			if v > 0 {
				fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%d" rx="2" fill="%s"><title>%s: %s</title></rect>`+"\n",
					f1(bytesX0), f1(mid-barH/2), f1(math.Max(1, x-bytesX0)), barH, color, esc(r.Variant), esc(Human(v)))
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="10.5">%s</text>`+"\n", f1(x+4), f1(mid+4), esc(Human(v)))
		}
		if r.Has("gcs") {
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`+"\n", f1(gcX+24), f1(mid+4), num(r, "gcs"))
		}
		if c, ok := claimOf(r.Variant); ok {
			cy := y + rowH
			claimBar(&b, nsX0, nsAxis.x(c.NsPerOp), cy, "article: "+strconv.FormatFloat(c.NsPerOp, 'f', -1, 64))
			claimBar(&b, bytesX0, byteAxis.x(c.Bytes), cy, "article: "+Human(c.Bytes))
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n", f1(gcX+24), f1(cy+claimBarH), colorClaim,
				strconv.FormatFloat(c.GCs, 'f', -1, 64))
		}
		y += float64(h)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
