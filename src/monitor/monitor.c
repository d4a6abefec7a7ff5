/*-------------------------------------------------------------------------
 *
 * monitor.c
 *	  ml.monitor_window(): measures one window of a model's decisions, in
 *	  one pass over them, into the rows ml.monitor writes to
 *	  ml.MLMonitoringMetrics (docs/monitoring.md lists them).
 *
 * The window's rows are read once, streamed from the executor: each
 * decision adds to its slices (usage, quality, latency: slices.c) and to
 * the window's feature values (drift: window_drift.c).  Nothing is
 * predicted again: a decision's model probability is the confidence or
 * score ml.decide recorded with it, and its realized label is read from
 * its outcome by the model's own target (label.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "common/json_tree.h"
#include "common/numeric_double.h"
#include "common/spi_plan.h"
#include "common/srf.h"
#include "model/reference_json.h"
#include "monitor/label.h"
#include "monitor/object_keys.h"
#include "monitor/slices.h"
#include "monitor/window_drift.h"

PG_FUNCTION_INFO_V1(learnloop_monitor_window);

/* What ml.monitor reads of the model's row. */
typedef struct MonitoredModel
{
	const char *name;
	int			version;
	FeatureSchema *schema;
	ModelReference *reference;	/* NULL: trained before 0.4.0 */
	LabelRule	label;
	/* what the prediction's reference is of (model/reference_json.h) */
	bool		prediction_is_score;
	bool		prediction_is_confidence;
} MonitoredModel;

static void
load_model(MonitoredModel *m)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2] = {CStringGetTextDatum(m->name), Int32GetDatum(m->version)};
	char	   *reference;
	char	   *target;

	if (SPI_execute_with_args("SELECT feature_schema::text, reference::text, feature_schema->>'target' "
							  "FROM ml.models WHERE name OPERATOR(pg_catalog.=) $1 "
							  "AND version OPERATOR(pg_catalog.=) $2",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the model");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no version %d", m->name, m->version),
				 errhint("ml.models lists the trained versions.")));
	reference = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	target = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	m->schema = schema_parse(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	if (reference == NULL)
		ereport(NOTICE,
				(errmsg("model \"%s\" version %d has no reference distributions: its drift is not measured",
						m->name, m->version),
				 errdetail("Models trained before learnloop 0.4.0 kept none."),
				 errhint("Retrain the model to measure drift against its training data.")));
	else
	{
		m->reference = reference_read(reference, m->schema, m->name, m->version);
		m->prediction_is_score = m->reference->prediction &&
			strcmp(m->reference->prediction_of, "score") == 0;
		m->prediction_is_confidence = m->reference->prediction &&
			strcmp(m->reference->prediction_of, "confidence") == 0;
	}
	label_rule(m->schema, target, &m->label);
	if (m->label.kind == LABEL_NONE)
		ereport(NOTICE,
				(errmsg("the realized quality of model \"%s\" is not measured: %s",
						m->name, m->label.why),
				 errhint("docs/monitoring.md says which models have realized accuracy, log loss and ECE.")));
}

/*
 * The documented thresholds with overrides from a jsonb object, whose keys
 * are DriftThresholds' members, and the size of the drift's sample.
 */
static void
read_thresholds(Jsonb *overrides, DriftThresholds *t, int *sample)
{
	static const char *const names[] = {"wasserstein", "jensen_shannon", "psi", "missing",
	"min_rows", "dataset_share", "sample"};
	double		sample_size = MONITOR_DRIFT_SAMPLE;
	double	   *fields[] = {&t->wasserstein, &t->jensen_shannon, &t->psi, &t->missing,
	&t->min_rows, &t->dataset_share, &sample_size};
	JsonTree   *tree;
	cJSON	   *item;

	*t = drift_default_thresholds;
	*sample = MONITOR_DRIFT_SAMPLE;
	if (overrides == NULL)
		return;
	tree = json_tree_parse(JsonbToCString(NULL, &overrides->root, VARSIZE(overrides)));
	if (tree->root == NULL || !cJSON_IsObject(tree->root))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("thresholds must be a JSON object"),
				 errhint("e.g. '{\"wasserstein\": 0.2, \"min_rows\": 500}'")));
	cJSON_ArrayForEach(item, tree->root)
	{
		int			i;

		for (i = 0; i < lengthof(names); i++)
			if (strcmp(item->string, names[i]) == 0)
				break;
		if (i == lengthof(names) || !cJSON_IsNumber(item) || !isfinite(item->valuedouble) ||
			item->valuedouble < 0 || (i == 5 && (item->valuedouble == 0 || item->valuedouble > 1)) ||
			(i == 6 && (item->valuedouble < 1 || item->valuedouble > MONITOR_DRIFT_SAMPLE * 10.0 ||
						item->valuedouble != floor(item->valuedouble))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" is not a drift threshold, or its value is out of range", item->string),
					 errhint("Thresholds are wasserstein, jensen_shannon, psi, missing, min_rows "
							 "(numbers >= 0), dataset_share (above 0, at most 1) and sample "
							 "(rows, 1 to 1,000,000).")));
		*fields[i] = item->valuedouble;
	}
	*sample = (int) sample_size;
	json_tree_free(tree);
}

/* The keys of a decision ml.monitor reads, in one pass over it (object_keys.h). */
enum
{
	KEY_DECIDED_BY, KEY_LATENCY_US, KEY_SCORE, KEY_CONFIDENCE, KEY_ACTION, NDECISION_KEYS
};
static const char *const decision_key_names[NDECISION_KEYS] =
{"decided_by", "latency_us", "score", "confidence", "action"};

/*
 * A number of a decision's key, NaN when absent, not a number or beyond a
 * double's range (a row is data: 1e400 must not stop the run).
 */
static double
number_of(const JsonbValue *values, const bool *found, int key)
{
	double		x;

	if (!found[key] || values[key].type != jbvNumeric)
		return NAN;
	x = numeric_to_double_no_overflow(values[key].val.numeric);
	return isfinite(x) ? x : NAN;
}

static bool
string_of(const JsonbValue *values, const bool *found, int key)
{
	return found[key] && values[key].type == jbvString;
}

/* A nullable text column of a window row, without a copy: its bytes and length, or NULL. */
static const char *
text_column(const Datum *values, const bool *nulls, int column, int *len)
{
	text	   *t;

	if (nulls[column])
		return NULL;
	t = DatumGetTextPP(values[column]);
	*len = VARSIZE_ANY_EXHDR(t);
	return VARDATA_ANY(t);
}

/*
 * date_part('epoch', outcome_at - created_at) as PostgreSQL computes it,
 * without an expression per row (whose unit is parsed from its text at
 * every call): timestamp_mi's interval, justified to days and
 * microseconds of the same sign (interval_justify_hours), in seconds
 * (interval_part_common's float8 epoch: its months are 0).  NaN when
 * either is not finite or NULL: no lag.
 */
static double
lag_seconds(const Datum *values, const bool *nulls, int outcome_at, int created_at)
{
	TimestampTz to;
	TimestampTz from;
	int64		time;
	int64		days;

	if (nulls[outcome_at] || nulls[created_at])
		return NAN;
	to = DatumGetTimestampTz(values[outcome_at]);
	from = DatumGetTimestampTz(values[created_at]);
	if (TIMESTAMP_NOT_FINITE(to) || TIMESTAMP_NOT_FINITE(from))
		return NAN;
	time = to - from;			/* finite timestamps: no overflow */
	TMODULO(time, days, USECS_PER_DAY);
	return time / 1000000.0 + ((double) SECS_PER_DAY) * days;
}

/*
 * A jsonb column's value, read in place or, when stored with a short
 * header (the jsonb's alignment needs the long one), copied into buffer
 * (allocated, grown by repalloc in its own context) instead of a palloc
 * per row.
 */
static Jsonb *
jsonb_column(Datum value, char **buffer, Size *size)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(value);
	Size		len;

	if (!VARATT_IS_SHORT(v))
		return DatumGetJsonbP(value);	/* in place, or detoasted */
	len = VARSIZE_SHORT(v) - VARHDRSZ_SHORT;
	if (VARHDRSZ + len > *size)
	{
		*size = Max(VARHDRSZ + len, 2 * *size);
		*buffer = repalloc(*buffer, *size);
	}
	SET_VARSIZE(*buffer, VARHDRSZ + len);
	memcpy(*buffer + VARHDRSZ, VARDATA_SHORT(v), len);
	return (Jsonb *) *buffer;
}

/*
 * The text of the outcome's key as outcome->>key gives it
 * (jsonb_object_field_text), without an expression per row; NULL when
 * the key is absent or a JSON null, or the outcome not an object.
 */
static const char *
outcome_text(ObjectKeys *key, Jsonb *outcome, int *len)
{
	JsonbValue	v;
	bool		found;
	const char *text;

	object_keys_read(key, &outcome->root, &v, &found);
	if (!found || v.type == jbvNull)
		return NULL;
	switch (v.type)
	{
		case jbvString:
			*len = v.val.string.len;
			return v.val.string.val;
		case jbvNumeric:
			text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
			break;
		case jbvBool:
			text = v.val.boolean ? "true" : "false";
			break;
		default:
			text = JsonbToCString(NULL, v.val.binary.data, v.val.binary.len);
			break;
	}
	*len = strlen(text);
	return text;
}

/*
 * The window query's columns (scan_window): all of the table's, in its
 * order, so that the scan's tuples go to the receiver without a
 * projection.
 */
enum
{
	COL_ID, COL_TASK, COL_UNIT_ID, COL_CREATED_AT, COL_FEATURES, COL_DECISION, COL_OUTCOME,
	COL_OUTCOME_AT, COL_SOURCE, COL_EXPERIMENT, COL_VARIANT
};

/*
 * Where the window's rows go: straight from the executor into the slices
 * and the drift, one row at a time, without a copy into an SPI tuple
 * table (a window holds millions of decisions).
 */
typedef struct WindowReceiver
{
	DestReceiver pub;
	const MonitoredModel *model;
	ObjectKeys	decision_keys;
	ObjectKeys	outcome_key;	/* the label's */
	SliceSet   *slices;
	WindowDrift *drift;
	MemoryContext row;			/* a row's detoasted values */
	/* a row's decision and outcome when stored with a short header (jsonb_column) */
	char	   *decision_buffer;
	Size		decision_size;
	char	   *outcome_buffer;
	Size		outcome_size;
} WindowReceiver;

/*
 * One decision row into the slices and the drift.  The decision's keys
 * are read in one pass (a window has millions of rows), and only the
 * numbers needed are converted.
 */
static void
add_row(WindowReceiver *r, const Datum *values, const bool *nulls)
{
	const MonitoredModel *m = r->model;
	Jsonb	   *decision = jsonb_column(values[COL_DECISION], &r->decision_buffer, &r->decision_size);
	DecisionFacts f;
	JsonbValue	keys[NDECISION_KEYS];
	bool		found[NDECISION_KEYS];
	double		score = NAN;
	double		confidence = NAN;
	double		latency_us;
	bool		has_action;
	const char *label;
	int			label_len;

	object_keys_read(&r->decision_keys, &decision->root, keys, found);
	latency_us = number_of(keys, found, KEY_LATENCY_US);
	has_action = string_of(keys, found, KEY_ACTION);
	memset(&f, 0, sizeof(f));
	if (string_of(keys, found, KEY_DECIDED_BY))
	{
		f.decided_by = keys[KEY_DECIDED_BY].val.string.val;
		f.decided_by_len = keys[KEY_DECIDED_BY].val.string.len;
	}
	else
	{
		f.decided_by = "unknown";
		f.decided_by_len = strlen(f.decided_by);
	}
	/* ml.decide's model decisions are "model <name> v<version>" */
	f.by_model = f.decided_by_len > 6 && memcmp(f.decided_by, "model ", 6) == 0;
	if (f.by_model)
	{
		f.decided_by = "model";
		f.decided_by_len = 5;
		/* an outcome model's score, else (a policy) its confidence */
		score = number_of(keys, found, KEY_SCORE);
		if (isnan(score) || m->prediction_is_confidence)
			confidence = number_of(keys, found, KEY_CONFIDENCE);
	}
	f.experiment = text_column(values, nulls, COL_EXPERIMENT, &f.experiment_len);
	f.variant = text_column(values, nulls, COL_VARIANT, &f.variant_len);
	f.has_outcome = !nulls[COL_OUTCOME];
	/* no lag without an outcome_at (written by hand without one) */
	f.lag_seconds = f.has_outcome ? lag_seconds(values, nulls, COL_OUTCOME_AT, COL_CREATED_AT) : NAN;
	if (f.has_outcome && m->label.key != NULL &&
		(label = outcome_text(&r->outcome_key,
							  jsonb_column(values[COL_OUTCOME], &r->outcome_buffer, &r->outcome_size),
							  &label_len)) != NULL)
		f.has_label = label_value(&m->label, label, label_len, &f.label);
	f.probability = NAN;
	if (f.by_model)
	{
		bool		use_action = isnan(score) && has_action;

		f.probability = label_probability(&m->label, score, confidence,
										  use_action ? keys[KEY_ACTION].val.string.val : NULL,
										  use_action ? keys[KEY_ACTION].val.string.len : 0);
		if (!(f.probability >= 0 && f.probability <= 1))
			f.probability = NAN;
	}
	f.latency_ms = latency_us >= 0 ? latency_us / 1000.0 : NAN;
	if (r->slices)
		slices_add(r->slices, &f);

	/* the prediction as the reference has it: a model decision's score or confidence */
	if (r->drift)
		window_drift_add(r->drift, DatumGetInt64(values[COL_ID]), values[COL_FEATURES],
						 found[KEY_ACTION] ? &keys[KEY_ACTION] : NULL,
						 m->prediction_is_score ? score : m->prediction_is_confidence ? confidence : NAN);
}

static bool
receive_row(TupleTableSlot *slot, DestReceiver *self)
{
	WindowReceiver *r = (WindowReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(r->row);

	slot_getallattrs(slot);
	add_row(r, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->row);
	return true;
}

static void
receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receiver_nothing(DestReceiver *self)
{
}

/*
 * The window's query, prepared once per backend and planned for each
 * window's parameters (CURSOR_OPT_CUSTOM_PLAN), so that its estimate of
 * the window's rows is the window's (window_rows_estimate).  Augmented
 * copies (ml.augment) are left out: they are no decisions, and would count
 * their originals again with perturbed features, a drift never served.
 */
static SPIPlanPtr
window_query(void)
{
	static SPIPlanPtr plan;
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

	return spi_cached_plan_options(&plan,
								   "SELECT id, task, unit_id, created_at, features, decision, outcome, outcome_at, "
								   "source, experiment, variant "
								   "FROM ml.MLTrainingData WHERE task OPERATOR(pg_catalog.=) $1 "
								   "AND source OPERATOR(pg_catalog.<>) 'augmented' "
								   "AND created_at OPERATOR(pg_catalog.>=) $2 "
								   "AND created_at OPERATOR(pg_catalog.<) $3",
								   3, types, CURSOR_OPT_CUSTOM_PLAN);
}

/* The window query's parameters: task, start, end. */
static ParamListInfo
window_params(text *task, TimestampTz start, TimestampTz end)
{
	ParamListInfo params = makeParamList(3);
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[3] = {PointerGetDatum(task), TimestampTzGetDatum(start),
	TimestampTzGetDatum(end)};

	for (int i = 0; i < 3; i++)
	{
		params->params[i].value = values[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	return params;
}

/* The planner's estimate of the window's rows (for the drift's sample: window_drift_expect). */
static double
window_rows_estimate(ParamListInfo params)
{
	CachedPlanSource *source = linitial(SPI_plan_get_plan_sources(window_query()));
	CachedPlan *plan = GetCachedPlan(source, params, NULL, NULL);
	double		rows = 0;

	if (list_length(plan->stmt_list) == 1)
		rows = linitial_node(PlannedStmt, plan->stmt_list)->planTree->plan_rows;
	ReleaseCachedPlan(plan, NULL);
	return rows;
}

/*
 * Reads the window's decisions once into the slices (NULL: not measured
 * again) and the drift; the executor checks for interrupts per row.
 */
static void
scan_window(const MonitoredModel *m, ParamListInfo params, SliceSet *slices, WindowDrift *drift)
{
	const char *label_key = m->label.key;
	WindowReceiver receiver = {{receive_row, receiver_startup, receiver_nothing,
	receiver_nothing, DestNone}, m, {0}, {0}, slices, drift, NULL};
	SPIExecuteOptions options = {0};

	object_keys_init(&receiver.decision_keys, decision_key_names, NDECISION_KEYS);
	object_keys_init(&receiver.outcome_key, &label_key, label_key ? 1 : 0);
	receiver.row = AllocSetContextCreate(CurrentMemoryContext, "learnloop monitor row",
										 ALLOCSET_DEFAULT_SIZES);
	receiver.decision_size = receiver.outcome_size = 256;
	receiver.decision_buffer = palloc(receiver.decision_size);
	receiver.outcome_buffer = palloc(receiver.outcome_size);
	options.params = params;
	options.read_only = true;
	/* a query sending to its own receiver returns SPI_OK_UTILITY, not SPI_OK_SELECT */
	options.dest = &receiver.pub;
	if (SPI_execute_plan_extended(window_query(), &options) < 0)
		elog(ERROR, "learnloop could not read the window's decisions");
	MemoryContextDelete(receiver.row);
}

/*
 * ml.monitor_window(model, version, task, period_start, period_end,
 * thresholds): the rows of one window, written by ml.monitor.
 */
Datum
learnloop_monitor_window(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	MonitoredModel m = {0};
	DriftThresholds thresholds;
	int			sample;
	MemoryContext caller = CurrentMemoryContext;
	SliceSet   *slices;
	WindowDrift *drift = NULL;
	MetricRows	rows;
	ParamListInfo params;

	for (int i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ml.monitor_window needs a model, version, task and window"),
					 errhint("ml.monitor fills them in.")));
	m.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	m.version = PG_GETARG_INT32(1);
	read_thresholds(PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5), &thresholds, &sample);
	rsinfo = srf_materialize(fcinfo);
	rows.store = rsinfo->setResult;
	rows.desc = rsinfo->setDesc;

	SPI_connect();
	MemoryContextSwitchTo(caller);
	load_model(&m);
	slices = slices_create(m.label.kind == LABEL_BINARY);
	params = window_params(PG_GETARG_TEXT_PP(2), PG_GETARG_TIMESTAMPTZ(3), PG_GETARG_TIMESTAMPTZ(4));
	if (m.reference)
	{
		drift = window_drift_create(m.schema, m.reference, sample);
		window_drift_expect(drift, window_rows_estimate(params));
	}
	scan_window(&m, params, slices, drift);
	if (drift && !window_drift_complete(drift))
	{
		/* fewer rows than the planner expected: the sample again, from every row */
		window_drift_restart(drift);
		scan_window(&m, params, NULL, drift);
	}
	slices_emit(slices, &rows);
	if (drift)
		window_drift_emit(drift, &thresholds, &rows);
	SPI_finish();
	return (Datum) 0;
}
