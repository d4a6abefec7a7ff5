#!/usr/bin/python3
"""Writes test/unit/metrics_fixtures.h: seeded random inputs for
src/model/metrics.c with expected values computed independently.

Classification and regression references come from scikit-learn
(Debian's python3-sklearn) except log loss and ECE, which are written out
here (scikit-learn renormalizes rows in log_loss and has no ECE).  Ranking
references are written out here following XGBoost 1.7's rank_metric.cc;
when the xgboost Python package is importable they are also checked
against XGBoost's own ndcg@k / map@k evaluation.

Run from the repository root:  /usr/bin/python3 test/unit/make_metrics_fixtures.py
"""

import math
import os
import sys

import numpy as np
from sklearn.metrics import (accuracy_score, confusion_matrix,
                             mean_absolute_error, mean_squared_error,
                             precision_recall_fscore_support, r2_score,
                             roc_auc_score)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "metrics_fixtures.h")
RANK_KS = [1, 3, 5, 10, 0]     # 0: the whole list


def f32(a):
    return np.asarray(a, dtype=np.float32)


def c_float(x):
    # the shortest double repr of a float32 value parses back to that float
    return repr(float(np.float32(x))) + "f"


def c_double(x):
    if math.isnan(x):
        return "NAN"
    return repr(float(x))


def c_array(ctype, name, values, fmt):
    body = ", ".join(fmt(v) for v in values)
    return f"static const {ctype} {name}[] = {{{body}}};\n"


# ---------------------------------------------------------------- classification

def class_case(rng, n, nclass, present, tie_grid):
    """Random labels from the classes in present; probabilities from a
    noisy softmax favouring the true class, rounded to tie_grid so that
    AUC sees ties."""
    labels = rng.choice(present, size=n)
    logits = rng.normal(0.0, 1.0, size=(n, nclass))
    logits[np.arange(n), labels] += 1.2
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    probs = np.round(probs / tie_grid) * tie_grid
    if nclass == 2:
        probs[:, 0] = 1.0 - probs[:, 1]
    return f32(labels), f32(probs)


def class_expect(labels, probs):
    n, nclass = probs.shape
    y = labels.astype(np.int64)
    p = probs.astype(np.float64)
    pred = np.argmax(p, axis=1)         # first maximum, as the C code
    classes = list(range(nclass))

    prec, rec, f1, support = precision_recall_fscore_support(
        y, pred, labels=classes, zero_division=0)
    macro = precision_recall_fscore_support(
        y, pred, labels=classes, average="macro", zero_division=0)
    weighted = precision_recall_fscore_support(
        y, pred, labels=classes, average="weighted", zero_division=0)

    auc = []
    for c in classes:
        pos = y == c
        auc.append(roc_auc_score(pos, p[:, c])
                   if 0 < pos.sum() < n else float("nan"))
    if nclass == 2:
        roc_auc = auc[1]
    else:
        defined = [a for a in auc if not math.isnan(a)]
        roc_auc = float(np.mean(defined)) if defined else float("nan")

    true_p = np.clip(p[np.arange(n), y], 1e-15, 1 - 1e-15)
    log_loss = float(-np.mean(np.log(true_p)))

    conf = p[np.arange(n), pred]
    correct = (pred == y).astype(np.float64)
    edges = np.arange(1, 10) / 10.0
    bins = np.searchsorted(edges, conf, side="left")   # (k/10, (k+1)/10]
    ece = 0.0
    for b in range(10):
        m = bins == b
        if m.any():
            ece += m.sum() / n * abs(correct[m].mean() - conf[m].mean())

    return dict(
        accuracy=accuracy_score(y, pred), log_loss=log_loss, roc_auc=roc_auc,
        macro_precision=macro[0], macro_recall=macro[1], macro_f1=macro[2],
        weighted_f1=weighted[2], ece=ece,
        precision=prec, recall=rec, f1=f1, auc=auc, support=support,
        confusion=confusion_matrix(y, pred, labels=classes).ravel())


CLASS_SCALARS = ["accuracy", "log_loss", "roc_auc", "macro_precision",
                 "macro_recall", "macro_f1", "weighted_f1", "ece"]
CLASS_ARRAYS = ["precision", "recall", "f1", "auc"]


def emit_class(out, name, labels, probs):
    e = class_expect(labels, probs)
    n, nclass = probs.shape
    out.append(c_array("float", f"{name}_labels", labels, c_float))
    out.append(c_array("float", f"{name}_probs", probs.ravel(), c_float))
    for a in CLASS_ARRAYS:
        out.append(c_array("double", f"{name}_{a}", e[a], c_double))
    out.append(c_array("int64", f"{name}_support", e["support"], str))
    out.append(c_array("int64", f"{name}_confusion", e["confusion"], str))
    scalars = ", ".join(c_double(e[s]) for s in CLASS_SCALARS)
    arrays = ", ".join(f"{name}_{a}" for a in CLASS_ARRAYS)
    return (f'\t{{"{name}", {n}, {nclass}, {name}_labels, {name}_probs, '
            f'{scalars}, {arrays}, {name}_support, {name}_confusion}}')


# ---------------------------------------------------------------- regression

def emit_regression(out, name, labels, preds):
    y = labels.astype(np.float64)
    p = preds.astype(np.float64)
    out.append(c_array("float", f"{name}_labels", labels, c_float))
    out.append(c_array("float", f"{name}_preds", preds, c_float))
    vals = [math.sqrt(mean_squared_error(y, p)), mean_absolute_error(y, p),
            r2_score(y, p), float(np.mean(y))]
    return (f'\t{{"{name}", {len(y)}, {name}_labels, {name}_preds, '
            + ", ".join(c_double(v) for v in vals) + "}")


# ---------------------------------------------------------------- ranking

def order_by_score(scores):
    # descending, ties in input order: XGBoost's stable sort
    return np.argsort(-scores, kind="stable")


def ndcg_group(rel, scores, k):
    top = len(rel) if k < 1 else min(k, len(rel))
    disc = 1.0 / np.log2(np.arange(top) + 2.0)
    gains = 2.0 ** rel.astype(np.int64) - 1.0
    idcg = float(np.sum(np.sort(gains)[::-1][:top] * disc))
    if idcg == 0.0:
        return 1.0
    return float(np.sum(gains[order_by_score(scores)][:top] * disc)) / idcg


def map_group(rel, scores, k):
    relevant = rel.astype(np.int64)[order_by_score(scores)] != 0
    if not relevant.any():
        return 1.0
    hits = np.cumsum(relevant)
    pos = np.arange(1, len(rel) + 1)
    within = pos <= (len(rel) if k < 1 else k)
    return float(np.sum((hits / pos)[relevant & within])) / relevant.sum()


def rank_expect(labels, scores, ptr):
    res = {}
    for k in RANK_KS:
        groups = [(labels[a:b].astype(np.float64), scores[a:b].astype(np.float64))
                  for a, b in zip(ptr[:-1], ptr[1:])]
        res[("ndcg", k)] = float(np.mean([ndcg_group(r, s, k) for r, s in groups]))
        res[("map", k)] = float(np.mean([map_group(r, s, k) for r, s in groups]))
    return res


def xgboost_check(labels, scores, ptr, expect):
    """Evaluates the same scores with XGBoost itself (0 boosting rounds, the
    scores as base margin); it prints 17 digits."""
    try:
        import xgboost as xgb
    except ImportError:
        print("xgboost not importable: ranking references not cross-checked")
        return
    d = xgb.DMatrix(np.zeros((len(labels), 1)), label=labels,
                    base_margin=scores)
    d.set_group(np.diff(ptr))
    for k in RANK_KS:
        for m in ("ndcg", "map"):
            metric = f"{m}@{k}" if k > 0 else m
            bst = xgb.train({"objective": "rank:pairwise",
                             "eval_metric": metric}, d, num_boost_round=0)
            got = float(bst.eval(d, "x").split(":")[-1])
            if abs(got - expect[(m, k)]) > 1e-12:
                sys.exit(f"xgboost {xgb.__version__} {metric}={got!r}, "
                         f"reference {expect[(m, k)]!r}")
    print(f"ranking references agree with xgboost {xgb.__version__}")


def emit_rank(out, name, labels, scores, ptr):
    e = rank_expect(labels, scores, ptr)
    xgboost_check(labels, scores, ptr, e)
    out.append(c_array("float", f"{name}_labels", labels, c_float))
    out.append(c_array("float", f"{name}_scores", scores, c_float))
    out.append(c_array("int64", f"{name}_ptr", ptr, str))
    rows = []
    for k in RANK_KS:
        rows.append(f'\t{{"{name}", {len(ptr) - 1}, {name}_labels, '
                    f'{name}_scores, {name}_ptr, {k}, '
                    f'{c_double(e[("ndcg", k)])}, {c_double(e[("map", k)])}}}')
    return rows


# ---------------------------------------------------------------- main

def main():
    rng = np.random.default_rng(20240611)
    out = ["/* Generated by test/unit/make_metrics_fixtures.py; do not edit. */\n",
           "#ifndef METRICS_FIXTURES_H\n#define METRICS_FIXTURES_H\n\n",
           "#include <math.h>\n\n",
           "typedef struct ClassCase\n{\n\tconst char *name;\n\tint64\t\tn;\n"
           "\tint\t\t\tnclass;\n\tconst float *labels;\n\tconst float *probs;\n"
           + "".join(f"\tdouble\t\t{s};\n" for s in CLASS_SCALARS)
           + "".join(f"\tconst double *{a};\n" for a in CLASS_ARRAYS)
           + "\tconst int64 *support;\n\tconst int64 *confusion;\n} ClassCase;\n\n",
           "typedef struct RegressionCase\n{\n\tconst char *name;\n\tint64\t\tn;\n"
           "\tconst float *labels;\n\tconst float *preds;\n\tdouble\t\trmse;\n"
           "\tdouble\t\tmae;\n\tdouble\t\tr2;\n\tdouble\t\tmean_label;\n"
           "} RegressionCase;\n\n",
           "typedef struct RankCase\n{\n\tconst char *name;\n\tint64\t\tngroups;\n"
           "\tconst float *labels;\n\tconst float *scores;\n"
           "\tconst int64 *group_ptr;\n\tint\t\t\tk;\n\tdouble\t\tndcg;\n"
           "\tdouble\t\tmap;\n} RankCase;\n\n"]

    # binary with coarse ties; 3-class; 4-class where class 3 never occurs
    # (AUC NaN, recall 0) and class 2 is rare (likely never predicted)
    class_rows = [
        emit_class(out, "binary", *class_case(rng, 400, 2, [0, 1], 0.02)),
        emit_class(out, "three", *class_case(rng, 600, 3, [0, 1, 2], 0.01)),
        emit_class(out, "four_absent",
                   *class_case(rng, 300, 4, [0, 0, 0, 1, 1, 1, 2], 0.05)),
    ]

    y = rng.normal(10.0, 4.0, size=500)
    reg_rows = [
        emit_regression(out, "reg", f32(y), f32(y + rng.normal(0.5, 2.0, 500))),
        emit_regression(out, "reg_small", f32([1.5, -2.0, 3.25, 0.0, 7.0]),
                        f32([1.0, -1.0, 3.0, 0.5, 5.0])),
    ]

    # ranking: groups of varied sizes including 1, an all-irrelevant group
    # and scores on a coarse grid so many tie; dyadic values keep them exact
    sizes = [7, 1, 12, 25, 4, 9, 30, 3]
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(ptr[-1])
    rel = rng.choice([0, 0, 0, 1, 1, 2, 3, 4], size=n)
    rel[ptr[4]:ptr[5]] = 0
    scores = rng.integers(-8, 9, size=n) / 8.0
    rank_rows = emit_rank(out, "rank", f32(rel), f32(scores), ptr)

    # one big group of graded relevance, fewer ties
    ptr2 = np.array([0, 60], dtype=np.int64)
    rel2 = rng.integers(0, 5, size=60)
    scores2 = rng.integers(-64, 65, size=60) / 16.0
    rank_rows += emit_rank(out, "rank_big", f32(rel2), f32(scores2), ptr2)

    out.append("\nstatic const ClassCase class_cases[] = {\n"
               + ",\n".join(class_rows) + "\n};\n")
    out.append("\nstatic const RegressionCase regression_cases[] = {\n"
               + ",\n".join(reg_rows) + "\n};\n")
    out.append("\nstatic const RankCase rank_cases[] = {\n"
               + ",\n".join(rank_rows) + "\n};\n")
    out.append("\n#endif\t\t\t\t\t\t\t/* METRICS_FIXTURES_H */\n")
    with open(OUT, "w") as f:
        f.write("".join(out))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
