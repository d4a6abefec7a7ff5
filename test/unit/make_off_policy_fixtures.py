#!/usr/bin/python3
"""Writes test/unit/off_policy_fixtures.h: seeded logged decisions and the
off-policy estimates of src/policy/off_policy.c computed independently
with numpy (Debian's python3-numpy) from the formulas of
docs/exploration.md.

The bootstrap's Poisson counts come from the same seeded stream as the C
code's (learnloop's splitmix64 PRNG, written out below), so the intervals
can be compared exactly; the sums, ratios, clipping, standard errors and
percentiles (numpy.percentile's default linear interpolation) are numpy's.

Run from anywhere:  /usr/bin/python3 test/unit/make_off_policy_fixtures.py
"""

import math
import os
import random

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "off_policy_fixtures.h")
MASK = (1 << 64) - 1
POISSON_MAX = 16


class Prng:
    """src/common/prng.c: FNV-1a of the key xor seed * golden, then splitmix64."""

    def __init__(self, seed, key):
        h = 14695981039346656037
        for c in key.encode():
            h ^= c
            h = (h * 1099511628211) & MASK
        self.state = h ^ ((seed * 0x9E3779B97F4A7C15) & MASK)

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def poisson_table():
    p = 0.36787944117144233
    cdf, out = p, []
    for k in range(POISSON_MAX):
        out.append(cdf)
        p /= k + 1
        cdf += p
    return out


CDF = poisson_table()


def poisson(bits):
    u = bits * (1.0 / 4294967296.0)
    k = 0
    while k < POISSON_MAX and u >= CDF[k]:
        k += 1
    return k


def counts(n, resamples, seed):
    """The counts matrix (resamples x n): row i (key i + 1) draws from its own stream."""
    base = Prng(seed, "off-policy").state
    c = np.zeros((resamples, n))
    for i in range(n):
        prng = Prng(0, "")
        prng.state = base ^ (((i + 1) * 0xD1B54A32D192ED03) & MASK)
        bits = 0
        for b in range(resamples):
            if b % 2 == 0:
                bits = prng.next()
                c[b, i] = poisson(bits >> 32)
            else:
                c[b, i] = poisson(bits & 0xFFFFFFFF)
    return c


def estimates(c, r, p, pi, q_logged, q_policy, max_weight):
    """Each estimator for each row of the counts matrix c (NaN where undefined)."""
    w = np.minimum(pi / p, max_weight)
    n = c.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "logged": (c @ r) / n,
            "ips": (c @ (w * r)) / n,
            "snips": (c @ (w * r)) / (c @ w),
            "dr": (c @ (q_policy + w * (r - q_logged))) / n,
        }
    for k in out:
        out[k] = np.where(n > 0, out[k], np.nan)
    out["snips"] = np.where(c @ w > 0, out["snips"], np.nan)
    return out


def num(x):
    x = float(x)
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    return "%.17g" % x


def case(name, rows, max_weight, resamples, seed, level, lines):
    r, p, pi, q_logged, q_policy = (np.array(col, dtype=float) for col in zip(*rows))
    w = np.minimum(pi / p, max_weight)
    full = estimates(np.ones((1, len(r))), r, p, pi, q_logged, q_policy, max_weight)
    boot = estimates(counts(len(r), resamples, seed), r, p, pi, q_logged, q_policy,
                     max_weight)
    lines.append("static const OffPolicyRow %s_rows[] = {" % name)
    for key, row in enumerate(rows, 1):
        lines.append("\t{%d, " % key + ", ".join(num(v) for v in row) + "},")
    lines.append("};\n")
    lines.append("static const OffPolicyCase %s = {" % name)
    lines.append("\t%s_rows, %d, %s, %d, %d, %s, %d, %s, %s, {" % (
        name, len(rows), num(max_weight), resamples, seed, num(level),
        int(np.sum(pi / p > max_weight)), num(np.max(pi / p)),
        num(w.sum() ** 2 / (w * w).sum()) if (w * w).sum() > 0 else "0"))
    tails = [100 * (1 - level) / 2, 100 * (1 - (1 - level) / 2)]
    for est in ("logged", "ips", "snips", "dr"):
        value = full[est][0]
        lift = value - full["logged"][0]
        ok = ~np.isnan(boot[est])
        v = boot[est][ok]
        d = v - boot["logged"][ok]
        if len(v) > 0:
            lo, hi = np.percentile(v, tails)
            dlo, dhi = np.percentile(d, tails)
        else:
            lo = hi = dlo = dhi = float("nan")
        se = np.std(v, ddof=1) if len(v) > 1 else float("nan")
        lines.append("\t\t{%s}," % ", ".join(num(x) for x in (value, lo, hi, se, lift, dlo, dhi)))
    lines.append("\t}\n};\n")


def compare(name, rows_a, rows_b, max_weight, resamples, seed, level, lines):
    """Candidate a minus candidate b on the same logged rows (same r and p): paired resamples."""
    c = counts(len(rows_a), resamples, seed)
    cols_a = [np.array(col, dtype=float) for col in zip(*rows_a)]
    cols_b = [np.array(col, dtype=float) for col in zip(*rows_b)]
    ones = np.ones((1, len(rows_a)))
    full_a, full_b = estimates(ones, *cols_a, max_weight), estimates(ones, *cols_b, max_weight)
    boot_a, boot_b = estimates(c, *cols_a, max_weight), estimates(c, *cols_b, max_weight)
    lines.append("static const OffPolicyRow %s_b_rows[] = {" % name)
    for key, row in enumerate(rows_b, 1):
        lines.append("\t{%d, " % key + ", ".join(num(v) for v in row) + "},")
    lines.append("};\n")
    lines.append("static const OffPolicyComparisonCase %s = {" % name)
    lines.append("\t%s_b_rows, {" % name)
    tails = [100 * (1 - level) / 2, 100 * (1 - (1 - level) / 2)]
    for est in ("logged", "ips", "snips", "dr"):
        d = boot_a[est] - boot_b[est]
        d = d[~np.isnan(d)]
        lo, hi = np.percentile(d, tails) if len(d) else (float("nan"), float("nan"))
        lines.append("\t\t{%s}," % ", ".join(num(x) for x in (full_a[est][0] - full_b[est][0], lo, hi)))
    lines.append("\t}\n};\n")


def logged_rows(rng, n, actions, dm):
    """A logging policy with per-row propensities, a candidate, and a direct method."""
    rows = []
    for _ in range(n):
        logits = [rng.gauss(0, 1) for _ in range(actions)]
        total = sum(math.exp(x) for x in logits)
        logging = [math.exp(x) / total for x in logits]
        a = rng.choices(range(actions), weights=logging)[0]
        best = max(range(actions), key=lambda i: logits[i] * (1 if i % 2 else -1))
        eps = 0.2
        candidate = [eps / actions + (1 - eps) * (i == best) for i in range(actions)]
        truth = [0.2 + 0.6 * ((i * 7 + 3) % actions) / actions for i in range(actions)]
        reward = 1.0 if rng.random() < truth[a] else 0.0
        q = [min(1.0, max(0.0, t + rng.gauss(0, 0.1))) for t in truth] if dm else [0.0] * actions
        q_policy = sum(candidate[i] * q[i] for i in range(actions))
        rows.append((reward, logging[a], candidate[a], q[a], q_policy))
    return rows


def main():
    rng = random.Random(20261130)
    lines = ["/* Generated by make_off_policy_fixtures.py with numpy %s; do not edit. */"
             % np.__version__,
             "#ifndef OFF_POLICY_FIXTURES_H\n#define OFF_POLICY_FIXTURES_H\n",
             "typedef struct OffPolicyExpected\n{\n\tdouble\t\tvalue;\n\tdouble\t\tci_low;\n"
             "\tdouble\t\tci_high;\n\tdouble\t\tstd_error;\n\tdouble\t\tlift;\n"
             "\tdouble\t\tlift_low;\n\tdouble\t\tlift_high;\n} OffPolicyExpected;\n",
             "typedef struct OffPolicyCase\n{\n\tconst OffPolicyRow *rows;\n\tint\t\t\tnrows;\n"
             "\tdouble\t\tmax_weight;\n\tint\t\t\tresamples;\n\tint\t\t\tseed;\n\tdouble\t\tlevel;\n"
             "\tint\t\t\tclipped;\n\tdouble\t\tlargest_weight;\n\tdouble\t\tess;\n"
             "\tOffPolicyExpected expected[4];\n} OffPolicyCase;\n"]
    rows = logged_rows(rng, 300, 4, True)
    case("unclipped", rows, float("inf"), 200, 42, 0.95, lines)
    # another candidate on the same rows: uniform over the 4 actions, its DM shifted by 0.05
    other = [(r, p, 0.25, q_logged + 0.05, q_policy + 0.05) for (r, p, pi, q_logged, q_policy) in rows]
    lines.append("typedef struct OffPolicyComparisonCase\n{\n\tconst OffPolicyRow *b_rows;\n"
                 "\tdouble\t\texpected[4][3];\t/* difference, low, high */\n} OffPolicyComparisonCase;\n")
    compare("unclipped_vs_uniform", rows, other, float("inf"), 200, 42, 0.95, lines)
    case("clipped", rows, 2.5, 199, 7, 0.9, lines)
    case("no_direct_method", logged_rows(rng, 120, 3, False), 10.0, 101, 3, 0.95, lines)
    # three rows: some resamples draw none of them; the candidate never takes the logged actions
    case("tiny", [(1.0, 0.5, 0.0, 0.0, 0.0), (0.0, 0.25, 0.0, 0.0, 0.0), (1.0, 1.0, 0.0, 0.0, 0.0)],
         float("inf"), 64, 5, 0.95, lines)
    lines.append("#endif")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
