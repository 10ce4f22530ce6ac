package report

import (
	"fmt"
	"math"
	"strconv"
)

// The verdicts, and the tolerance each claim gets: a latency or a byte count
// holds within a factor of Tolerance of the article's, a GC count within one
// collection; a claimed 0 holds only as 0.
const (
	Holds        = "holds"
	DoesNotHold  = "does not hold here"
	Unmeasurable = "cannot be measured"
	Tolerance    = 1.5
)

// Verdict is the judgement of one claim.
type Verdict struct {
	Claim    string // what the article says, in words
	Article  string // its number
	Measured string // ours
	Verdict  string
	Why      string
}

func within(measured, claimed float64) bool {
	if claimed == 0 {
		return measured == 0
	}
	return measured <= claimed*Tolerance && measured >= claimed/Tolerance
}

func times(measured, claimed float64) string {
	if claimed == 0 {
		return ""
	}
	return strconv.FormatFloat(measured/claimed, 'f', 1, 64) + "×"
}

// binary formats a cache size as the kernel reports it, in KiB or MiB.
func binary(b float64) string {
	if b >= 1<<20 && math.Mod(b, 1<<20) == 0 {
		return strconv.FormatFloat(b/(1<<20), 'f', 0, 64) + " MiB"
	}
	return strconv.FormatFloat(b/1024, 'f', 0, 64) + " KiB"
}

func ns(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " ns" }

// Verdicts judges every number of the article's table, then its orderings.
// l2 is the size of this CPU's L2 cache in bytes (0: unknown), used in reasons.
func Verdicts(rs *Results, l2 float64) []Verdict {
	var out []Verdict
	for _, c := range Claims {
		r := rs.Row(c.Variant)
		out = append(out, latencyVerdict(rs, c, r, l2), bytesVerdict(rs, c, r), gcVerdict(c, r))
	}
	return append(out, orderVerdict(rs, "ns_per_op", "read latency"), orderVerdict(rs, "alloc_bytes", "bytes allocated"),
		orderVerdict(rs, "gcs", "GC count"))
}

func missing(claim, article string) Verdict {
	return Verdict{claim, article, "", Unmeasurable, "the Go run produced no number for this row (see the script's output)"}
}

func latencyVerdict(rs *Results, c Claim, r *Row, l2 float64) Verdict {
	claim := c.Variant + ": read latency"
	article := strconv.FormatFloat(c.NsPerOp, 'f', -1, 64) + " ns/op"
	if r == nil || !r.Has("ns_per_op") {
		return missing(claim, article)
	}
	m := r.Get("ns_per_op")
	v := Verdict{Claim: claim, Article: article, Measured: strconv.FormatFloat(m, 'f', 2, 64) + " ns/op"}
	if within(m, c.NsPerOp) {
		v.Verdict, v.Why = Holds, "within a factor of "+strconv.FormatFloat(Tolerance, 'f', 1, 64)+" of the article's"
		return v
	}
	v.Verdict = DoesNotHold
	if m < c.NsPerOp {
		v.Why = fmt.Sprintf("%s faster here than the article's", times(c.NsPerOp, m))
		return v
	}
	v.Why = fmt.Sprintf("%s the article's.", times(m, c.NsPerOp))
	if kept := r.Get("retained_bytes"); kept > 0 {
		v.Why += fmt.Sprintf(" The table of %s keys keeps %s", strconv.FormatFloat(r.Get("names"), 'f', 0, 64), Human(kept))
		if l2 > 0 && kept > l2 {
			v.Why += fmt.Sprintf(", more than this CPU's %s L2 cache, so a lookup in shuffled order waits on misses of L1, L2 and the TLB.", binary(l2))
		} else {
			v.Why += "."
		}
	}
	if hot := rs.Row("map[string]func(), one hot key"); hot != nil && hot.Has("ns_per_op") {
		v.Why += fmt.Sprintf(" Even one hot key, always in L1, costs %s/op in a map[string]func()", ns(hot.Get("ns_per_op")))
		if d := rs.Row("direct call of a func value"); d != nil && d.Has("ns_per_op") {
			v.Why += fmt.Sprintf(", and a call of a func value with no lookup at all %s/op", ns(d.Get("ns_per_op")))
		}
		v.Why += "."
		if hot.Get("ns_per_op") > c.NsPerOp*Tolerance {
			v.Why += " The article's figure is below what a string-keyed lookup costs even in the best case."
		}
	}
	return v
}

func bytesVerdict(rs *Results, c Claim, r *Row) Verdict {
	claim := c.Variant + ": bytes allocated"
	article := Human(c.Bytes)
	if r == nil || !r.Has("alloc_bytes") {
		return missing(claim, article)
	}
	m := r.Get("alloc_bytes")
	v := Verdict{Claim: claim, Article: article, Measured: Human(m)}
	reg, read := r.Get("reg_alloc_bytes"), r.Get("read_alloc_bytes")
	detail := fmt.Sprintf("registering the keys allocates %s, the lookups %s", Human(reg), Human(read))
	if within(m, c.Bytes) {
		v.Verdict, v.Why = Holds, detail
		return v
	}
	v.Verdict = DoesNotHold
	if c.Bytes == 0 {
		v.Why = "a map of 100000 keys cannot be built without allocating its buckets: " + detail + "."
		if read == 0 {
			v.Why += " The 0 holds for the lookups alone."
		}
		return v
	}
	v.Why = fmt.Sprintf("%s the article's: %s.", times(m, c.Bytes), detail)
	base := rs.Row(Claims[0].Variant)
	if base != nil && base.Has("alloc_bytes") && c.Variant != Claims[0].Variant {
		extra := m - base.Get("alloc_bytes")
		n := r.Get("names")
		v.Why += fmt.Sprintf(" Beyond map[string]func() it allocates %s", Human(extra))
		if n > 0 {
			v.Why += fmt.Sprintf(" (%s per key)", strconv.FormatFloat(extra/n, 'f', 1, 64)+" B")
		}
		if within(extra, c.Bytes) {
			v.Why += ", close to the article's figure: the article seems to count what this variant adds, not the map"
		}
		v.Why += "."
	}
	return v
}

func gcVerdict(c Claim, r *Row) Verdict {
	claim := c.Variant + ": GCs"
	article := strconv.FormatFloat(c.GCs, 'f', -1, 64)
	if r == nil || !r.Has("gcs") {
		return missing(claim, article)
	}
	m := r.Get("gcs")
	v := Verdict{Claim: claim, Article: article, Measured: strconv.FormatFloat(m, 'f', 0, 64)}
	ok := m == c.GCs || (c.GCs != 0 && m >= c.GCs-1 && m <= c.GCs+1)
	if ok {
		v.Verdict = Holds
	} else {
		v.Verdict = DoesNotHold
	}
	v.Why = fmt.Sprintf("%s while registering, %s during the lookups", strconv.FormatFloat(r.Get("reg_gcs"), 'f', 0, 64),
		strconv.FormatFloat(r.Get("read_gcs"), 'f', 0, 64))
	if r.Get("read_alloc_bytes") < 1e5 {
		v.Why += " (which allocate next to nothing, so they cannot start a collection)"
	}
	v.Why += "; with GOGC=100 a collection starts once the heap has grown by what was live after the last one (4 MB at first), so the count follows the bytes registration allocates."
	return v
}

func orderVerdict(rs *Results, key, what string) Verdict {
	claim := "ordering of " + what + ": " + Claims[0].Variant + " < " + Claims[1].Variant + " < " + Claims[2].Variant
	var vals []float64
	measured := ""
	for i, c := range Claims {
		r := rs.Row(c.Variant)
		if r == nil || !r.Has(key) {
			return missing(claim, "strictly increasing")
		}
		vals = append(vals, r.Get(key))
		if i > 0 {
			measured += " / "
		}
		measured += num(r, key)
	}
	v := Verdict{Claim: claim, Article: "strictly increasing", Measured: measured}
	if vals[0] < vals[1] && vals[1] < vals[2] {
		v.Verdict, v.Why = Holds, "the three rows are in the article's order"
	} else {
		v.Verdict, v.Why = DoesNotHold, "the three rows are not strictly in the article's order"
	}
	return v
}
