#!/usr/bin/python3
"""Writes test/unit/monitor_fixtures.h: seeded inputs for src/monitor/
with expected values computed independently.

The Jensen-Shannon distance comes from scipy.spatial.distance.jensenshannon
(base=2) and the Wasserstein distance from scipy.stats.wasserstein_distance
(Debian's python3-scipy), normed by numpy's std as Evidently's
"wasserstein" test does.  PSI, the reference bins, the ECE and CBPE are
written out here from the rules in docs/monitoring.md.  The drift
verdicts are written out from the same rules with the default thresholds.

Run from anywhere:  /usr/bin/python3 test/unit/make_monitor_fixtures.py
With --noise it writes nothing and prints instead the table of
docs/monitoring.md that sets the default min_rows: the distances between
a reference and a window of the same distribution, by window size.
"""

import math
import os
import sys

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "monitor_fixtures.h")

# the rules of docs/monitoring.md
BINS = 10
QUANTILES = 1000
CATEGORIES = 50
PSI_EPSILON = 1e-4
MIN_SD = 1e-3
T_WASSERSTEIN = 0.1
T_JS = 0.1
T_PSI = 0.2
T_MISSING = 0.1
MIN_ROWS = 1000
UNKNOWN, NO, YES = -1, 0, 1


def c_double(x):
    x = float(x)
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    return repr(x)


class Arrays:
    """The C arrays of the header, each content written once."""

    def __init__(self):
        self.text = []
        self.names = {}

    def add(self, ctype, values, fmt):
        body = ", ".join(fmt(v) for v in values) or "0"
        key = (ctype, body)
        if key not in self.names:
            name = f"a{len(self.names)}"
            self.names[key] = name
            self.text.append(f"static const {ctype} {name}[] = {{{body}}};\n")
        return self.names[key]


def rounded(a, digits):
    # short literals; the C side parses the same doubles
    return np.array([float(f"{v:.{digits}f}") if np.isfinite(v) else v
                     for v in a])


# ---------------------------------------------------------------- rules

def cuts(sorted_keys, nbins):
    """Equal-count cuts, a cut inside a run of equal keys moved to its end."""
    n = len(sorted_keys)
    out = []
    for b in range(1, nbins):
        t = b * n // nbins
        if t <= (out[-1] if out else 0):
            continue
        if 0 < t < n and sorted_keys[t - 1] == sorted_keys[t]:
            t = int(np.searchsorted(sorted_keys, sorted_keys[t], side="right"))
        if t >= n:
            break
        out.append(t)
    return out


def verdict(value, threshold, m, k):
    if math.isnan(value) or m == 0 or k == 0 or m * k / (m + k) < MIN_ROWS:
        return UNKNOWN
    return YES if value >= threshold else NO


def psi(ref_shares, cur_shares):
    r = np.where(np.asarray(ref_shares) == 0, PSI_EPSILON, ref_shares)
    c = np.where(np.asarray(cur_shares) == 0, PSI_EPSILON, cur_shares)
    return float(np.sum((c - r) * np.log(c / r)))


def feature_verdicts(e, ref_count, ref_missing, win_count, win_missing,
                     distance, threshold):
    ref_total = ref_count + ref_missing
    total = win_count + win_missing
    share = win_missing / total if total else math.nan
    ref_share = ref_missing / ref_total if ref_total else math.nan
    e["missing_share"] = share
    e["missing_change"] = share - ref_share
    e["distribution"] = verdict(distance, threshold, ref_count, win_count)
    e["psi_drift"] = verdict(e["psi"], T_PSI, ref_count, win_count)
    e["missing_drift"] = verdict(abs(e["missing_change"]), T_MISSING,
                                 ref_total, total)
    parts = (e["distribution"], e["missing_drift"])
    e["drift"] = (YES if YES in parts else UNKNOWN if UNKNOWN in parts
                  else NO)


# ---------------------------------------------------------------- numbers

def numeric_expect(ref, win):
    e = {}
    x = np.sort(ref[np.isfinite(ref)])
    n = len(x)
    e["count"], e["missing"] = n, len(ref) - n
    e["mean"] = float(np.mean(x)) if n else math.nan
    e["sd"] = float(np.std(x)) if n else math.nan     # ddof 0
    c = cuts(x, BINS) if n else []
    e["nbins"] = len(c) + 1 if n else 0
    e["edges"] = [x[i] for i in c]
    bounds = [0] + c + [n]
    e["shares"] = [(bounds[b + 1] - bounds[b]) / n for b in range(e["nbins"])]
    q = min(n, QUANTILES)
    points = x[np.floor((np.arange(q) + 0.5) * n / q).astype(int)] if n else x
    e["quantiles"] = list(points)

    w = np.sort(win[np.isfinite(win)])
    k = len(w)
    e["win_count"], e["win_missing"] = k, len(win) - k
    if k and n:
        # bin b holds [edges[b - 1], edges[b])
        idx = np.searchsorted(np.array(e["edges"]), w, side="right")
        shares = np.bincount(idx, minlength=e["nbins"]) / k
        e["psi"] = psi(e["shares"], shares)
        e["wasserstein"] = (wasserstein_distance(points, w) /
                            max(float(np.std(x)), MIN_SD))
    else:
        e["psi"] = e["wasserstein"] = math.nan
    feature_verdicts(e, n, e["missing"], k, e["win_missing"],
                     e["wasserstein"], T_WASSERSTEIN)
    return e


def numeric_cases(rng):
    cases = []
    normal = rounded(rng.normal(0.0, 1.0, 3000), 3)
    # 1000 values three times each: the 1000 quantiles kept are exactly
    # the distinct values, so the distance to a permutation is 0
    thrice = np.repeat(rounded(rng.normal(0.0, 1.0, 1000), 3), 3)
    cases.append(("identical", thrice, rng.permutation(thrice)))
    cases.append(("shifted normal", normal,
                  rounded(rng.normal(0.5, 1.0, 2500), 3)))
    # a reference larger than the quantiles kept
    big = rounded(rng.normal(10.0, 2.0, 4000), 2)
    cases.append(("quantile summary", big,
                  rounded(rng.normal(10.4, 2.5, 3000), 2)))
    # 70 % zeros: ties merge bins
    zeros = np.where(rng.random(3000) < 0.7, 0.0,
                     rounded(rng.exponential(5.0, 3000), 2))
    zeros2 = np.where(rng.random(2000) < 0.4, 0.0,
                      rounded(rng.exponential(5.0, 2000), 2))
    cases.append(("heavy ties", zeros, zeros2))
    # the window lands in the top reference bin only: nine empty bins
    cases.append(("empty bins", normal,
                  rounded(rng.normal(6.0, 0.3, 2000), 3)))
    with_nan = normal.copy()
    with_nan[::10] = np.nan
    with_nan[5] = np.inf
    with_nan[7] = -np.inf
    win_nan = rounded(rng.normal(0.0, 1.0, 3000), 3)
    win_nan[::3] = np.nan
    cases.append(("nan inputs", with_nan, win_nan))
    cases.append(("all missing", normal, np.full(3000, np.nan)))
    cases.append(("one element", np.array([2.5]), np.array([3.0])))
    cases.append(("one element reference", np.array([2.5]),
                  rounded(rng.normal(2.5, 1.0, 50), 3)))
    cases.append(("one element window", normal, np.array([0.25])))
    cases.append(("constant", np.full(2500, 1.0), np.full(2500, 1.0)))
    cases.append(("small window", normal,
                  rounded(rng.normal(0.0, 1.0, 200), 3)))
    cases.append(("empty reference", np.array([np.nan, np.nan]),
                  rounded(rng.normal(0.0, 1.0, 20), 3)))
    return cases


# ---------------------------------------------------------------- categories

def category_expect(counts, missing, win, win_missing):
    e = {}
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    order = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    kept = [i for i in order[:CATEGORIES] if counts[i] > 0]
    e["count"], e["missing"] = total, missing
    e["kept"] = kept
    shares = [counts[i] / total for i in kept] if total else []
    shares.append((total - sum(counts[i] for i in kept)) / total
                  if total else 0.0)
    e["shares"] = shares
    win = np.asarray(win, dtype=np.int64)
    assert len(win) == len(kept) + 1
    k = int(win.sum())
    e["win_count"], e["win_missing"] = k, win_missing
    if k and total:
        cur = win / k
        e["psi"] = psi(shares, cur)
        e["js"] = float(jensenshannon(shares, cur, base=2))
    else:
        e["psi"] = e["js"] = math.nan
    feature_verdicts(e, total, missing, k, win_missing, e["js"], T_JS)
    return e


def category_cases(rng):
    cases = []
    cases.append(("identical shares", [500, 300, 200], 0, [250, 150, 100, 0], 0))
    cases.append(("disjoint", [1200, 800], 0, [0, 0, 1500], 0))
    ref = rng.integers(100, 1000, 8)
    p = rng.dirichlet(np.ones(8))
    cases.append(("shifted", list(ref), 40,
                  list(rng.multinomial(3000, p)) + [25], 60))
    # 60 distinct, some tied, some never seen: 50 kept, the rest "other"
    many = rng.integers(0, 200, 60)
    many[[3, 9, 27]] = 150
    many[[11, 12]] = 0
    kept = [i for i in sorted(range(60), key=lambda i: (-many[i], i))
            if many[i] > 0][:CATEGORIES]
    cases.append(("cap and other", list(many), 5,
                  list(rng.integers(0, 100, len(kept))) + [400], 0))
    cases.append(("all missing", [700, 300, 1000], 100, [0, 0, 0, 0], 4000))
    # a million rows, shares moved by 0.05 points: no drift however large
    cases.append(("large window", [6000, 3000, 1000], 0,
                  [600500, 299700, 99800, 0], 0))
    cases.append(("empty reference", [0, 0], 10, [5], 0))
    return cases


# ---------------------------------------------------------------- quality

def quality_expect(prob, outcome):
    e = {}
    ok = (prob >= 0) & (prob <= 1)
    p = prob[ok]
    y = outcome[ok]
    n = len(p)
    conf = np.maximum(p, 1 - p)
    right = ((p > 0.5) == y)
    e["n"] = n
    e["accuracy"] = float(np.mean(right)) if n else math.nan
    # CBPE: 1 - |predicted label - p|
    e["expected_accuracy"] = (float(np.mean(1 - np.abs((p > 0.5) - p)))
                              if n else math.nan)
    s = np.sort(conf)
    c = cuts(s, BINS) if n else []
    edges = s[c]
    idx = np.searchsorted(edges, conf, side="right")
    e["nbins"] = len(c) + 1 if n else 0
    bins = []
    ece = 0.0
    for b in range(e["nbins"]):
        m = idx == b
        cnt = int(m.sum())
        bins.append((cnt, float(conf[m].mean()), float(right[m].mean())))
        ece += cnt / n * abs(right[m].mean() - conf[m].mean())
    e["ece"] = ece if n else math.nan
    e["bins"] = bins
    if n > 0 and n % BINS == 0 and len(np.unique(conf)) == n:
        # distinct confidences: the bins are plain tenths of the sorted rows
        order = np.argsort(conf)
        alt = sum(abs(right[g].mean() - conf[g].mean()) * len(g) / n
                  for g in np.array_split(order, BINS))
        assert abs(alt - ece) < 1e-12, (alt, ece)
    return e


def quality_cases(rng):
    cases = []
    p = rounded(rng.random(3000), 2)
    cases.append(("calibrated", p, rng.random(3000) < p))
    p = rounded(rng.random(2000), 2)
    over = np.clip(0.5 + (p - 0.5) * 0.5, 0, 1)       # truth less extreme
    cases.append(("overconfident", p, rng.random(2000) < over))
    p = rounded(rng.random(1000), 6)                    # distinct
    cases.append(("distinct", p, rng.random(1000) < p))
    cases.append(("fewer rows than bins", np.array([0.9, 0.2, 0.6, 0.5, 0.3]),
                  np.array([True, False, False, True, True])))
    cases.append(("all tied", np.full(400, 0.7), rng.random(400) < 0.7))
    p = rounded(rng.random(500), 2)
    y = rng.random(500) < p
    p[::7] = np.nan
    p[3] = 1.5
    p[4] = -0.1
    cases.append(("nan and out of range", p, y))
    cases.append(("none usable", np.array([np.nan, 2.0]),
                  np.array([True, False])))
    return cases


# ---------------------------------------------------------------- output

def main():
    rng = np.random.default_rng(20261130)
    arrays = Arrays()
    tables = []
    out = ["/* Generated by test/unit/make_monitor_fixtures.py; do not edit. */\n",
           "#ifndef MONITOR_FIXTURES_H\n#define MONITOR_FIXTURES_H\n\n",
           "#include <math.h>\n\n"]
    out.append("""typedef struct NumericCase
{
	const char *name;
	int64		nref;
	const double *ref;
	int64		nwin;
	const double *win;
	int64		count;
	int64		missing;
	double		mean;
	double		sd;
	int			nbins;
	const double *edges;
	const double *shares;
	int			nquantiles;
	const double *quantiles;
	int64		win_count;
	int64		win_missing;
	double		missing_share;
	double		missing_change;
	double		psi;
	double		wasserstein;
	int			distribution;
	int			psi_drift;
	int			missing_drift;
	int			drift;
} NumericCase;

typedef struct CategoryCase
{
	const char *name;
	int			ndistinct;
	const int64 *counts;
	int64		missing;
	const int64 *win;			/* ncategories + 1 */
	int64		win_missing;
	int			ncategories;
	const int *kept;
	const double *shares;		/* ncategories + 1 */
	int64		win_count;
	double		missing_share;
	double		missing_change;
	double		psi;
	double		jensen_shannon;
	int			distribution;
	int			psi_drift;
	int			missing_drift;
	int			drift;
} CategoryCase;

typedef struct QualityCase
{
	const char *name;
	int64		n;
	const double *prob;
	const bool *outcome;
	int64		used;
	double		accuracy;
	double		expected_accuracy;
	double		ece;
	int			nbins;
	const int64 *bin_count;
	const double *bin_confidence;
	const double *bin_accuracy;
} QualityCase;

""")
    rows = []
    for i, (name, ref, win) in enumerate(numeric_cases(rng)):
        e = numeric_expect(ref, win)
        if name == "shifted normal":
            # what a test would say of the same samples: drift at any size
            print(f"# {name}: W normed {e['wasserstein']:.4f}, "
                  f"KS p {ks_2samp(ref, win).pvalue:.3g}")
        a = {k: arrays.add("double", v, c_double) for k, v in
             (("ref", ref), ("win", win), ("edges", e["edges"]),
              ("shares", e["shares"]), ("quantiles", e["quantiles"]))}
        rows.append(
            f'\t{{"{name}", {len(ref)}, {a["ref"]}, {len(win)}, {a["win"]}, '
            f'{e["count"]}, {e["missing"]}, {c_double(e["mean"])}, '
            f'{c_double(e["sd"])}, {e["nbins"]}, {a["edges"]}, {a["shares"]}, '
            f'{len(e["quantiles"])}, {a["quantiles"]}, {e["win_count"]}, '
            f'{e["win_missing"]}, {c_double(e["missing_share"])}, '
            f'{c_double(e["missing_change"])}, {c_double(e["psi"])}, '
            f'{c_double(e["wasserstein"])}, {e["distribution"]}, '
            f'{e["psi_drift"]}, {e["missing_drift"]}, {e["drift"]}}}')
    tables.append("\nstatic const NumericCase numeric_cases[] = {\n" +
               ",\n".join(rows) + "\n};\n\n")

    rows = []
    for i, (name, counts, missing, win, win_missing) in enumerate(
            category_cases(rng)):
        e = category_expect(counts, missing, win, win_missing)
        a = {"counts": arrays.add("int64", counts, str),
             "win": arrays.add("int64", win, str),
             "kept": arrays.add("int", e["kept"], str),
             "shares": arrays.add("double", e["shares"], c_double)}
        rows.append(
            f'\t{{"{name}", {len(counts)}, {a["counts"]}, {missing}, '
            f'{a["win"]}, {win_missing}, {len(e["kept"])}, {a["kept"]}, '
            f'{a["shares"]}, {e["win_count"]}, '
            f'{c_double(e["missing_share"])}, '
            f'{c_double(e["missing_change"])}, {c_double(e["psi"])}, '
            f'{c_double(e["js"])}, {e["distribution"]}, {e["psi_drift"]}, '
            f'{e["missing_drift"]}, {e["drift"]}}}')
    tables.append("\nstatic const CategoryCase category_cases[] = {\n" +
               ",\n".join(rows) + "\n};\n\n")

    rows = []
    for i, (name, prob, outcome) in enumerate(quality_cases(rng)):
        e = quality_expect(prob, outcome)
        a = {"prob": arrays.add("double", prob, c_double),
             "outcome": arrays.add("bool", outcome,
                                   lambda v: "true" if v else "false"),
             "count": arrays.add("int64", [b[0] for b in e["bins"]], str),
             "conf": arrays.add("double", [b[1] for b in e["bins"]], c_double),
             "acc": arrays.add("double", [b[2] for b in e["bins"]], c_double)}
        rows.append(
            f'\t{{"{name}", {len(prob)}, {a["prob"]}, {a["outcome"]}, {e["n"]}, '
            f'{c_double(e["accuracy"])}, {c_double(e["expected_accuracy"])}, '
            f'{c_double(e["ece"])}, {e["nbins"]}, {a["count"]}, {a["conf"]}, '
            f'{a["acc"]}}}')
    tables.append("\nstatic const QualityCase quality_cases[] = {\n" +
               ",\n".join(rows) + "\n};\n\n")
    out += arrays.text + tables
    out.append("#endif\t\t\t\t\t\t\t/* MONITOR_FIXTURES_H */\n")
    with open(OUT, "w") as f:
        f.write("".join(out))


def noise():
    """Distances of windows drawn from the reference's own distribution:
    mean and 99th percentile over 400 windows of each size."""
    rng = np.random.default_rng(1)
    ref = np.sort(rng.normal(0.0, 1.0, 100000))
    q = ref[np.floor((np.arange(QUANTILES) + 0.5) * len(ref) /
                     QUANTILES).astype(int)]
    p5 = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    p20 = np.full(20, 0.05)
    print("| window rows | W normed, N(0,1) | JS, 5 categories | "
          "JS, 20 categories |")
    print("| --- | --- | --- | --- |")
    for k in (100, 200, 500, 1000, 5000):
        w = [wasserstein_distance(q, rng.normal(0.0, 1.0, k)) / np.std(ref)
             for _ in range(400)]
        j5 = [jensenshannon(p5, rng.multinomial(k, p5) / k, base=2)
              for _ in range(400)]
        j20 = [jensenshannon(p20, rng.multinomial(k, p20) / k, base=2)
               for _ in range(400)]
        print(f"| {k} | " + " | ".join(
            f"{np.mean(v):.3f} (p99 {np.quantile(v, 0.99):.3f})"
            for v in (w, j5, j20)) + " |")


if __name__ == "__main__":
    if sys.argv[1:] == ["--noise"]:
        noise()
    else:
        main()
