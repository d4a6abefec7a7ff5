-- ml.report (issue 11): a model's monitoring as one self-contained HTML page.  The rows of
-- ml.MLMonitoringMetrics are written here by hand, with known values, as ml.monitor writes them.
SET client_min_messages = warning;
CREATE TABLE rp_data AS
SELECT (i % 17)::float8 AS x1, (ARRAY['a', 'b', 'c'])[1 + i % 3] AS action, (i % 17) > 8 OR i % 3 = 0 AS y
  FROM generate_series(1, 300) i;
SELECT version, deployed FROM ml.train('rp_model', 'SELECT x1, action, y FROM rp_data', 'y',
                                       params => '{"num_round": 2, "max_depth": 2}');
SELECT version, deployed FROM ml.train('rp_quiet', 'SELECT x1, action, y FROM rp_data', 'y',
                                       params => '{"num_round": 2, "max_depth": 2}');

-- four hourly windows of the overall metrics ending 2026-01-01 01:00 .. 04:00 UTC, each metric
-- growing by its step per window, and an old window of 2020
INSERT INTO ml.mlmonitoringmetrics (model_name, model_version, period_start, period_end, metric, value, metrics)
SELECT 'rp_model', 1, t - interval '1 hour', t, m.metric, m.value + w * m.step, m.details
  FROM generate_series(0, 3) w,
       LATERAL (SELECT timestamptz '2026-01-01 01:00+00' + w * interval '1 hour' AS t) tt,
       (VALUES ('decisions', 1200, 100, '{}'::jsonb), ('ml_usage_rate', 0.8, 0.02, '{}'),
               ('outcome_share', 0.5, 0.1, '{}'), ('accuracy', 0.9, -0.05, '{}'),
               ('estimated_accuracy_matched', 0.88, 0, '{}'), ('estimated_accuracy', 0.87, 0, '{}'),
               ('latency_p50_ms', 0.25, 0.01, '{}'), ('latency_p95_ms', 1.5, 0.1, '{}'),
               ('latency_p99_ms', 12.5, 1, '{}'),
               ('ece', 0.04, 0.01, '{"bins": [{"count": 100, "mean_predicted": 0.55, "observed": 0.5},
                                              {"count": 300, "mean_predicted": 0.7, "observed": 0.72},
                                              {"count": 200, "mean_predicted": 0.9, "observed": 0.8}]}')
       ) m(metric, value, step, details);
INSERT INTO ml.mlmonitoringmetrics (model_name, model_version, period_start, period_end, metric, value)
VALUES ('rp_model', 1, '2020-01-01 00:00+00', '2020-01-01 01:00+00', 'decisions', 7),
       -- the newest window measured for a second version too: the newer version is shown
       ('rp_model', 2, '2026-01-01 03:00+00', '2026-01-01 04:00+00', 'decisions', 1600);
-- a slice (decided_by, an experiment arm) is not the overall figure
INSERT INTO ml.mlmonitoringmetrics (model_name, model_version, period_start, period_end, metric, value,
                                    decided_by, experiment, variant)
VALUES ('rp_model', 1, '2026-01-01 03:00+00', '2026-01-01 04:00+00', 'accuracy', 0.123, 'model', NULL, NULL),
       ('rp_model', 1, '2026-01-01 03:00+00', '2026-01-01 04:00+00', 'ml_usage_rate', 0.321, NULL, 'e', 'model');
-- drift in the newest window, with a feature named like markup
INSERT INTO ml.mlmonitoringmetrics (model_name, model_version, period_start, period_end, metric, feature, value)
SELECT 'rp_model', 1, '2026-01-01 03:00+00', '2026-01-01 04:00+00', metric, feature, value
  FROM (VALUES ('drift_wasserstein', 'x1', 0.234), ('drift_psi', 'x1', 0.31), ('missing_share', 'x1', 0), ('drift', 'x1', 1),
               ('drift_jensen_shannon', 'action', 0.042), ('drift_psi', 'action', 0.01),
               ('missing_share', 'action', 0.05), ('drift', 'action', 0),
               ('drift_wasserstein', '<script>alert(1)</script>', 0.05), ('drift', '<script>alert(1)</script>', NULL),
               ('prediction_drift_wasserstein', NULL, 0.12), ('prediction_drift', NULL, 1),
               ('dataset_drift', NULL, 1), ('drifted_features_share', NULL, 0.5)) v(metric, feature, value);

CREATE TABLE rp_page AS SELECT ml.report('rp_model', since => '2025-12-31 00:00+00') AS html;
-- a whole page, and nothing in it that runs or loads: no script, no event handler, no URL
-- but the SVG namespace (a name, never fetched); a policy that would block them anyway
SELECT html LIKE '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">%' AS starts,
       html LIKE '%</footer></body></html>' AS ends,
       html !~* '<script' AS no_script, html !~* '\son[a-z]+=' AS no_handler,
       html !~* '(src|href)=|url\(|@import' AS no_fetch,
       regexp_replace(html, 'xmlns="http://www.w3.org/2000/svg"', '', 'g') !~* 'https?:' AS no_url,
       html ~ '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''">' AS policy
  FROM rp_page;
-- the sections
SELECT s AS section, html ~ ('<section id="' || s || '"') AS present
  FROM rp_page, unnest(ARRAY['alerts', 'usage', 'quality', 'latency', 'calibration', 'drift', 'empty']) s;
-- the header: model, deployed version, the windows since the start (the 2020 one is not)
SELECT substring(html FROM '<h1>[^<]*</h1><p>[^<]* &middot; [^<]* &middot; [0-9]+ monitoring windows') AS head
  FROM rp_page;
-- the tiles: the newest window's values, rounded, in their units (the second version's
-- decisions, not the decided_by slice's accuracy)
SELECT k, substring(html FROM '<div class="k">' || k || '</div><div class="v">([^<]*)</div>') AS shown
  FROM rp_page, unnest(ARRAY['Decisions', 'ML usage', 'Accuracy', 'Outcomes in', 'ECE', 'Latency p95', 'Drifted']) k;
SELECT substring(html FROM 'Newest window: (p50 [^<]*)</p>') AS latency,
       substring(html FROM 'expected calibration error ([0-9.]+ over [0-9]+ bins)') AS ece
  FROM rp_page;
-- the calibration curve: the diagonal, and the bins at (60 + 240 p, 60 + 240 (1 - o)) in the
-- 360-wide square, ordered by prediction; the dashed line is the diagonal
SELECT html ~ 'stroke-dasharray="6 4"><title>perfect calibration' AS diagonal,
       (SELECT string_agg(m[1] || ',' || m[2], ' ')
          FROM regexp_matches(html, '<circle cx="([0-9.]+)" cy="([0-9.]+)" r="[0-9.]+" fill="#2563eb" fill-opacity', 'g') m) AS bins
  FROM rp_page;
-- drift: the feature named like markup is text; bars in red (drifted), green, grey (not judged)
SELECT html ~ '&lt;script&gt;alert\(1\)&lt;/script&gt;' AS feature_escaped,
       (SELECT string_agg(m[1], ' ') FROM regexp_matches(html, '<rect x="160.0" y="[0-9.]+" width="[0-9.]+" height="18" rx="2" fill="(#[0-9a-f]+)"', 'g') m) AS bar_colours,
       substring(html FROM '>0.234 drifted<') IS NOT NULL AS x1_drifted,
       substring(html FROM 'threshold 0.1<') IS NOT NULL AS threshold,
       substring(html FROM 'Dataset: (<span class="badge drifted">drifted</span> \(50.0.%)') IS NOT NULL AS dataset,
       substring(html FROM 'Predictions: (0.12 <span class="badge drifted">)') IS NOT NULL AS predictions
  FROM rp_page;
-- the time series: one point per window (four), on the decisions chart from 1 200 to 1 600
SELECT (SELECT count(*) FROM regexp_matches(html, '<title>decisions: ', 'g')) AS decision_points,
       substring(html FROM '<title>decisions: ([^<]*)</title>') AS first_point,
       (SELECT count(*) FROM regexp_matches(html, '<title>p99: ', 'g')) AS p99_points
  FROM rp_page;

-- since NULL: every window, the one of 2020 too
SELECT substring(ml.report('rp_model', NULL) FROM '([0-9]+) monitoring windows') AS windows_all;

-- a model with no monitoring rows: a page that says so
SELECT html ~ '<section id="empty">' AS empty, html ~ 'There are no monitoring rows for this model' AS says_so,
       html !~ '<svg' AS no_charts, html ~ '<code>ml.monitor\(&#39;rp_quiet&#39;\)</code>' AS tells_how
  FROM (SELECT ml.report('rp_quiet') AS html) p;
-- rows that are all older than the start: it says so, and how many
SELECT substring(ml.report('rp_model', '2027-01-01') FROM '\(([0-9]+ older rows)') AS older;

-- untrusted rows: a name with markup and quotes, malformed calibration bins, a NaN value:
-- skipped or shown as a dash, never an error
INSERT INTO ml.mlmonitoringmetrics (model_name, period_start, period_end, metric, value, metrics)
VALUES ('<b>"x"&''y''</b>', '2026-01-01 00:00+00', '2026-01-01 01:00+00', 'ece', 'NaN',
        '{"bins": [1, {"count": "abc", "mean_predicted": 0.6, "observed": 0.6}, {"count": 5, "mean_predicted": 1.5, "observed": 0.5},
                   {"count": 5, "mean_predicted": 0.6, "observed": 1e400}, {"count": 5, "mean_predicted": 0.6, "observed": 0.7}]}'),
       ('<b>"x"&''y''</b>', '2026-01-01 00:00+00', '2026-01-01 01:00+00', 'decisions', 'Infinity', '{}'),
       ('<b>"x"&''y''</b>', '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'ece', 0.5, '{"bins": "oops"}');
SELECT html ~ '<title>learnloop report: &lt;b&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/b&gt;</title>' AS title_escaped,
       html ~ '<h1>Model &lt;b&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/b&gt;</h1>' AS heading_escaped,
       html !~ '<b>' AS no_bold,
       substring(html FROM '<div class="k">Decisions</div><div class="v">([^<]*)<') AS decisions,
       substring(html FROM 'calibration error ([^<]*)</p>') AS newest_ece,
       html ~ 'no version deployed &middot; 0 trained versions' AS registry
  FROM (SELECT ml.report('<b>"x"&''y''</b>', NULL) AS html) p;
-- its older window's bins: only the one well-formed bin in range is drawn
DELETE FROM ml.mlmonitoringmetrics WHERE model_name = '<b>"x"&''y''</b>' AND metrics = '{"bins": "oops"}';
SELECT (SELECT count(*) FROM regexp_matches(html, 'fill-opacity="0.6"><title>', 'g')) AS points,
       substring(html FROM '<title>(predicted [^<]*)</title>') AS point
  FROM (SELECT ml.report('<b>"x"&''y''</b>', NULL) AS html) p;

-- windows at the ends of time: an infinite one is left off the time axis, the widest finite
-- span is drawn
INSERT INTO ml.mlmonitoringmetrics (model_name, period_start, period_end, metric, value)
VALUES ('rp_time', '-infinity', 'infinity', 'decisions', 5),
       ('rp_time', '4713-01-01 BC', '4713-01-01 BC', 'decisions', 3),
       ('rp_time', '294000-01-01', '294000-01-01', 'decisions', 4);
SELECT substring(html FROM '([0-9]+ monitoring windows)') AS windows,
       (SELECT count(*) FROM regexp_matches(html, '<title>decisions: ', 'g')) AS points
  FROM (SELECT ml.report('rp_time', NULL) AS html) p;
DELETE FROM ml.mlmonitoringmetrics WHERE model_name = 'rp_time';

-- errors: an unknown model, a NULL one
SELECT error_of($$SELECT ml.report('rp_nonesuch')$$) AS unknown;
SELECT error_of($$SELECT ml.report(NULL)$$) AS null_model;

-- the alert rules and their states: the alerts part's ml.alerts and ml.alert_states, or, where
-- that part is not installed, stand-ins with the columns the report reads
DO $$
BEGIN
    IF to_regclass('ml.alerts') IS NULL THEN
        CREATE TABLE ml.alerts (name text PRIMARY KEY, model text, metric text, feature text,
                                condition text, threshold float8, severity text);
        CREATE TABLE ml.alert_states (alert text, subject text DEFAULT '', state text, value float8);
        COMMENT ON TABLE ml.alerts IS 'ml.report test stand-in';
    END IF;
END $$;
INSERT INTO ml.alerts (name, model, metric, feature, condition, threshold, severity)
VALUES ('accuracy_drop', 'rp_model', 'accuracy', NULL, '<', 0.8, 'critical'),
       ('<img src=x onerror=alert(1)>', 'rp_model', 'latency_p95_ms', NULL, '>', 250, 'warning'),
       ('x1_drift', 'rp_model', 'drift', 'x1', '>=', 1, 'info'),
       ('elsewhere', 'rp_quiet', 'accuracy', NULL, '<', 0.5, 'warning');
INSERT INTO ml.alert_states (alert, subject, state, value)
VALUES ('accuracy_drop', '', 'firing', 0.7512345678), ('<img src=x onerror=alert(1)>', '', 'pending', 300),
       ('elsewhere', '', 'firing', 0.1);
CREATE TABLE rp_alerts AS SELECT ml.report('rp_model', '2025-12-31') AS html;
SELECT html ~ '<span class="badge firing">firing</span></td><td>accuracy_drop</td><td>accuracy</td><td>—</td><td>&lt;</td><td class="num">0.8</td><td class="num">0.751</td><td>critical</td>' AS firing_row,
       html ~ '<span class="badge pending">pending</span></td><td>&lt;img src=x onerror=alert\(1\)&gt;</td>' AS pending_escaped,
       html ~ '<span class="badge ">not judged</span></td><td>x1_drift</td><td>drift</td><td>x1</td>' AS never_judged,
       html !~ 'elsewhere' AS only_this_model, html !~* '<img' AS no_img,
       substring(html FROM '<div class="k">Firing</div><div class="v">([^<]*</div><div class="s">[^<]*)</div>') AS firing_tile
  FROM rp_alerts;

-- a role given 'read' may run it; it reads the alerts as far as that role may
CREATE ROLE learnloop_test_report_reader;
CREATE ROLE learnloop_test_report_nobody;
SELECT ml.grant_access('learnloop_test_report_reader', 'read');
SET ROLE learnloop_test_report_reader;
SELECT has_table_privilege('ml.alerts', 'SELECT') = (html !~ 'This role may not read ml.alerts.') AS alerts_as_permitted,
       html ~ '<section id="drift">' AS reads_the_rest
  FROM (SELECT ml.report('rp_model', '2025-12-31') AS html) p;
RESET ROLE;
SET ROLE learnloop_test_report_nobody;
SELECT error_of($$SELECT ml.report('rp_model')$$) AS nobody;
RESET ROLE;
DELETE FROM ml.alerts WHERE name IN ('accuracy_drop', '<img src=x onerror=alert(1)>', 'x1_drift', 'elsewhere');
DELETE FROM ml.alert_states WHERE alert IN ('accuracy_drop', '<img src=x onerror=alert(1)>', 'elsewhere');
DO $$
BEGIN
    IF obj_description('ml.alerts'::regclass, 'pg_class') = 'ml.report test stand-in' THEN
        DROP TABLE ml.alerts, ml.alert_states;
    END IF;
END $$;
-- without ml.alerts the section says so
SELECT (to_regclass('ml.alerts') IS NULL) = (html ~ '<p class="note">No alert rules: ml.alerts is not installed in this database.</p>') AS tells_whether_installed,
       (to_regclass('ml.alerts') IS NULL) = (html !~ '<div class="k">Firing</div>') AS firing_tile_only_with_alerts
  FROM (SELECT ml.report('rp_model', '2025-12-31') AS html) p;

DROP OWNED BY learnloop_test_report_reader;
DROP ROLE learnloop_test_report_reader, learnloop_test_report_nobody;
DELETE FROM ml.mlmonitoringmetrics WHERE model_name IN ('rp_model', '<b>"x"&''y''</b>');
DROP TABLE rp_page, rp_alerts, rp_data;
