/*-------------------------------------------------------------------------
 *
 * metric_query.c
 *	  A defined metric's per-arm moments in one statement.
 *
 * The statement is generated from the definition.  Per unit: without
 * windows or covariate, the decisions are grouped by (unit, variant) first,
 * as a bare GROUP BY would, then joined to the exposures (units_first_sql);
 * otherwise the exposed units LEFT JOIN their events (the decisions of
 * their exposed variant, or their outcomes) from the first exposure on
 * (from the covariate's lookback before it, for CUPED), GROUP BY unit with
 * one aggregate per part FILTERed to its window (units_joined_sql).  Then
 * GROUP BY variant with count, avg, var_samp and covar_samp.  A percentile
 * cap needs the pooled percentile of the per-unit values first: the
 * per-unit rows are then a CTE read twice.  Plans are kept per statement
 * text (a definition gives the same text every time), so a repeated
 * analysis is not planned again; they are parallel-safe, as the same query
 * typed by hand would be.  Everything runs under search_path pg_catalog,
 * pg_temp, the path the keys' expressions were deparsed under.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/spi_plan.h"
#include "experiment/metric_key.h"
#include "experiment/metric_query.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#define PLAN_SLOTS 16

typedef struct PlanSlot
{
	char	   *sql;
	SPIPlanPtr	plan;
} PlanSlot;

static PlanSlot slots[PLAN_SLOTS];
static int	next_slot = 0;

/* The kept plan of sql, prepared once per backend (the oldest slot makes room) */
static SPIPlanPtr
plan_for(const char *sql)
{
	Oid			argtype = TEXTOID;
	PlanSlot   *slot;
	SPIPlanPtr	plan = NULL;

	for (int i = 0; i < PLAN_SLOTS; i++)
		if (slots[i].sql != NULL && strcmp(slots[i].sql, sql) == 0)
			return slots[i].plan;
	slot = &slots[next_slot];
	next_slot = (next_slot + 1) % PLAN_SLOTS;
	if (slot->plan != NULL)
		SPI_freeplan(slot->plan);
	if (slot->sql != NULL)
		pfree(slot->sql);
	slot->plan = NULL;
	slot->sql = NULL;
	(void) spi_cached_plan_options(&plan, sql, 1, &argtype, CURSOR_OPT_PARALLEL_OK);
	slot->sql = MemoryContextStrdup(TopMemoryContext, sql);
	slot->plan = plan;
	return plan;
}

/* An event's value: NULL is no event */
static char *
value_sql(const MetricPart *p)
{
	if (p->source == 'd')
		return metric_key_sql(p->key);
	return psprintf("(CASE WHEN d.metric OPERATOR(pg_catalog.=) %s THEN d.value END)",
					quote_literal_cstr(p->key));
}

/*
 * What an event of the part must meet beyond the join (NULL: nothing):
 * before the first exposure for a covariate, at or after it when the join
 * reaches back for one, and before exposure + window.
 */
static char *
filter_sql(const MetricPart *p, bool covariate, const char *lookback)
{
	const char *t = "e.at";
	char	   *after = psprintf("%s OPERATOR(pg_catalog.>=) x.exposed_at", t);
	char	   *before;

	if (covariate)
		return psprintf("%s OPERATOR(pg_catalog.<) x.exposed_at", t);
	if (p->window == NULL)
		return lookback ? after : NULL;
	before = psprintf("%s OPERATOR(pg_catalog.<) (x.exposed_at OPERATOR(pg_catalog.+) %s::pg_catalog.interval)",
					  t, quote_literal_cstr(p->window));
	return lookback ? psprintf("%s AND %s", after, before) : before;
}

/*
 * The part's per-unit value: its aggregation of its events' values v, NULL
 * when the unit has no event with a value (in its window)
 */
static char *
unit_value_sql(const MetricPart *p, const char *v, bool covariate, const char *lookback)
{
	char	   *cond = filter_sql(p, covariate, lookback);
	char	   *f = cond ? psprintf(" FILTER (WHERE %s)", cond) : "";
	char	   *agg = NULL;

	switch (p->aggregation)
	{
		case 's':
			agg = psprintf("pg_catalog.sum(%s)%s", v, f);
			break;
		case 'c':
			agg = psprintf("NULLIF(pg_catalog.count(%s)%s, 0)::pg_catalog.float8", v, f);
			break;
		case 'a':
			agg = psprintf("pg_catalog.max(CASE WHEN %s OPERATOR(pg_catalog.<>) 0 THEN 1 "
						   "WHEN %s IS NOT NULL THEN 0 END)%s::pg_catalog.float8", v, v, f);
			break;
		case 'm':
			agg = psprintf("pg_catalog.avg(%s)%s", v, f);
			break;
		case 'x':
			agg = psprintf("pg_catalog.max(%s)%s", v, f);
			break;
		case 'l':
			/* the latest event, ties by id; an outcome has one per unit */
			if (p->source == 'o')
				agg = psprintf("pg_catalog.max(%s)%s", v, f);
			else
				agg = psprintf("(pg_catalog.array_agg(%s ORDER BY e.at DESC, e.id DESC) "
							   "FILTER (WHERE %s IS NOT NULL%s%s))[1]",
							   v, v, cond ? " AND " : "", cond ? cond : "");
			break;
		default:
			elog(ERROR, "learnloop: unknown aggregation '%c'", p->aggregation);
	}
	/* a proportion counts a unit with a non-zero value as converted */
	if (p->kind == 'p' && p->aggregation != 'a')
		agg = psprintf("CASE WHEN %s OPERATOR(pg_catalog.<>) 0 THEN 1::pg_catalog.float8 "
					   "WHEN %s IS NOT NULL THEN 0::pg_catalog.float8 END", agg, agg);
	return agg;
}

/*
 * The events of the experiment with their values: computed once per event
 * here (OFFSET 0 keeps the subquery from being merged into the join, where
 * each aggregate would compute its value from the outcome again), so that
 * only numbers reach the aggregation.
 */
static char *
events_table_sql(const MetricPart *y, const MetricPart *z, bool same_value)
{
	char	   *vz = (z == NULL || same_value) ? "NULL::pg_catalog.float8" : value_sql(z);

	if (y->source == 'd')
		return psprintf("(SELECT d.unit_id, d.variant, d.created_at AS at, d.id, %s AS vy, %s AS vz "
						"FROM ml.mltrainingdata d WHERE d.experiment OPERATOR(pg_catalog.=) $1 OFFSET 0) e",
						value_sql(y), vz);
	return psprintf("(SELECT d.unit_id, d.recorded_at AS at, %s AS vy, %s AS vz "
					"FROM ml.experiment_outcomes d WHERE d.experiment OPERATOR(pg_catalog.=) $1 "
					"AND d.metric OPERATOR(pg_catalog.=) ANY (ARRAY[%s, %s]) OFFSET 0) e",
					value_sql(y), vz, quote_literal_cstr(y->key),
					quote_literal_cstr(z ? z->key : y->key));
}

/* events_table_sql joined to the exposure x of their unit (and variant) */
static char *
events_sql(const MetricPart *y, const MetricPart *z, bool same_value)
{
	if (y->source == 'd')
		return psprintf("%s ON e.unit_id OPERATOR(pg_catalog.=) x.unit_id COLLATE pg_catalog.\"C\" "
						"AND e.variant OPERATOR(pg_catalog.=) x.variant COLLATE pg_catalog.\"C\" ",
						events_table_sql(y, z, same_value));
	return psprintf("%s ON e.unit_id OPERATOR(pg_catalog.=) x.unit_id ",
					events_table_sql(y, z, same_value));
}

/*
 * A per-unit column of u, filled (a unit without an event has 0 for sum,
 * count and any, and for every aggregation with missing => 'zero') and
 * capped (the percentile from c.<column>_cap).
 */
static char *
filled_sql(const MetricPart *p, const char *column, bool zero_fill)
{
	if (zero_fill || strchr("sca", p->aggregation) != NULL)
		return psprintf("COALESCE(u.%s, 0)", column);
	return psprintf("u.%s", column);
}

static char *
analysed_sql(const MetricPart *p, const char *column, bool zero_fill)
{
	char	   *v = filled_sql(p, column, zero_fill);

	if (!p->capped)
		return v;
	if (p->cap_percentile)
		return psprintf("LEAST(%s, c.%s_cap)", v, column);
	return psprintf("LEAST(%s, %.17g::pg_catalog.float8)", v, p->cap);
}

/*
 * The per-unit values (variant, y, z) of every exposed unit: its events
 * joined to it, then grouped by unit.  Any part may have a window, and a
 * covariate reaches back before the exposure.
 */
/*
 * A decision covariate's per-unit value: its aggregation over every
 * decision of the unit in [exposure - lookback, exposure), whatever their
 * experiment and variant (decisions before a unit's exposure do not carry
 * the experiment), through the (unit_id, created_at) index.
 */
static char *
covariate_sql(const MetricPart *z, const char *lookback)
{
	return psprintf("(SELECT %s FROM (SELECT d.created_at AS at, d.id, %s AS vz FROM ml.mltrainingdata d "
					"WHERE d.unit_id OPERATOR(pg_catalog.=) (x.unit_id COLLATE pg_catalog.\"default\") "
					"AND d.created_at OPERATOR(pg_catalog.<) x.exposed_at "
					"AND d.created_at OPERATOR(pg_catalog.>=) "
					"(x.exposed_at OPERATOR(pg_catalog.-) %s::pg_catalog.interval)) e)",
					unit_value_sql(z, "e.vz", false, NULL), value_sql(z), quote_literal_cstr(lookback));
}

static char *
units_joined_sql(const MetricPart *y, const MetricPart *z, const char *vz,
				 bool same_value, bool covariate, const char *lookback)
{
	StringInfoData units;

	if (covariate && z->source == 'd')
	{
		initStringInfo(&units);
		appendStringInfo(&units, "SELECT x.variant, %s AS y, %s AS z "
						 "FROM ml.experiment_exposures x LEFT JOIN %s"
						 "AND e.at OPERATOR(pg_catalog.>=) x.exposed_at "
						 "WHERE x.experiment OPERATOR(pg_catalog.=) $1 "
						 "GROUP BY x.unit_id, x.variant, x.exposed_at",
						 unit_value_sql(y, "e.vy", false, NULL), covariate_sql(z, lookback),
						 events_sql(y, NULL, false));
		return units.data;
	}
	initStringInfo(&units);
	appendStringInfo(&units, "SELECT x.variant, %s AS y, %s AS z "
					 "FROM ml.experiment_exposures x LEFT JOIN %s"
					 "AND e.at OPERATOR(pg_catalog.>=) (x.exposed_at",
					 unit_value_sql(y, "e.vy", false, lookback),
					 z ? unit_value_sql(z, vz, covariate, lookback) : "NULL::pg_catalog.float8",
					 events_sql(y, z, same_value));
	if (lookback)
		appendStringInfo(&units, " OPERATOR(pg_catalog.-) %s::pg_catalog.interval",
						 quote_literal_cstr(lookback));
	appendStringInfoString(&units, ") WHERE x.experiment OPERATOR(pg_catalog.=) $1 "
						   "GROUP BY x.unit_id, x.variant");
	return units.data;
}

/*
 * The same without windows or covariate, for decisions: the events grouped
 * by (unit, variant) first, as a bare GROUP BY would, with each group's
 * first event, then joined to the exposures: one row per unit instead of
 * one per event goes through the join.  A unit with an event before its
 * exposure (rare: decisions come after assignment) is aggregated again from
 * its own decisions after the exposure, through the (unit_id, created_at)
 * index, by a sub-query that only its row evaluates.
 */
static char *
units_first_sql(const MetricPart *y, const MetricPart *z, const char *vz,
				bool same_value)
{
	const char *own = "FROM (SELECT d.created_at AS at, d.id, %s AS vy, %s AS vz FROM ml.mltrainingdata d "
		"WHERE d.unit_id OPERATOR(pg_catalog.=) (x.unit_id COLLATE pg_catalog.\"default\") "
		"AND d.experiment OPERATOR(pg_catalog.=) $1 "
		"AND d.variant OPERATOR(pg_catalog.=) (x.variant COLLATE pg_catalog.\"default\") "
		"AND d.created_at OPERATOR(pg_catalog.>=) x.exposed_at) e";
	char	   *events = psprintf(own, value_sql(y),
								  (z == NULL || same_value) ? "NULL::pg_catalog.float8" : value_sql(z));
	char	   *zy = z ? unit_value_sql(z, vz, false, NULL) : "NULL::pg_catalog.float8";

	/* without a second part z is NULL: no sub-query, which would return a row per event */
	char	   *z_again = z ?
		psprintf("CASE WHEN a.first_at OPERATOR(pg_catalog.<) x.exposed_at THEN (SELECT %s %s) ELSE a.z END",
				 zy, events) : "NULL::pg_catalog.float8";

	return psprintf("SELECT x.variant, "
					"CASE WHEN a.first_at OPERATOR(pg_catalog.<) x.exposed_at THEN (SELECT %s %s) ELSE a.y END AS y, "
					"%s AS z "
					"FROM ml.experiment_exposures x LEFT JOIN "
					"(SELECT e.unit_id, e.variant, %s AS y, %s AS z, pg_catalog.min(e.at) AS first_at "
					"FROM %s GROUP BY e.unit_id, e.variant) a "
					"ON a.unit_id OPERATOR(pg_catalog.=) x.unit_id COLLATE pg_catalog.\"C\" "
					"AND a.variant OPERATOR(pg_catalog.=) x.variant COLLATE pg_catalog.\"C\" "
					"WHERE x.experiment OPERATOR(pg_catalog.=) $1",
					unit_value_sql(y, "e.vy", false, NULL), events, z_again,
					unit_value_sql(y, "e.vy", false, NULL), zy,
					events_table_sql(y, z, same_value));
}

static char *
metric_sql(const MetricDef *def, bool zero_fill)
{
	const MetricPart *y = def->main.kind == 'r' ? &def->numerator : &def->main;
	const MetricPart *z = def->main.kind == 'r' ? &def->denominator :
		def->has_covariate ? &def->covariate : NULL;
	const char *lookback = def->has_covariate ? def->lookback : NULL;
	bool		percentile = (y->capped && y->cap_percentile) ||
		(z != NULL && z->capped && z->cap_percentile);
	char	   *units_sql;
	StringInfoData sql;
	bool		same_value;
	const char *vz;
	char	   *ay,
			   *az;
	char	   *ok;

	/* per unit */
	same_value = z != NULL && z->source == y->source && strcmp(z->key, y->key) == 0;
	vz = same_value ? "e.vy" : "e.vz";
	if (y->source == 'd' && lookback == NULL && y->window == NULL &&
		(z == NULL || z->window == NULL))
		units_sql = units_first_sql(y, z, vz, same_value);
	else
		units_sql = units_joined_sql(y, z, vz, same_value, def->has_covariate, lookback);

	/* per variant, over the analysed units (filled, capped) */
	ay = analysed_sql(y, "y", zero_fill);
	az = z ? analysed_sql(z, "z", zero_fill || def->has_covariate) : "u.z";
	ok = psprintf("%s IS NOT NULL%s%s%s", ay, z ? " AND " : "", z ? az : "", z ? " IS NOT NULL" : "");
	initStringInfo(&sql);
	if (percentile)
	{
		bool		cap_y = y->capped && y->cap_percentile;
		bool		cap_z = z != NULL && z->capped && z->cap_percentile;

		appendStringInfo(&sql, "WITH u AS MATERIALIZED (%s), c AS (SELECT ", units_sql);
		if (cap_y)
			appendStringInfo(&sql, "pg_catalog.percentile_cont(%.17g::pg_catalog.float8) "
							 "WITHIN GROUP (ORDER BY %s) AS y_cap%s",
							 y->cap, filled_sql(y, "y", zero_fill), cap_z ? ", " : "");
		if (cap_z)
			appendStringInfo(&sql, "pg_catalog.percentile_cont(%.17g::pg_catalog.float8) "
							 "WITHIN GROUP (ORDER BY %s) AS z_cap",
							 z->cap, filled_sql(z, "z", zero_fill || def->has_covariate));
		appendStringInfoString(&sql, " FROM u) ");
	}
	appendStringInfo(&sql, "SELECT u.variant::pg_catalog.text, pg_catalog.count(*), "
					 "pg_catalog.count(u.y), pg_catalog.count(*) FILTER (WHERE %s), "
					 "pg_catalog.avg(%s) FILTER (WHERE %s), pg_catalog.var_samp(%s) FILTER (WHERE %s), "
					 "pg_catalog.avg(%s) FILTER (WHERE %s), pg_catalog.var_samp(%s) FILTER (WHERE %s), "
					 "pg_catalog.covar_samp(%s, %s) FILTER (WHERE %s) ",
					 ok, ay, ok, ay, ok, az, ok, az, ok, ay, az, ok);
	if (percentile)
		appendStringInfoString(&sql, "FROM u, c GROUP BY u.variant");
	else
		appendStringInfo(&sql, "FROM (%s OFFSET 0) u GROUP BY u.variant", units_sql);
	return sql.data;
}

static double
float_column(HeapTuple row, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, column, &isnull);

	return isnull ? NAN : DatumGetFloat8(d);
}

static int64
count_column(HeapTuple row, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, column, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * Runs the metric's statement.  A per-unit value whose square is beyond a
 * double (a stray 1e200 in one event) makes the variance overflow: said as
 * what it is, with the way out, instead of float8's bare error.
 */
static void
execute_metric(SPIPlanPtr plan, Datum arg, const char *name)
{
	MemoryContext context = CurrentMemoryContext;

	PG_TRY();
	{
		if (SPI_execute_plan(plan, &arg, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "learnloop could not aggregate metric \"%s\"", name);
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		if (error->sqlerrcode != ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("metric \"%s\" has per-unit values too large for its statistics: %s",
						name, error->message),
				 errhint("Cap the metric (ml.create_metric's cap and cap_type => 'absolute'), or find the event with the stray value.")));
	}
	PG_END_TRY();
}

void
metric_moments(const ExperimentConfig *exp, const MetricDef *def, bool zero_fill,
			   MetricArm *out)
{
	int			level = metric_catalog_path();
	Datum		arg = CStringGetTextDatum(exp->name);
	char	   *sql = metric_sql(def, zero_fill);
	uint64		r;

	/*
	 * The sub-queries that re-aggregate the rare units with an event before
	 * their exposure are costed as if every unit ran them: JIT would then
	 * compile the whole plan for seconds, to save nothing.
	 */
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	for (int i = 0; i < exp->nvariants; i++)
	{
		memset(&out[i], 0, sizeof(MetricArm));
		out[i].m.mean_y = out[i].m.var_y = out[i].m.mean_z = NAN;
		out[i].m.var_z = out[i].m.cov_yz = NAN;
	}
	SPI_connect();
	execute_metric(plan_for(sql), arg, def->main.name);
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		variant = SPI_getbinval(row, desc, 1, &isnull);
		int			i = isnull ? -1 : experiment_variant_index(exp, DatumGetTextPP(variant));
		MetricArm  *a;

		if (i < 0)
			continue;			/* a variant the definition no longer has */
		a = &out[i];
		a->units = count_column(row, desc, 2);
		a->with_value = count_column(row, desc, 3);
		a->m.n = count_column(row, desc, 4);
		a->m.mean_y = float_column(row, desc, 5);
		a->m.var_y = float_column(row, desc, 6);
		a->m.mean_z = float_column(row, desc, 7);
		a->m.var_z = float_column(row, desc, 8);
		a->m.cov_yz = float_column(row, desc, 9);
	}
	SPI_finish();
	AtEOXact_GUC(true, level);
}
