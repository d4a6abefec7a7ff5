/*-------------------------------------------------------------------------
 *
 * report_page.c
 *	  ml.report(model, since): one self-contained HTML page about a
 *	  monitored model, to open in a browser or attach to a mail.
 *
 * The page has no script and loads nothing: its CSS is in a <style>
 * element and its pictures are inline SVG (report/svg_chart.h), so it
 * shows the same offline, from a file, and in a mail client that blocks
 * remote content.  What it shows comes from report/report_data.h; every
 * string from the database is escaped on its way in (report/html_text.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "common/args.h"
#include "report/html_text.h"
#include "report/report_data.h"
#include "report/svg_chart.h"

PG_FUNCTION_INFO_V1(learnloop_report);

/* the distance at which a feature drifts (docs/monitoring.md, "Drift flags") */
#define DRIFT_THRESHOLD 0.1

/* time ticks on a chart's axis */
#define TIME_TICKS 5

static const char page_style[] =
	"body{margin:0;background:#f3f4f6;color:#111827;font:14px/1.45 system-ui,-apple-system,"
	"'Segoe UI',Roboto,'DejaVu Sans',sans-serif}"
	"header{background:#1e3a8a;color:#fff;padding:20px 32px}"
	"header h1{margin:0 0 4px;font-size:22px;font-weight:600}"
	"header p{margin:0;color:#dbeafe}"
	"main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}"
	".tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin-bottom:16px}"
	".tile{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}"
	".tile .k{color:#6b7280;font-size:12px;text-transform:uppercase;letter-spacing:.04em}"
	".tile .v{font-size:24px;font-weight:600;margin-top:2px}"
	".tile .s{color:#6b7280;font-size:12px}"
	".tile.bad{border-left:5px solid #dc2626}.tile.good{border-left:5px solid #16a34a}"
	"section{background:#fff;border-radius:8px;padding:16px 20px;margin-bottom:16px;"
	"box-shadow:0 1px 2px rgba(0,0,0,.08)}"
	"section h2{margin:0 0 8px;font-size:17px;font-weight:600}"
	"section p.note{color:#4b5563;margin:4px 0 10px}"
	".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}"
	"svg.chart{width:100%;height:auto;display:block}"
	".calibration svg.chart{max-width:420px}"
	"table{border-collapse:collapse;width:100%;font-size:13px}"
	"th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e5e7eb}"
	"th{color:#6b7280;font-weight:600}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}"
	".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;"
	"background:#e5e7eb;color:#374151}"
	".badge.firing,.badge.drifted{background:#fee2e2;color:#991b1b}"
	".badge.pending{background:#fef3c7;color:#92400e}"
	".badge.ok{background:#dcfce7;color:#166534}"
	".empty{font-size:16px;color:#374151}"
	"footer{color:#6b7280;font-size:12px;text-align:center;padding:8px}";

/* A time in the session's time zone, as the page shows it: 2026-11-30 14:00 */
static void
append_time(StringInfo out, TimestampTz t, bool with_date, bool with_year)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	const char *zone;

	if (TIMESTAMP_NOT_FINITE(t) || timestamp2tm(t, &tz, &tm, &fsec, &zone, NULL) != 0)
	{
		appendStringInfoString(out, t == DT_NOBEGIN ? "the beginning" : "\xE2\x80\x94");
		return;
	}
	if (with_year)
		appendStringInfo(out, "%04d-", tm.tm_year);
	if (with_date)
		appendStringInfo(out, "%02d-%02d ", tm.tm_mon, tm.tm_mday);
	appendStringInfo(out, "%02d:%02d", tm.tm_hour, tm.tm_min);
	if (with_year && zone)
	{
		appendStringInfoChar(out, ' ');
		html_escape(out, zone);
	}
}

/*
 * TIME_TICKS evenly spaced labels between the first and the last window's
 * end, with the date when the windows span more than a day.
 */
static ChartTick *
time_ticks(const ReportWindows *w, int *nticks)
{
	ChartTick  *ticks = palloc(sizeof(ChartTick) * TIME_TICKS);
	TimestampTz first = w->end[0];

	/* in double: the span of two finite timestamps may not fit in an int64 */
	double		span = (double) w->end[w->n - 1] - (double) first;
	bool		dates = span >= USECS_PER_DAY || w->n == 1;
	int			n = (w->n == 1) ? 1 : TIME_TICKS;
	int			i;

	for (i = 0; i < n; i++)
	{
		TimestampTz t = (n == 1) ? first : first + (TimestampTz) (span / (n - 1) * i);
		StringInfoData label;

		initStringInfo(&label);
		append_time(&label, t, dates, false);
		ticks[i].x = (double) t / USECS_PER_SEC;
		ticks[i].label = label.data;
	}
	*nticks = n;
	return ticks;
}

/* the newest window's value of a metric */
static double
newest(const ReportWindows *w, ReportMetric m)
{
	return w->n > 0 ? w->values[m][w->n - 1] : NAN;
}

static void
tile(StringInfo out, const char *key, double value, NumberUnit unit, const char *sub, const char *mood)
{
	appendStringInfo(out, "<div class=\"tile%s%s\"><div class=\"k\">%s</div><div class=\"v\">",
					 mood ? " " : "", mood ? mood : "", key);
	html_number(out, value, unit);
	appendStringInfoString(out, "</div>");
	if (sub)
		appendStringInfo(out, "<div class=\"s\">%s</div>", sub);
	appendStringInfoString(out, "</div>");
}

/* A time series chart of some metrics over the windows. */
static void
time_chart(StringInfo out, const ReportWindows *w, const ChartTick *ticks, int nticks,
		   const char *title, const ReportMetric *metrics, const char *const *labels,
		   int nmetrics, NumberUnit unit)
{
	ChartSeries series[4];
	TimeChart	chart;
	int			i;

	Assert(nmetrics <= lengthof(series));
	for (i = 0; i < nmetrics; i++)
	{
		series[i].label = labels[i];
		series[i].y = w->values[metrics[i]];
	}
	chart.title = title;
	chart.npoints = w->n;
	chart.x = w->x;
	chart.nseries = nmetrics;
	chart.series = series;
	chart.unit = unit;
	chart.share = (unit == UNIT_SHARE);
	chart.nticks = nticks;
	chart.ticks = ticks;
	appendStringInfo(out, "<div><h3 style=\"margin:4px 0;font-size:14px\">%s</h3>", title);
	svg_time_chart(out, &chart);
	appendStringInfoString(out, "</div>");
}

static void
tiles_section(StringInfo out, const ReportWindows *w, const ReportDrift *drift,
			  const ReportCalibration *cal, const ReportAlerts *alerts)
{
	double		accuracy = newest(w, RM_ACCURACY),
				matched = newest(w, RM_ESTIMATED_ACCURACY_MATCHED);
	StringInfoData sub;
	int			drifted = 0,
				i;

	initStringInfo(&sub);
	appendStringInfoString(out, "<div class=\"tiles\">");
	tile(out, "Decisions", newest(w, RM_DECISIONS), UNIT_COUNT, "in the newest window", NULL);
	tile(out, "ML usage", newest(w, RM_ML_USAGE_RATE), UNIT_SHARE, "decided by the model", NULL);

	appendStringInfoString(&sub, "estimated ");
	html_number(&sub, matched, UNIT_SHARE);
	appendStringInfoString(&sub, " on the same decisions");
	tile(out, "Accuracy", accuracy, UNIT_SHARE, sub.data,
		 isfinite(accuracy) && isfinite(matched) ? (accuracy < matched - 0.05 ? "bad" : "good") : NULL);

	resetStringInfo(&sub);
	appendStringInfoString(&sub, "estimated ");
	html_number(&sub, newest(w, RM_ESTIMATED_ACCURACY), UNIT_SHARE);
	appendStringInfoString(&sub, " awaiting outcomes");
	tile(out, "Outcomes in", newest(w, RM_OUTCOME_SHARE), UNIT_SHARE, sub.data, NULL);

	tile(out, "ECE", cal->found ? cal->ece : NAN, UNIT_PLAIN, "calibration error, 0 is perfect", NULL);
	tile(out, "Latency p95", newest(w, RM_LATENCY_P95), UNIT_MS, "of decisions", NULL);

	for (i = 0; i < drift->n; i++)
		drifted += drift->features[i].drifted > 0;
	resetStringInfo(&sub);
	if (drift->found)
		appendStringInfo(&sub, "of %d features", drift->n);
	else
		appendStringInfoString(&sub, "no drift measured");
	tile(out, "Drifted", drift->found ? drifted : NAN, UNIT_COUNT, sub.data,
		 drift->found ? (drifted > 0 ? "bad" : "good") : NULL);
	if (alerts->readable)
	{
		int			firing = 0;

		for (i = 0; i < alerts->n; i++)
			firing += alerts->alerts[i].state && strcmp(alerts->alerts[i].state, "firing") == 0;
		resetStringInfo(&sub);
		appendStringInfo(&sub, "of %d alert rule%s", alerts->n, alerts->n == 1 ? "" : "s");
		tile(out, "Firing", firing, UNIT_COUNT, sub.data, firing > 0 ? "bad" : "good");
	}
	appendStringInfoString(out, "</div>");
	pfree(sub.data);
}

/* a CSS class for an alert state, chosen among fixed names, never taken from data */
static const char *
state_class(const char *state)
{
	if (state == NULL)
		return "";
	if (strcmp(state, "firing") == 0)
		return "firing";
	if (strcmp(state, "pending") == 0)
		return "pending";
	if (strcmp(state, "resolved") == 0 || strcmp(state, "inactive") == 0 || strcmp(state, "ok") == 0)
		return "ok";
	return "";
}

static void
cell(StringInfo out, const char *s, bool num)
{
	appendStringInfoString(out, num ? "<td class=\"num\">" : "<td>");
	html_escape(out, s ? s : "\xE2\x80\x94");
	appendStringInfoString(out, "</td>");
}

/*
 * A number read as text from the alert tables, rounded for people when it
 * is one (0.4295555555555556 shows as 0.430), else shown as it is.
 */
static void
number_cell(StringInfo out, const char *s)
{
	char	   *end;
	double		v;

	if (s == NULL || *s == '\0')
	{
		cell(out, NULL, true);
		return;
	}
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v))
	{
		cell(out, s, true);
		return;
	}
	appendStringInfoString(out, "<td class=\"num\">");
	html_number(out, v, UNIT_PLAIN);
	appendStringInfoString(out, "</td>");
}

static void
alerts_section(StringInfo out, const ReportAlerts *alerts)
{
	int			i;

	appendStringInfoString(out, "<section id=\"alerts\"><h2>Alerts</h2>");
	if (!alerts->installed)
		appendStringInfoString(out, "<p class=\"note\">No alert rules: ml.alerts is not installed in this database.</p>");
	else if (!alerts->readable)
		appendStringInfoString(out, "<p class=\"note\">This role may not read ml.alerts.</p>");
	else if (alerts->n == 0)
		appendStringInfoString(out, "<p class=\"note\">No alert rule watches this model.</p>");
	else
	{
		appendStringInfoString(out, "<table><tr><th>state</th><th>alert</th><th>metric</th><th>feature</th>"
							   "<th>condition</th><th>threshold</th><th>last value</th><th>severity</th></tr>");
		for (i = 0; i < alerts->n; i++)
		{
			const ReportAlert *a = &alerts->alerts[i];

			appendStringInfo(out, "<tr><td><span class=\"badge %s\">", state_class(a->state));
			html_escape(out, a->state ? a->state : "not judged");
			appendStringInfoString(out, "</span></td>");
			cell(out, a->name, false);
			cell(out, a->metric, false);
			cell(out, a->feature, false);
			cell(out, a->condition, false);
			number_cell(out, a->threshold);
			number_cell(out, a->value);
			cell(out, a->severity, false);
			appendStringInfoString(out, "</tr>");
		}
		appendStringInfoString(out, "</table>");
	}
	appendStringInfoString(out, "</section>");
}

static void
series_sections(StringInfo out, const ReportWindows *w)
{
	static const ReportMetric decisions[] = {RM_DECISIONS};
	static const char *const decisions_labels[] = {"decisions"};
	static const ReportMetric usage[] = {RM_ML_USAGE_RATE, RM_OUTCOME_SHARE};
	static const char *const usage_labels[] = {"ML usage rate", "outcome share"};
	static const ReportMetric quality[] = {RM_ACCURACY, RM_ESTIMATED_ACCURACY_MATCHED, RM_ESTIMATED_ACCURACY};
	static const char *const quality_labels[] = {"realized", "estimated, same decisions",
	"estimated, no outcome yet"};
	static const ReportMetric latency[] = {RM_LATENCY_P50, RM_LATENCY_P95, RM_LATENCY_P99};
	static const char *const latency_labels[] = {"p50", "p95", "p99"};
	int			nticks;
	ChartTick  *ticks = time_ticks(w, &nticks);

	appendStringInfoString(out, "<section id=\"usage\"><h2>Decisions and ML usage</h2><div class=\"grid2\">");
	time_chart(out, w, ticks, nticks, "Decisions per window", decisions, decisions_labels, 1, UNIT_COUNT);
	time_chart(out, w, ticks, nticks, "Decided by the model, and with an outcome yet", usage, usage_labels,
			   2, UNIT_SHARE);
	appendStringInfoString(out, "</div></section>");

	appendStringInfoString(out, "<div class=\"grid2\">");
	appendStringInfoString(out, "<section id=\"quality\"><h2>Accuracy, realized and estimated</h2>"
						   "<p class=\"note\">Realized on the decisions whose outcome arrived; estimated "
						   "from the model's own probabilities (CBPE). Where the realized line falls "
						   "below the estimate on the same decisions, the model has lost its "
						   "calibration.</p>");
	time_chart(out, w, ticks, nticks, "Accuracy", quality, quality_labels, 3, UNIT_SHARE);
	appendStringInfoString(out, "</section>");

	appendStringInfoString(out, "<section id=\"latency\"><h2>Decision latency</h2><p class=\"note\">Newest window: p50 ");
	html_number(out, newest(w, RM_LATENCY_P50), UNIT_MS);
	appendStringInfoString(out, ", p95 ");
	html_number(out, newest(w, RM_LATENCY_P95), UNIT_MS);
	appendStringInfoString(out, ", p99 ");
	html_number(out, newest(w, RM_LATENCY_P99), UNIT_MS);
	appendStringInfoString(out, ".</p>");
	time_chart(out, w, ticks, nticks, "Latency percentiles (milliseconds)", latency, latency_labels, 3, UNIT_MS);
	appendStringInfoString(out, "</section></div>");
}

static void
calibration_section(StringInfo out, const ReportCalibration *cal)
{
	appendStringInfoString(out, "<section id=\"calibration\" class=\"calibration\"><h2>Calibration</h2>");
	if (!cal->found)
	{
		appendStringInfoString(out, "<p class=\"note\">No calibration measured: no window has an ECE yet "
							   "(it needs decisions with outcomes).</p></section>");
		return;
	}
	appendStringInfoString(out, "<p class=\"note\">Window ending ");
	append_time(out, cal->end, true, true);
	appendStringInfoString(out, ": expected calibration error ");
	html_number(out, cal->ece, UNIT_PLAIN);
	if (cal->n == 0)
	{
		appendStringInfoString(out, ", but its bins are missing or malformed.</p></section>");
		return;
	}
	appendStringInfo(out, " over %d bins. On the dashed diagonal the model is right as often as it "
					 "is confident; a point's area is its share of the decisions.</p>", cal->n);
	svg_calibration(out, cal->points, cal->n);
	appendStringInfoString(out, "</section>");
}

static const char *
verdict(int drifted)
{
	return drifted > 0 ? "<span class=\"badge drifted\">drifted</span>" :
		(drifted == 0 ? "<span class=\"badge ok\">stable</span>" : "<span class=\"badge\">not judged</span>");
}

static void
drift_section(StringInfo out, const ReportDrift *drift)
{
	DriftBar   *bars;
	int			i;

	appendStringInfoString(out, "<section id=\"drift\"><h2>Drift per feature</h2>");
	if (!drift->found)
	{
		appendStringInfoString(out, "<p class=\"note\">No drift measured in these windows.</p></section>");
		return;
	}
	appendStringInfoString(out, "<p class=\"note\">Window ending ");
	append_time(out, drift->end, true, true);
	appendStringInfoString(out, ". Distance against the training data: Wasserstein (normed by the "
						   "reference's standard deviation) for numbers, Jensen-Shannon for categories; "
						   "a feature drifts at ");
	html_number(out, DRIFT_THRESHOLD, UNIT_PLAIN);
	appendStringInfoString(out, " or more, or when its missing share moves by ten points. Dataset: ");
	appendStringInfoString(out, verdict(drift->dataset_drifted));
	appendStringInfoString(out, " (");
	html_number(out, drift->drifted_share, UNIT_SHARE);
	appendStringInfoString(out, " of the features). Predictions: ");
	html_number(out, drift->prediction_distance, UNIT_PLAIN);
	appendStringInfoChar(out, ' ');
	appendStringInfoString(out, verdict(drift->prediction_drifted));
	appendStringInfoString(out, ".</p>");

	bars = palloc(sizeof(DriftBar) * Max(drift->n, 1));
	for (i = 0; i < drift->n; i++)
	{
		bars[i].label = drift->features[i].name;
		bars[i].distance = drift->features[i].distance;
		bars[i].drifted = drift->features[i].drifted;
	}
	svg_drift_bars(out, bars, drift->n, DRIFT_THRESHOLD);

	appendStringInfoString(out, "<table><tr><th>feature</th><th>distance</th><th></th><th>PSI</th>"
						   "<th>missing</th><th>verdict</th></tr>");
	for (i = 0; i < drift->n; i++)
	{
		const ReportFeature *f = &drift->features[i];

		appendStringInfoString(out, "<tr><td>");
		html_escape(out, f->name);
		appendStringInfoString(out, "</td><td class=\"num\">");
		html_number(out, f->distance, UNIT_PLAIN);
		appendStringInfo(out, "</td><td>%s</td><td class=\"num\">",
						 isnan(f->distance) ? "" : (f->categorical ? "Jensen-Shannon" : "Wasserstein"));
		html_number(out, f->psi, UNIT_PLAIN);
		appendStringInfoString(out, "</td><td class=\"num\">");
		html_number(out, f->missing_share, UNIT_SHARE);
		appendStringInfo(out, "</td><td>%s</td></tr>", verdict(f->drifted));
	}
	appendStringInfoString(out, "</table></section>");
}

static void
header(StringInfo out, const char *model, const ReportModel *m, const ReportWindows *w, TimestampTz since)
{
	/* the policy: should a name ever slip through unescaped, nothing runs or loads */
	appendStringInfoString(out, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
						   "<meta http-equiv=\"Content-Security-Policy\" "
						   "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
						   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
						   "<title>learnloop report: ");
	html_escape(out, model);
	appendStringInfo(out, "</title><style>%s</style></head><body><header><h1>Model ", page_style);
	html_escape(out, model);
	appendStringInfoString(out, "</h1><p>");
	if (m->deployed > 0)
		appendStringInfo(out, "version %d deployed", m->deployed);
	else
		appendStringInfoString(out, "no version deployed");
	appendStringInfo(out, " &middot; " INT64_FORMAT " trained version%s &middot; ",
					 m->versions, m->versions == 1 ? "" : "s");
	if (w->n > 0)
	{
		appendStringInfo(out, "%d monitoring window%s from ", w->n, w->n == 1 ? "" : "s");
		append_time(out, w->start[0], true, true);
		appendStringInfoString(out, " to ");
		append_time(out, w->end[w->n - 1], true, true);
	}
	else
	{
		appendStringInfoString(out, "windows since ");
		append_time(out, since, true, true);
	}
	appendStringInfoString(out, "</p></header><main>");
}

Datum
learnloop_report(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	char	   *model;
	TimestampTz since;
	ReportModel m;
	ReportWindows windows;
	ReportCalibration cal;
	ReportDrift drift;
	ReportAlerts alerts;
	StringInfoData page;
	text	   *result;

	args_not_null(fcinfo, 0, "model", "Pass the name of a model, as in ml.models.");
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	/* NULL: every window */
	since = PG_ARGISNULL(1) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(1);

	SPI_connect();
	if (!report_read_model(model, &m))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", model),
				 errhint("ml.models lists the trained models and ml.MLMonitoringMetrics the monitored ones.")));
	report_read_windows(model, since, &windows);
	report_read_calibration(model, since, &cal);
	report_read_drift(model, since, &drift);
	report_read_alerts(model, &alerts);

	initStringInfo(&page);
	header(&page, model, &m, &windows, since);
	if (windows.n == 0 && !drift.found)
	{
		appendStringInfoString(&page, "<section id=\"empty\"><h2>No monitoring yet</h2><p class=\"empty\">");
		appendStringInfo(&page, "There are no monitoring rows for this model since ");
		append_time(&page, since, true, true);
		if (m.monitoring_rows > 0)
			appendStringInfo(&page, " (" INT64_FORMAT " older rows: pass an earlier <code>since</code>)",
							 m.monitoring_rows);
		appendStringInfoString(&page, ". <code>ml.monitor(");
		html_escape(&page, quote_literal_cstr(model));
		appendStringInfoString(&page, ")</code> measures a window; docs/monitoring.md schedules it "
							   "with pg_cron.</p></section>");
		alerts_section(&page, &alerts);
	}
	else
	{
		tiles_section(&page, &windows, &drift, &cal, &alerts);
		alerts_section(&page, &alerts);
		if (windows.n > 0)
			series_sections(&page, &windows);
		appendStringInfoString(&page, "<div class=\"grid2\">");
		calibration_section(&page, &cal);
		drift_section(&page, &drift);
		appendStringInfoString(&page, "</div>");
	}
	appendStringInfoString(&page, "</main><footer>learnloop " LEARNLOOP_VERSION
						   " &middot; ml.report &middot; generated ");
	append_time(&page, GetCurrentTransactionStartTimestamp(), true, true);
	appendStringInfoString(&page, "</footer></body></html>");

	/* the page outlives SPI's memory */
	MemoryContextSwitchTo(outer);
	result = cstring_to_text_with_len(page.data, page.len);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}
