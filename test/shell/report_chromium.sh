#!/usr/bin/env bash
# ml.report in a real browser: the page written to a file from psql, as the
# docs say, is rendered by headless Chromium (Debian's chromium), which must
# log nothing to the console (the page has no script, and its policy turns
# any load from the network into a console error) and whose screenshot must
# show the charts: many colours, the red bar of a drifted feature and the
# blue lines.  Two broken pages, a blank one and one with a script, must fail
# the same checks, so the checks can fail.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_report_chromium
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v chromium >/dev/null || { echo "not ok 1 - chromium is not installed (scripts/install-deps.sh)"; exit 1; }
# Debian's python3, which python3-pil is for (not another one first on PATH)
py=/usr/bin/python3
$py -c 'import PIL' 2>/dev/null || { echo "not ok 1 - python3-pil is not installed (scripts/install-deps.sh)"; exit 1; }

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
psql -X -q -d "$db" -c "CREATE EXTENSION learnloop"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE TABLE t AS SELECT (i % 7)::float8 AS x, i % 7 > 3 AS y FROM generate_series(1, 300) i;
SELECT count(*) FROM ml.train('rc_model', 't', 'y', params => '{"num_round": 2}');
-- a day of hourly windows: accuracy falling, latency rising
INSERT INTO ml.mlmonitoringmetrics (model_name, model_version, period_start, period_end, metric, value, metrics)
SELECT 'rc_model', 1, t - interval '1 hour', t, m.metric, m.value + h * m.step, m.details
  FROM generate_series(0, 23) h,
       LATERAL (SELECT timestamptz '2026-01-01 01:00+00' + h * interval '1 hour' AS t) tt,
       (VALUES ('decisions', 900, 20, '{}'::jsonb), ('ml_usage_rate', 0.7, 0.01, '{}'),
               ('outcome_share', 0.3, 0.02, '{}'), ('accuracy', 0.92, -0.01, '{}'),
               ('estimated_accuracy_matched', 0.9, 0, '{}'), ('estimated_accuracy', 0.89, 0, '{}'),
               ('latency_p50_ms', 0.3, 0.01, '{}'), ('latency_p95_ms', 1.2, 0.05, '{}'),
               ('latency_p99_ms', 4, 0.3, '{}'),
               ('ece', 0.03, 0.002, '{"bins": [{"count": 80, "mean_predicted": 0.55, "observed": 0.52},
                                               {"count": 90, "mean_predicted": 0.66, "observed": 0.61},
                                               {"count": 90, "mean_predicted": 0.78, "observed": 0.7},
                                               {"count": 85, "mean_predicted": 0.9, "observed": 0.8}]}')
       ) m(metric, value, step, details);
-- drift in the newest window; a feature named like a script, which must stay text
INSERT INTO ml.mlmonitoringmetrics (model_name, model_version, period_start, period_end, metric, feature, value)
SELECT 'rc_model', 1, '2026-01-01 23:00+00', '2026-01-02 00:00+00', metric, feature, value
  FROM (VALUES ('drift_wasserstein', 'x', 0.31), ('drift', 'x', 1),
               ('drift_jensen_shannon', 'channel', 0.04), ('drift', 'channel', 0),
               ('drift_wasserstein', '<script>console.error("escaped?")</script>', 0.08),
               ('drift', '<script>console.error("escaped?")</script>', 0),
               ('prediction_drift_wasserstein', NULL, 0.15), ('prediction_drift', NULL, 1),
               ('dataset_drift', NULL, 1), ('drifted_features_share', NULL, 0.33)) v(metric, feature, value);
SQL

# the docs' recipe: psql -At writes the text as it is
psql -X -At -d "$db" -o "$work/report.html" -c "SELECT ml.report('rc_model', since => NULL)"
ok "$(head -c 15 "$work/report.html")" "<!DOCTYPE html>" "psql -At writes the page to a file"

# Chromium as root in a container: no sandbox, no GPU, a profile of its own,
# no background traffic of the browser's own
chromium_run() {
  timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --disable-extensions --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" "$@"
}

# Renders $1 into $1.png (a tall window: the whole page); prints the number
# of console lines Chromium logged
render() {
  chromium_run --enable-logging=stderr --v=0 --window-size=1280,2000 --screenshot="$1.png" "file://$1" \
    >/dev/null 2>"$1.log"
  grep -c ':CONSOLE' "$1.log"
}

# "distinct colours, share of pixels that are neither white nor the page's grey,
# pixels of the drifted red, pixels of the series blue"
pixels() {
  $py - "$1" <<'PY'
import sys
from PIL import Image
img = Image.open(sys.argv[1]).convert("RGB")
data = list(img.getdata())
near = lambda p, c: all(abs(a - b) <= 12 for a, b in zip(p, c))
plain = sum(1 for p in data if p == (255, 255, 255) or p == (243, 244, 246))
red = sum(1 for p in data if near(p, (220, 38, 38)))
blue = sum(1 for p in data if near(p, (37, 99, 235)))
print(len(set(data)), round(1 - plain / len(data), 3), red, blue)
PY
}

# the page must pass: nothing logged, a picture with the charts, the sections in the DOM
consoles=$(render "$work/report.html")
chromium_run --dump-dom "file://$work/report.html" >"$work/report.html.dom" 2>/dev/null
ok "$consoles" 0 "Chromium logs no console message for the report"
[ "$consoles" = 0 ] || sed -n '/:CONSOLE/p' "$work/report.html.log" | head -5
read -r colours inked red blue < <(pixels "$work/report.html.png")
echo "# screenshot: $colours colours, $inked of the pixels inked, $red drifted-red, $blue series-blue"
ok "$([ "$colours" -ge 100 ] && echo yes)" yes "the screenshot is not blank: at least 100 colours"
ok "$($py -c "print('yes' if $inked >= 0.05 else 'no')")" yes "at least 5 % of the pixels are inked"
ok "$([ "$red" -ge 300 ] && echo yes)" yes "the drifted feature's red bar is drawn"
ok "$([ "$blue" -ge 300 ] && echo yes)" yes "the blue series and calibration points are drawn"
ok "$(grep -o '<section id="[a-z]*"' "$work/report.html.dom" | tr '\n' ' ')" \
   '<section id="alerts" <section id="usage" <section id="quality" <section id="latency" <section id="calibration" <section id="drift" ' \
   "the browser's DOM has the sections"
ok "$(grep -o '<svg' "$work/report.html.dom" | wc -l)" 6 "and six charts"
ok "$(grep -c '<script' "$work/report.html.dom")" 0 "the feature named like a script is text, not an element"

# the checks fail on broken pages: a blank one, and the report with a script in it
printf '<!DOCTYPE html><html><body></body></html>\n' >"$work/blank.html"
render "$work/blank.html" >/dev/null
read -r colours inked red blue < <(pixels "$work/blank.html.png")
ok "$([ "$colours" -ge 100 ] && echo yes || echo no)" no "a blank page fails the colour check ($colours colours)"
sed 's|</body>|<script>document.title = "x"</script></body>|' "$work/report.html" >"$work/scripted.html"
ok "$(render "$work/scripted.html")" 1 "a page with a script fails the console check (the policy refuses it)"

dropdb "$db"
finish
