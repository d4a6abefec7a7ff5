#!/usr/bin/python3
"""Compares an exporter's /metrics page with ml.prometheus_metrics.

    compare.py postgres|sql METRICS_FILE EXPECTED_TSV

EXPECTED_TSV holds the view's rows (name, labels as a JSON object, value),
tab-separated.  The page's learnloop samples are mapped back to the view's
names and labels: the labels an exporter adds itself (postgres_exporter's
server; sql_exporter's driver, host, user, col, sql_job) are dropped, and so
are empty ones (Prometheus reads an empty label as no label); sql_exporter's
sql_ prefix is taken off and its sql_learnloop_monitoring{metric="m"} read
as learnloop_monitoring_m.  postgres_exporter writes NaN for a monitoring
figure a model's latest window lacks: those samples are skipped.

Prints "matched/expected/extra": the view's samples found with the same
value, the view's samples, and the page's samples the view does not have;
the differences go to stderr.
"""
import json
import math
import re
import sys

ADDED = {"postgres": {"server"}, "sql": {"driver", "host", "user", "col", "sql_job"}}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def page_samples(mode, text):
    samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = SAMPLE.match(line)
        if not m:
            sys.exit("unparsable line: " + line)
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        if mode == "sql":
            if not name.startswith("sql_learnloop"):
                continue
            name = name[len("sql_"):]
        elif not name.startswith("learnloop"):
            continue
        pairs = {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in LABEL.findall(labels)}
        pairs = {k: v for k, v in pairs.items() if k not in ADDED[mode] and v != ""}
        if mode == "sql" and name == "learnloop_monitoring":
            name = "learnloop_monitoring_" + pairs.pop("metric")
        if math.isnan(value):
            continue
        key = (name, tuple(sorted(pairs.items())))
        if key in samples:
            sys.exit("duplicate sample: %s" % (key,))
        samples[key] = value
    return samples


def main():
    mode, page, expected = sys.argv[1:4]
    got = page_samples(mode, open(page).read())
    want = {}
    for line in open(expected):
        name, labels, value = line.rstrip("\n").split("\t")
        want[(name, tuple(sorted(json.loads(labels).items())))] = float(value)
    matched = 0
    for key, value in want.items():
        if key not in got:
            print("missing: %s = %r" % (key, value), file=sys.stderr)
        elif got[key] != value:
            print("different: %s = %r, page %r" % (key, value, got[key]), file=sys.stderr)
        else:
            matched += 1
    extra = [key for key in got if key not in want]
    for key in extra:
        print("extra: %s = %r" % (key, got[key]), file=sys.stderr)
    print("%d/%d/%d" % (matched, len(want), len(extra)))


main()
