/*-------------------------------------------------------------------------
 *
 * report_data.c
 *	  The statements behind ml.report, and their rows turned into the
 *	  structs of report_data.h.
 *
 * The report is read now and then by a person, not on a hot path: the
 * statements are planned at each call (no cached plans), which also lets
 * the alert statement exist only when ml.alerts does.  Everything is
 * allocated in the caller's SPI memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "report/report_data.h"

const char *const report_metric_names[RM_COUNT] = {
	[RM_DECISIONS] = "decisions",
	[RM_ML_USAGE_RATE] = "ml_usage_rate",
	[RM_OUTCOME_SHARE] = "outcome_share",
	[RM_ACCURACY] = "accuracy",
	[RM_ESTIMATED_ACCURACY_MATCHED] = "estimated_accuracy_matched",
	[RM_ESTIMATED_ACCURACY] = "estimated_accuracy",
	[RM_ECE] = "ece",
	[RM_LATENCY_P50] = "latency_p50_ms",
	[RM_LATENCY_P95] = "latency_p95_ms",
	[RM_LATENCY_P99] = "latency_p99_ms"
};

/* at most this many calibration bins are drawn (ml.monitor writes 10) */
#define MAX_CALIBRATION_BINS 100

/* the overall slice: a row about every decision, no feature */
#define OVERALL_SLICE \
	"r.feature IS NULL AND r.experiment IS NULL AND r.variant IS NULL AND r.decided_by IS NULL"

/* Runs a read-only statement with the model name (and the start time) as $1 (and $2). */
static void
run(const char *sql, const char *model, const TimestampTz *since)
{
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		values[2];
	int			rc;

	values[0] = CStringGetTextDatum(model);
	values[1] = since ? TimestampTzGetDatum(*since) : (Datum) 0;
	rc = SPI_execute_with_args(sql, since ? 2 : 1, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "ml.report: SPI_execute_with_args returned %s", SPI_result_code_string(rc));
}

/* A column of a result row; NULL reads as 0 when isnull is not asked for. */
static Datum
column(int row, int col, bool *isnull)
{
	bool		null;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &null);

	if (isnull)
		*isnull = null;
	return null ? (Datum) 0 : d;
}

static double
column_double(int row, int col)
{
	bool		isnull;
	Datum		d = column(row, col, &isnull);
	double		v;

	if (isnull)
		return NAN;
	v = DatumGetFloat8(d);
	return isfinite(v) ? v : NAN;
}

static char *
column_text(int row, int col)
{
	bool		isnull;
	Datum		d = column(row, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static TimestampTz
column_timestamp(int row, int col)
{
	bool		isnull;
	Datum		d = column(row, col, &isnull);

	return isnull ? DT_NOBEGIN : DatumGetTimestampTz(d);
}

/* A number written as JSON text; NaN when it is none or not finite. */
static double
json_number(int row, int col)
{
	char	   *s = column_text(row, col);
	char	   *end;
	double		v;

	if (s == NULL)
		return NAN;
	v = strtod(s, &end);
	return (end != s && *end == '\0' && isfinite(v)) ? v : NAN;
}

/* 1 drifted, 0 not, -1 not judged (NULL, or a value that is neither) */
static int
flag(double v)
{
	return v == 1.0 ? 1 : (v == 0.0 ? 0 : -1);
}

/*
 * The model's versions, deployed version and monitoring rows; false when
 * the name is neither a trained model nor in ml.MLMonitoringMetrics.
 */
bool
report_read_model(const char *model, ReportModel *result)
{
	run("SELECT (SELECT pg_catalog.count(*) FROM ml.models m WHERE m.name OPERATOR(pg_catalog.=) $1), "
		"       ml.deployed_version($1), "
		"       (SELECT pg_catalog.count(*) FROM ml.mlmonitoringmetrics r "
		"         WHERE r.model_name OPERATOR(pg_catalog.=) $1)",
		model, NULL);
	result->versions = DatumGetInt64(column(0, 1, NULL));
	result->deployed = DatumGetInt32(column(0, 2, NULL));
	result->monitoring_rows = DatumGetInt64(column(0, 3, NULL));
	return result->versions > 0 || result->monitoring_rows > 0;
}

void
report_read_windows(const char *model, TimestampTz since, ReportWindows *result)
{
	static const char sql_head[] =
		"SELECT DISTINCT ON (r.period_end, r.period_start, r.metric) "
		"       r.period_start, r.period_end, r.metric, r.value "
		"  FROM ml.mlmonitoringmetrics r "
		" WHERE r.model_name OPERATOR(pg_catalog.=) $1 AND r.period_end OPERATOR(pg_catalog.>=) $2 "
		"   AND " OVERALL_SLICE " AND r.metric OPERATOR(pg_catalog.=) ANY ('{";
	static const char sql_tail[] =
		"}'::pg_catalog.text[]) "
		" ORDER BY r.period_end, r.period_start, r.metric, r.model_version DESC NULLS LAST";
	StringInfoData sql;
	uint64		nrows,
				row;
	int			m,
				w = -1;

	/* the names are this file's constants, not data */
	initStringInfo(&sql);
	appendStringInfoString(&sql, sql_head);
	for (m = 0; m < RM_COUNT; m++)
		appendStringInfo(&sql, "%s%s", m > 0 ? "," : "", report_metric_names[m]);
	appendStringInfoString(&sql, sql_tail);
	run(sql.data, model, &since);

	nrows = SPI_processed;
	result->n = 0;
	result->start = palloc(sizeof(TimestampTz) * Max(nrows, 1));
	result->end = palloc(sizeof(TimestampTz) * Max(nrows, 1));
	result->x = palloc(sizeof(double) * Max(nrows, 1));
	for (m = 0; m < RM_COUNT; m++)
		result->values[m] = palloc(sizeof(double) * Max(nrows, 1));

	for (row = 0; row < nrows; row++)
	{
		TimestampTz start = column_timestamp(row, 1);
		TimestampTz end = column_timestamp(row, 2);
		char	   *metric = column_text(row, 3);

		/* a window ending at infinity (written by hand) has no place on a time axis */
		if (TIMESTAMP_NOT_FINITE(end))
			continue;
		if (w < 0 || start != result->start[w] || end != result->end[w])
		{
			w = result->n++;
			result->start[w] = start;
			result->end[w] = end;
			/* seconds since 2000-01-01: the charts need only differences */
			result->x[w] = (double) end / USECS_PER_SEC;
			for (m = 0; m < RM_COUNT; m++)
				result->values[m][w] = NAN;
		}
		for (m = 0; m < RM_COUNT; m++)
			if (strcmp(metric, report_metric_names[m]) == 0)
				result->values[m][w] = column_double(row, 4);
	}
}

void
report_read_calibration(const char *model, TimestampTz since, ReportCalibration *result)
{
	uint64		row;

	run("WITH newest AS ("
		"  SELECT r.period_end, r.value, r.metrics OPERATOR(pg_catalog.->) 'bins' AS bins "
		"    FROM ml.mlmonitoringmetrics r "
		"   WHERE r.model_name OPERATOR(pg_catalog.=) $1 AND r.period_end OPERATOR(pg_catalog.>=) $2 "
		"     AND r.metric OPERATOR(pg_catalog.=) 'ece' AND " OVERALL_SLICE
		"   ORDER BY r.period_end DESC, r.period_start DESC, r.model_version DESC NULLS LAST LIMIT 1) "
		"SELECT n.period_end, n.value, "
		"       b.bin OPERATOR(pg_catalog.->>) 'mean_predicted', "
		"       b.bin OPERATOR(pg_catalog.->>) 'observed', "
		"       b.bin OPERATOR(pg_catalog.->>) 'count' "
		"  FROM newest n LEFT JOIN LATERAL pg_catalog.jsonb_array_elements("
		"         CASE WHEN pg_catalog.jsonb_typeof(n.bins) OPERATOR(pg_catalog.=) 'array' THEN n.bins END)"
		"         WITH ORDINALITY b (bin, ord) ON b.ord OPERATOR(pg_catalog.<=) "
		CppAsString2(MAX_CALIBRATION_BINS)
		" ORDER BY b.ord",
		model, &since);

	result->found = SPI_processed > 0;
	result->n = 0;
	result->points = palloc(sizeof(CalibrationPoint) * Max(SPI_processed, 1));
	if (!result->found)
		return;
	result->end = column_timestamp(0, 1);
	result->ece = column_double(0, 2);
	for (row = 0; row < SPI_processed; row++)
	{
		CalibrationPoint p;

		p.predicted = json_number(row, 3);
		p.observed = json_number(row, 4);
		p.count = json_number(row, 5);
		/* a bin without its three numbers is no point (svg_calibration checks the ranges) */
		if (isnan(p.predicted) || isnan(p.observed) || isnan(p.count))
			continue;
		result->points[result->n++] = p;
	}
}

void
report_read_drift(const char *model, TimestampTz since, ReportDrift *result)
{
	uint64		row;
	char	   *current = NULL;
	ReportFeature *f = NULL;

	run("WITH w AS ("
		"  SELECT r.period_start, r.period_end, COALESCE(r.model_version, 0) AS v "
		"    FROM ml.mlmonitoringmetrics r "
		"   WHERE r.model_name OPERATOR(pg_catalog.=) $1 AND r.period_end OPERATOR(pg_catalog.>=) $2 "
		"     AND (r.feature IS NOT NULL OR r.metric OPERATOR(pg_catalog.=) 'dataset_drift') "
		"   ORDER BY r.period_end DESC, r.period_start DESC, r.model_version DESC NULLS LAST LIMIT 1) "
		"SELECT w.period_end, r.feature, r.metric, r.value "
		"  FROM w JOIN ml.mlmonitoringmetrics r "
		"    ON r.model_name OPERATOR(pg_catalog.=) $1 AND r.period_start OPERATOR(pg_catalog.=) w.period_start "
		"   AND r.period_end OPERATOR(pg_catalog.=) w.period_end "
		"   AND COALESCE(r.model_version, 0) OPERATOR(pg_catalog.=) w.v "
		" WHERE r.experiment IS NULL AND r.variant IS NULL AND r.decided_by IS NULL "
		"   AND r.metric IS NOT NULL "
		" ORDER BY r.feature NULLS FIRST, r.metric",
		model, &since);

	result->found = SPI_processed > 0;
	result->n = 0;
	result->features = palloc(sizeof(ReportFeature) * Max(SPI_processed, 1));
	result->prediction_distance = NAN;
	result->prediction_drifted = -1;
	result->dataset_drifted = -1;
	result->drifted_share = NAN;
	if (!result->found)
		return;
	result->end = column_timestamp(0, 1);
	for (row = 0; row < SPI_processed; row++)
	{
		char	   *feature = column_text(row, 2);
		char	   *metric = column_text(row, 3);
		double		value = column_double(row, 4);

		if (feature == NULL)
		{
			/* the window's rows about the predictions and the whole dataset */
			if (strcmp(metric, "prediction_drift_wasserstein") == 0)
				result->prediction_distance = value;
			else if (strcmp(metric, "prediction_drift") == 0)
				result->prediction_drifted = flag(value);
			else if (strcmp(metric, "dataset_drift") == 0)
				result->dataset_drifted = flag(value);
			else if (strcmp(metric, "drifted_features_share") == 0)
				result->drifted_share = value;
			continue;
		}
		if (current == NULL || strcmp(current, feature) != 0)
		{
			f = &result->features[result->n++];
			f->name = current = feature;
			f->distance = f->psi = f->missing_share = NAN;
			f->categorical = false;
			f->drifted = -1;
		}
		if (strcmp(metric, "drift_wasserstein") == 0)
			f->distance = value;
		else if (strcmp(metric, "drift_jensen_shannon") == 0)
		{
			f->distance = value;
			f->categorical = true;
		}
		else if (strcmp(metric, "drift_psi") == 0)
			f->psi = value;
		else if (strcmp(metric, "missing_share") == 0)
			f->missing_share = value;
		else if (strcmp(metric, "drift") == 0)
			f->drifted = flag(value);
	}
}

/* the relation ml.<name> when it exists and the caller may read it, else InvalidOid */
static Oid
readable_relation(const char *name, bool *exists)
{
	Oid			relid = RangeVarGetRelid(makeRangeVar("ml", (char *) name, -1), NoLock, true);

	if (exists)
		*exists = OidIsValid(relid);
	if (OidIsValid(relid) && pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
		return relid;
	return InvalidOid;
}

/*
 * The alert rules about the model, when ml.alerts exists (the alerts are
 * a part of their own, which may be missing) and the caller may read it,
 * with each rule's state from ml.alert_states when that is readable too
 * (the worst of its subjects: firing, then pending).  The statements name
 * the tables, never data, and are planned only when the tables are there.
 * Fields are read through to_jsonb, so a column a table lacks is NULL
 * instead of an error; a rule's own "state" stands in for ml.alert_states.
 */
#define ALERT_FIELDS \
	"SELECT a.j OPERATOR(pg_catalog.->>) 'name', a.j OPERATOR(pg_catalog.->>) 'metric', " \
	"       a.j OPERATOR(pg_catalog.->>) 'feature', a.j OPERATOR(pg_catalog.->>) 'condition', " \
	"       a.j OPERATOR(pg_catalog.->>) 'threshold', a.j OPERATOR(pg_catalog.->>) 'severity', "
#define ALERT_RULES \
	"  FROM (SELECT pg_catalog.to_jsonb(t) AS j FROM ml.alerts t) a "
#define ALERT_OF_MODEL \
	" WHERE COALESCE(a.j OPERATOR(pg_catalog.->>) 'model', " \
	"                a.j OPERATOR(pg_catalog.->>) 'model_name') OPERATOR(pg_catalog.=) $1 " \
	" ORDER BY 1"

void
report_read_alerts(const char *model, ReportAlerts *result)
{
	uint64		row;

	result->readable = OidIsValid(readable_relation("alerts", &result->installed));
	result->n = 0;
	result->alerts = NULL;
	if (!result->readable)
		return;

	if (OidIsValid(readable_relation("alert_states", NULL)))
		run(ALERT_FIELDS
			"       COALESCE(st.state, a.j OPERATOR(pg_catalog.->>) 'state'), st.value "
			ALERT_RULES
			"  LEFT JOIN LATERAL ("
			"    SELECT s.j OPERATOR(pg_catalog.->>) 'state' AS state, s.j OPERATOR(pg_catalog.->>) 'value' AS value "
			"      FROM (SELECT pg_catalog.to_jsonb(x) AS j FROM ml.alert_states x) s "
			"     WHERE (s.j OPERATOR(pg_catalog.->>) 'alert') OPERATOR(pg_catalog.=) (a.j OPERATOR(pg_catalog.->>) 'name') "
			"     ORDER BY (s.j OPERATOR(pg_catalog.->>) 'state') OPERATOR(pg_catalog.=) 'firing' DESC NULLS LAST, "
			"              (s.j OPERATOR(pg_catalog.->>) 'state') OPERATOR(pg_catalog.=) 'pending' DESC NULLS LAST "
			"     LIMIT 1) st ON true"
			ALERT_OF_MODEL,
			model, NULL);
	else
		run(ALERT_FIELDS
			"       a.j OPERATOR(pg_catalog.->>) 'state', NULL::pg_catalog.text "
			ALERT_RULES
			ALERT_OF_MODEL,
			model, NULL);

	result->alerts = palloc(sizeof(ReportAlert) * Max(SPI_processed, 1));
	for (row = 0; row < SPI_processed; row++)
	{
		ReportAlert *a = &result->alerts[result->n++];

		a->name = column_text(row, 1);
		a->metric = column_text(row, 2);
		a->feature = column_text(row, 3);
		a->condition = column_text(row, 4);
		a->threshold = column_text(row, 5);
		a->severity = column_text(row, 6);
		a->state = column_text(row, 7);
		a->value = column_text(row, 8);
	}
}
