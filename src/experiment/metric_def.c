/*-------------------------------------------------------------------------
 *
 * metric_def.c
 *	  A metric's definition read from ml.metrics.
 *
 * The table is written through ml.create_metric and its CHECKs, but a
 * role with INSERT on it (or the owner, who may drop the CHECKs) could
 * store anything: every field is checked again here, and a row that
 * breaks a rule is an error naming the metric, never a wrong analysis.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/args.h"
#include "common/spi_plan.h"
#include "experiment/metric_def.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#define METRIC_SQL \
	"SELECT source, key, kind, aggregation, numerator, denominator, direction, " \
	"conversion_window::pg_catalog.text, cap, cap_type, min_units, covariate, " \
	"covariate_lookback::pg_catalog.text, alpha, " \
	"conversion_window OPERATOR(pg_catalog.>) '0'::pg_catalog.interval, " \
	"covariate_lookback OPERATOR(pg_catalog.>) '0'::pg_catalog.interval " \
	"FROM ml.metrics WHERE name OPERATOR(pg_catalog.=) $1"

enum
{
	C_SOURCE = 1, C_KEY, C_KIND, C_AGGREGATION, C_NUMERATOR, C_DENOMINATOR, C_DIRECTION,
	C_WINDOW, C_CAP, C_CAP_TYPE, C_MIN_UNITS, C_COVARIATE, C_LOOKBACK, C_ALPHA,
	C_WINDOW_POSITIVE, C_LOOKBACK_POSITIVE
};

static SPIPlanPtr metric_plan = NULL;

/* the caller's context, where the definition's strings must outlive SPI_finish */
static MemoryContext definition_context;

static void
bad_row(const char *name, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("metric \"%s\" in ml.metrics is invalid: %s", name, what),
			 errhint("Drop it with ml.drop_metric and define it again with ml.create_metric.")));
}

static char *
column_text(int column)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column);

	return value ? MemoryContextStrdup(definition_context, value) : NULL;
}

/* The letter of a word among choices (each choice's first letter is its code, but 'max' is 'x') */
static char
column_choice(const char *name, int column, const char *what,
			  const char *const *choices, const char *codes, int n, bool nullable)
{
	char	   *value = column_text(column);

	if (value == NULL && nullable)
		return '\0';
	for (int i = 0; value != NULL && i < n; i++)
		if (strcmp(value, choices[i]) == 0)
			return codes[i];
	bad_row(name, psprintf("unknown %s \"%s\"", what, value ? value : "NULL"));
	return '\0';
}

static double
column_float(int column, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, isnull);

	return *isnull ? NAN : DatumGetFloat8(d);
}

/* a boolean column of the row read: true only when true */
static bool
column_true(int column)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, &isnull);

	return !isnull && DatumGetBool(d);
}

/* One row of ml.metrics into part (and the fields of def when def is given) */
static bool
read_row(const char *name, MetricPart *part, MetricDef *def, char **numerator,
		 char **denominator, char **covariate)
{
	static const char *const sources[] = {"decision", "outcome"};
	static const char *const kinds[] = {"proportion", "mean", "count", "ratio"};
	static const char *const aggregations[] = {"sum", "mean", "max", "any", "count", "last"};
	static const char *const directions[] = {"higher", "lower"};
	static const char *const cap_types[] = {"percentile", "absolute"};
	Oid			argtype = TEXTOID;
	Datum		arg = CStringGetTextDatum(name);
	bool		isnull;

	if (SPI_execute_plan(spi_cached_plan(&metric_plan, METRIC_SQL, 1, &argtype),
						 &arg, NULL, true, 2) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read metric \"%s\"", name);
	if (SPI_processed == 0)
		return false;
	part->name = MemoryContextStrdup(definition_context, name);
	part->source = column_choice(name, C_SOURCE, "source", sources, "do", 2, false);
	part->key = column_text(C_KEY);
	if (part->key == NULL || part->key[0] == '\0')
		bad_row(name, "no key");
	part->kind = column_choice(name, C_KIND, "kind", kinds, "pmcr", 4, false);
	part->aggregation = column_choice(name, C_AGGREGATION, "aggregation", aggregations,
									  "smxacl", 6, true);
	if ((part->kind == 'r') != (part->aggregation == '\0'))
		bad_row(name, "a ratio has no aggregation, every other kind has one");
	if (part->source == 'o' && part->kind != 'r' && part->aggregation != 'l')
		bad_row(name, "source outcome has aggregation last");
	if (part->kind == 'p' && strchr("axl", part->aggregation) == NULL)
		bad_row(name, "a proportion is aggregated by any, last or max");
	part->window = column_text(C_WINDOW);
	/* the table's CHECK says so, but a row is checked as read: a window <= 0 would drop every event */
	if (part->window != NULL && !column_true(C_WINDOW_POSITIVE))
		bad_row(name, "conversion_window must be positive");
	part->cap = column_float(C_CAP, &isnull);
	part->capped = !isnull;
	part->cap_percentile = column_choice(name, C_CAP_TYPE, "cap_type", cap_types, "pa", 2, false) == 'p';
	if (part->capped && !(part->cap_percentile ? (part->cap > 0 && part->cap < 1)
						  : (part->cap > 0 && isfinite(part->cap))))
		bad_row(name, "cap out of range");
	if (def == NULL)
		return true;
	def->lower = column_choice(name, C_DIRECTION, "direction", directions, "hl", 2, false) == 'l';
	def->min_units = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												 C_MIN_UNITS, &isnull));
	if (isnull || def->min_units < 0)
		bad_row(name, "min_units must be 0 or more");
	def->alpha = column_float(C_ALPHA, &isnull);
	if (!isnull && !(def->alpha > 0 && def->alpha < 1))
		bad_row(name, "alpha must be between 0 and 1");
	def->lookback = column_text(C_LOOKBACK);
	if (def->lookback != NULL && !column_true(C_LOOKBACK_POSITIVE))
		bad_row(name, "covariate_lookback must be positive");
	*numerator = column_text(C_NUMERATOR);
	*denominator = column_text(C_DENOMINATOR);
	*covariate = column_text(C_COVARIATE);
	return true;
}

/* A part named by a metric: a non-ratio metric of the given source */
static void
read_part(const char *owner, const char *name, char source, MetricPart *part)
{
	if (name == NULL || !read_row(name, part, NULL, NULL, NULL, NULL))
		bad_row(owner, psprintf("its metric \"%s\" does not exist", name ? name : "NULL"));
	if (part->kind == 'r' || part->source != source)
		bad_row(owner, psprintf("its metric \"%s\" must be a non-ratio metric of the same source", name));
}

bool
metric_lookup(const char *name, MetricDef *def)
{
	char	   *numerator,
			   *denominator,
			   *covariate;
	bool		found;

	Oid			relid = get_relname_relid("metrics", get_namespace_oid("ml", false));
	HeapTuple	rel;
	Oid			owner;
	Oid			save_user;
	int			save_context;

	/* 0.4.0 added the table: older SQL objects know no defined metric */
	if (!OidIsValid(relid))
		return false;
	rel = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(rel))
		return false;
	owner = ((Form_pg_class) GETSTRUCT(rel))->relowner;
	ReleaseSysCache(rel);
	memset(def, 0, sizeof(*def));
	definition_context = CurrentMemoryContext;

	/*
	 * Definitions are read as the table's owner, as a foreign key check reads
	 * the referenced table: a role that may analyse an experiment but was
	 * granted nothing on ml.metrics (as before 0.4.0) still analyses every
	 * metric as its definition says, and an undefined one as before.  An
	 * error on the way resets the role with the transaction.
	 */
	GetUserIdAndSecContext(&save_user, &save_context);
	SetUserIdAndSecContext(owner, save_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	SPI_connect();
	found = read_row(name, &def->main, def, &numerator, &denominator, &covariate);
	if (found && def->main.kind == 'r')
	{
		read_part(name, numerator, def->main.source, &def->numerator);
		read_part(name, denominator, def->main.source, &def->denominator);
	}
	if (found && covariate != NULL)
	{
		if (def->main.kind == 'r' || def->main.source != 'd')
			bad_row(name, "only proportion, mean and count metrics of source decision have a covariate");
		def->has_covariate = true;
		if (strcmp(covariate, name) == 0)
			def->covariate = def->main;
		else
			read_part(name, covariate, 'd', &def->covariate);
		if (def->lookback == NULL)
			bad_row(name, "no covariate_lookback");
	}
	SPI_finish();
	SetUserIdAndSecContext(save_user, save_context);
	return found;
}
