/*-------------------------------------------------------------------------
 *
 * augment.c
 *	  ml.augment(task, source_filter, copies, noise, seed): perturbed copies
 *	  of a task's real decisions, written as source 'augmented' with the id
 *	  of the row each came from (augmented_from), so that training with
 *	  evaluate_on => 'real' still tests on real rows only.
 *
 * It runs as the caller (SECURITY INVOKER): the rows it reads and writes
 * are the caller's to read and write.  The filter is the caller's SQL; it
 * must be one expression (common/sql_expression.c), so it cannot close the
 * statement's parentheses or add a clause or a statement, and the rows are
 * read in read-only mode.  Each copy draws from its own stream, seeded by
 * the seed, the original's id and the copy's number: the same arguments
 * write the same copies whatever the order rows are read in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "common/args.h"
#include "common/numeric_double.h"
#include "common/prng.h"
#include "common/sql_expression.h"

PG_FUNCTION_INFO_V1(learnloop_augment);

#define ARG_TASK 0
#define ARG_FILTER 1
#define ARG_COPIES 2
#define ARG_NOISE 3
#define ARG_SEED 4

#define MAX_COPIES 100
#define BATCH_COPIES 10000

#define NOISE_HINT "noise is {\"feature\": {\"sd\": 0.5, \"relative_sd\": 0.1, \"min\": 0, \"max\": 10, \"round\": true, " \
	"\"flip\": 0.1, \"drop\": 0.05}, ...}: docs/simulation.md, \"Augmentation\"."

/* What happens to one feature of every copy. */
typedef struct NoiseRule
{
	char	   *feature;
	double		sd;				/* numbers: + N(0, sd) */
	double		relative_sd;	/* numbers: x (1 + N(0, relative_sd)) */
	double		lo;				/* numbers: clamped to [lo, hi] */
	double		hi;
	bool		round;			/* numbers: a whole number */
	double		flip;			/* strings: another value seen; booleans: negated */
	double		drop;			/* any value: removed (missing) */
	int			npool;			/* the string values the selected rows have */
	char	  **pool;
	bool		seen;			/* in at least one selected row */
} NoiseRule;

static void
refuse_noise(const char *feature, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 feature ? errmsg("noise for \"%s\" %s", feature, why) : errmsg("noise %s", why),
			 errhint(NOISE_HINT)));
}

static double
jsonb_double(const JsonbValue *v)
{
	return numeric_to_double(v->val.numeric);
}

/* A number of a rule, at least 0 (and at most 1 for a probability). */
static double
rule_number(const char *feature, const char *key, const JsonbValue *v, bool probability)
{
	double		x;

	if (v->type != jbvNumeric)
		refuse_noise(feature, psprintf("has %s that is not a number", key));
	x = jsonb_double(v);
	if (!isfinite(x) || x < 0 || (probability && x > 1))
		refuse_noise(feature, psprintf("has %s %g, outside %s", key, x, probability ? "[0, 1]" : "[0, infinity)"));
	return x;
}

/* Reads one feature's rule: an object of the keys NOISE_HINT lists. */
static void
read_rule(NoiseRule *rule, JsonbValue *body)
{
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	bool		perturbs = false;

	if (body->type != jbvBinary || !JsonContainerIsObject(body->val.binary.data))
		refuse_noise(rule->feature, "must be an object");
	rule->lo = -INFINITY;
	rule->hi = INFINITY;
	it = JsonbIteratorInit(body->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(k.val.string.val, k.val.string.len);
		(void) JsonbIteratorNext(&it, &v, true);
		if (strcmp(key, "sd") == 0)
			rule->sd = rule_number(rule->feature, key, &v, false);
		else if (strcmp(key, "relative_sd") == 0)
			rule->relative_sd = rule_number(rule->feature, key, &v, false);
		else if (strcmp(key, "flip") == 0)
			rule->flip = rule_number(rule->feature, key, &v, true);
		else if (strcmp(key, "drop") == 0)
			rule->drop = rule_number(rule->feature, key, &v, true);
		else if (strcmp(key, "min") == 0 || strcmp(key, "max") == 0)
		{
			if (v.type != jbvNumeric || !isfinite(jsonb_double(&v)))
				refuse_noise(rule->feature, psprintf("has %s that is not a finite number", key));
			*(key[1] == 'i' ? &rule->lo : &rule->hi) = jsonb_double(&v);
			continue;
		}
		else if (strcmp(key, "round") == 0)
		{
			if (v.type != jbvBool)
				refuse_noise(rule->feature, "has round that is not a boolean");
			rule->round = v.val.boolean;
			continue;
		}
		else
			refuse_noise(rule->feature, psprintf("has an unknown key \"%s\"", key));
		perturbs = true;
	}
	if (rule->lo > rule->hi)
		refuse_noise(rule->feature, "has min above max");
	if (!perturbs)
		refuse_noise(rule->feature, "changes nothing: give it sd, relative_sd, flip or drop");
}

/* The noise argument: an object of features and their rules. */
static NoiseRule *
read_noise(Jsonb *noise, int *nrules)
{
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	NoiseRule  *rules;
	int			n = 0;

	if (!JB_ROOT_IS_OBJECT(noise) || JB_ROOT_IS_SCALAR(noise))
		refuse_noise(NULL, "must be a JSON object of features and how to perturb them");
	rules = palloc0(sizeof(NoiseRule) * Max(JB_ROOT_COUNT(noise), 1));
	it = JsonbIteratorInit(&noise->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		rules[n].feature = pnstrdup(k.val.string.val, k.val.string.len);
		(void) JsonbIteratorNext(&it, &v, true);
		read_rule(&rules[n++], &v);
	}
	*nrules = n;
	return rules;
}

/* The statement's WHERE: the task's real rows, and the caller's filter. */
static char *
selection(const char *filter)
{
	const char *why;

	if (filter == NULL)
		return "task OPERATOR(pg_catalog.=) $1 AND source OPERATOR(pg_catalog.=) 'real'";
	if (sql_one_expression(filter, &why) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source_filter is not allowed: %s", why),
				 errhint("source_filter is one boolean expression over ml.MLTrainingData's columns, e.g. created_at > now() - interval '30 days'.")));
	return psprintf("task OPERATOR(pg_catalog.=) $1 AND source OPERATOR(pg_catalog.=) 'real' AND (%s)", filter);
}

/*
 * The string values the selected rows have for each flipped feature, in
 * jsonb order: what a flip may turn a value into.
 */
static void
read_pools(NoiseRule *rules, int nrules, const char *where, Datum task)
{
	Oid			types[2] = {TEXTOID, TEXTARRAYOID};
	Datum		args[2];
	Datum	   *names = palloc(sizeof(Datum) * Max(nrules, 1));
	int			nflip = 0;
	char	   *sql;

	for (int r = 0; r < nrules; r++)
		if (rules[r].flip > 0)
			names[nflip++] = CStringGetTextDatum(rules[r].feature);
	if (nflip == 0)
		return;
	args[0] = task;
	args[1] = PointerGetDatum(construct_array(names, nflip, TEXTOID, -1, false, TYPALIGN_INT));
	sql = psprintf("SELECT key, pg_catalog.array_agg(v ORDER BY v COLLATE pg_catalog.\"C\") FROM ("
				   "SELECT DISTINCT f.key, f.value OPERATOR(pg_catalog.#>>) '{}' AS v "
				   "FROM (SELECT features FROM ml.mltrainingdata WHERE %s) d, "
				   "LATERAL pg_catalog.jsonb_each(d.features) f "
				   "WHERE f.key OPERATOR(pg_catalog.=) ANY ($2) "
				   "AND pg_catalog.jsonb_typeof(f.value) OPERATOR(pg_catalog.=) 'string') s GROUP BY key",
				   where);
	if (SPI_execute_with_args(sql, 2, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the values of the flipped features");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *key = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		bool		isnull;
		ArrayType  *values = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[i],
														  SPI_tuptable->tupdesc, 2, &isnull));
		Datum	   *elems;
		int			nelems;

		deconstruct_array(values, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
		for (int r = 0; r < nrules; r++)
			if (strcmp(rules[r].feature, key) == 0)
			{
				rules[r].npool = nelems;
				rules[r].pool = palloc(sizeof(char *) * nelems);
				for (int e = 0; e < nelems; e++)
					rules[r].pool[e] = TextDatumGetCString(elems[e]);
			}
	}
}

/*
 * A perturbed number.  Noise can carry a large value past the range of
 * double precision; jsonb would then hold a numeric Infinity, which no
 * JSON reader (nor a restore of a dump) accepts, so a value that is not
 * finite once clamped is an error.
 */
static double
perturb_number(const NoiseRule *rule, double x, Prng *prng, int64 id)
{
	if (rule->sd > 0)
		x += prng_normal(prng, 0, rule->sd);
	if (rule->relative_sd > 0)
		x *= 1 + prng_normal(prng, 0, rule->relative_sd);
	x = Min(Max(x, rule->lo), rule->hi);
	if (!isfinite(x))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("noise for \"%s\" takes the value of decision %lld beyond the range of double precision",
						rule->feature, (long long) id),
				 errhint("Give the feature min and max, or a smaller sd or relative_sd.")));
	return rule->round ? round(x) : x;
}

static const char *
jsonb_kind(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		default:
			return "an object or array";
	}
}

static void
refuse_value(const NoiseRule *rule, const char *what, const JsonbValue *v, int64 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("noise %s feature \"%s\", which is %s in decision %lld",
					what, rule->feature, jsonb_kind(v), (long long) id),
			 errhint("sd, relative_sd, min, max and round apply to numbers, flip to strings and booleans; narrow source_filter or the noise.")));
}

/*
 * A feature's value in a copy, or false when the copy drops it.  A value
 * that is null is kept; one the rule does not apply to is an error.
 */
static bool
perturb_value(NoiseRule *rule, JsonbValue *v, Prng *prng, int64 id)
{
	bool		numeric_rule = rule->sd > 0 || rule->relative_sd > 0 || rule->round ||
		!isinf(rule->lo) || !isinf(rule->hi);

	rule->seen = true;
	if (rule->drop > 0 && prng_uniform(prng) < rule->drop)
		return false;
	if (v->type == jbvNull)
		return true;
	if (numeric_rule && v->type != jbvNumeric)
		refuse_value(rule, "perturbs the numeric", v, id);
	if (rule->flip > 0 && v->type != jbvString && v->type != jbvBool)
		refuse_value(rule, "flips the", v, id);
	if (v->type == jbvNumeric)
	{
		double		x = perturb_number(rule, jsonb_double(v), prng, id);

		v->val.numeric = DatumGetNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(x)));
	}
	else if (rule->flip > 0 && prng_uniform(prng) < rule->flip)
	{
		if (v->type == jbvBool)
			v->val.boolean = !v->val.boolean;
		else if (rule->npool > 1)
		{
			char	   *current = pnstrdup(v->val.string.val, v->val.string.len);
			int			pick = (int) (prng_uniform(prng) * (rule->npool - 1));

			/* uniform over the other values: skip the current one */
			for (int p = 0; p <= pick; p++)
				if (strcmp(rule->pool[p], current) == 0)
				{
					pick++;
					break;
				}
			pick = Min(pick, rule->npool - 1);
			v->val.string.val = rule->pool[pick];
			v->val.string.len = strlen(rule->pool[pick]);
		}
	}
	return true;
}

/* The copy's features: the original's, the ruled ones perturbed, in the original's order. */
static Datum
perturb_features(Jsonb *features, NoiseRule *rules, int nrules, Prng *prng, int64 id)
{
	JsonbParseState *state = NULL;
	JsonbIterator *it = JsonbIteratorInit(&features->root);
	JsonbValue	k,
				v;
	JsonbValue *result = NULL;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		NoiseRule  *rule = NULL;

		/* at the top level, with nested values skipped: the object's braces */
		if (tok != WJB_KEY)
		{
			result = pushJsonbValue(&state, tok, NULL);
			continue;
		}
		(void) JsonbIteratorNext(&it, &v, true);
		for (int r = 0; r < nrules && rule == NULL; r++)
			if (strlen(rules[r].feature) == k.val.string.len &&
				memcmp(rules[r].feature, k.val.string.val, k.val.string.len) == 0)
				rule = &rules[r];
		if (rule && !perturb_value(rule, &v, prng, id))
			continue;
		pushJsonbValue(&state, WJB_KEY, &k);
		pushJsonbValue(&state, WJB_VALUE, &v);
	}
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}

/*
 * The copies of one batch of originals, column by column: written by one
 * INSERT ... SELECT FROM unnest(...), not a statement per copy.
 */
#define COPY_COLUMNS 7
static const Oid copy_types[COPY_COLUMNS] = {TEXTOID, TIMESTAMPTZOID, JSONBOID, JSONBOID, JSONBOID,
TIMESTAMPTZOID, INT8OID};

typedef struct CopyBatch
{
	int			n;
	Datum	   *values[COPY_COLUMNS];	/* unit_id, created_at, features, decision,
										 * outcome, outcome_at, augmented_from */
	bool	   *nulls[COPY_COLUMNS];
} CopyBatch;

static void
batch_start(CopyBatch *batch, int capacity)
{
	batch->n = 0;
	for (int c = 0; c < COPY_COLUMNS; c++)
	{
		batch->values[c] = palloc(sizeof(Datum) * capacity);
		batch->nulls[c] = palloc(sizeof(bool) * capacity);
	}
}

/* Writes the batch's copies (in their order, so their ids follow it). */
static int64
batch_insert(CopyBatch *batch, SPIPlanPtr insert_plan, Datum task)
{
	Datum		args[COPY_COLUMNS + 1];
	int			dims[1] = {batch->n};
	int			lbs[1] = {1};
	int			spi;

	args[0] = task;
	for (int c = 0; c < COPY_COLUMNS; c++)
	{
		int16		len;
		bool		byval;
		char		align;

		get_typlenbyvalalign(copy_types[c], &len, &byval, &align);
		args[c + 1] = PointerGetDatum(construct_md_array(batch->values[c], batch->nulls[c], 1, dims, lbs,
														 copy_types[c], len, byval, align));
	}
	spi = SPI_execute_plan(insert_plan, args, NULL, false, 0);
	if (spi != SPI_OK_INSERT)
		elog(ERROR, "could not insert the augmented copies: %s", SPI_result_code_string(spi));
	return (int64) SPI_processed;
}

Datum
learnloop_augment(PG_FUNCTION_ARGS)
{
	static const char *const insert_sql =
		"INSERT INTO ml.mltrainingdata (task, unit_id, created_at, features, decision, outcome, "
		"outcome_at, source, augmented_from) "
		"SELECT $1, c.unit_id, c.created_at, c.features, c.decision, c.outcome, c.outcome_at, "
		"'augmented', c.augmented_from "
		"FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
		"pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8)) "
		"WITH ORDINALITY "
		"AS c (unit_id, created_at, features, decision, outcome, outcome_at, augmented_from, n) "
		"ORDER BY c.n";
	Oid			insert_types[COPY_COLUMNS + 1] = {TEXTOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
		JSONBARRAYOID, JSONBARRAYOID, JSONBARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID};
	Oid			read_types[1] = {TEXTOID};
	Datum		task;
	char	   *filter;
	int32		copies;
	int32		seed;
	NoiseRule  *rules;
	int			nrules;
	char	   *where;
	SPIPlanPtr	insert_plan;
	SPIPlanPtr	read_plan;
	Portal		portal;
	MemoryContext batch_cxt;
	MemoryContext spi_cxt;
	int			fetch_rows;
	int64		written = 0;
	int64		read = 0;

	args_not_null(fcinfo, ARG_TASK, "task", "Name the task whose real decisions to copy.");
	args_not_null(fcinfo, ARG_COPIES, "copies", "copies is how many perturbed copies of each row to write.");
	args_not_null(fcinfo, ARG_NOISE, "noise", "'{}' copies the rows unchanged.");
	args_not_null(fcinfo, ARG_SEED, "seed", "The same seed writes the same copies.");
	task = PG_GETARG_DATUM(ARG_TASK);
	filter = PG_ARGISNULL(ARG_FILTER) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(ARG_FILTER));
	copies = PG_GETARG_INT32(ARG_COPIES);
	seed = PG_GETARG_INT32(ARG_SEED);
	if (copies < 1 || copies > MAX_COPIES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("copies must be between 1 and %d, not %d", MAX_COPIES, copies),
				 errhint("Call again with another seed for more copies.")));
	rules = read_noise(PG_GETARG_JSONB_P(ARG_NOISE), &nrules);
	where = selection(filter);
	/* about BATCH_COPIES copies a statement, whatever copies is */
	fetch_rows = Max(BATCH_COPIES / copies, 1);

	SPI_connect();
	read_pools(rules, nrules, where, task);
	read_plan = SPI_prepare(psprintf("SELECT id, unit_id, created_at, features, decision, outcome, outcome_at "
									 "FROM ml.mltrainingdata WHERE %s ORDER BY id", where),
							1, read_types);
	insert_plan = SPI_prepare(insert_sql, COPY_COLUMNS + 1, insert_types);
	if (read_plan == NULL || insert_plan == NULL)
		elog(ERROR, "could not prepare ml.augment's statements: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, read_plan, &task, NULL, true);
	spi_cxt = CurrentMemoryContext;
	batch_cxt = AllocSetContextCreate(spi_cxt, "ml.augment batch", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		SPITupleTable *fetched;
		uint64		nrows;
		CopyBatch	batch;

		SPI_cursor_fetch(portal, true, fetch_rows);
		if (SPI_processed == 0)
			break;
		/* the insertion below sets SPI_processed and SPI_tuptable again */
		fetched = SPI_tuptable;
		nrows = SPI_processed;
		MemoryContextSwitchTo(batch_cxt);
		batch_start(&batch, (int) nrows * copies);
		for (uint64 i = 0; i < nrows; i++)
		{
			HeapTuple	row = fetched->vals[i];
			bool		isnull;
			int64		id = DatumGetInt64(SPI_getbinval(row, fetched->tupdesc, 1, &isnull));
			Datum		original[COPY_COLUMNS - 1];
			bool		original_null[COPY_COLUMNS - 1];
			Jsonb	   *features;

			CHECK_FOR_INTERRUPTS();
			/* the original's columns, as read (column 2 on), once for all its copies */
			for (int c = 0; c < COPY_COLUMNS - 1; c++)
				original[c] = SPI_getbinval(row, fetched->tupdesc, c + 2, &original_null[c]);
			features = DatumGetJsonbP(original[2]);
			for (int32 copy = 1; copy <= copies; copy++)
			{
				char		key[64];
				Prng		prng;
				int			k = batch.n++;

				/* the original's columns, then its id */
				for (int c = 0; c < COPY_COLUMNS - 1; c++)
				{
					batch.values[c][k] = original[c];
					batch.nulls[c][k] = original_null[c];
				}
				batch.values[COPY_COLUMNS - 1][k] = Int64GetDatum(id);
				batch.nulls[COPY_COLUMNS - 1][k] = false;
				snprintf(key, sizeof(key), "augment-%lld-%d", (long long) id, copy);
				prng_seed(&prng, (uint64) (uint32) seed, key, strlen(key));
				batch.values[2][k] = perturb_features(features, rules, nrules, &prng, id);
			}
			read++;
		}
		written += batch_insert(&batch, insert_plan, task);
		MemoryContextSwitchTo(spi_cxt);
		MemoryContextReset(batch_cxt);
		SPI_freetuptable(fetched);
	}
	SPI_cursor_close(portal);
	SPI_finish();

	for (int r = 0; r < nrules && read > 0; r++)
		if (!rules[r].seen)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("noise names the feature \"%s\", which none of the %lld selected decisions has",
							rules[r].feature, (long long) read),
					 errhint("Check the feature's name (names are case-sensitive).")));
	PG_RETURN_INT64(written);
}
