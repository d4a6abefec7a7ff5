/*-------------------------------------------------------------------------
 *
 * dataset_load.c
 *	  Reads the training source into a Dataset, as the calling role.
 *
 * One query, streamed through a cursor:
 *
 *	SELECT (target), [(group)], [(time)], [(source = 'real'), [id, augmented_from]],
 *		   features...
 *	  FROM source AS learnloop_source [WHERE (filter)]
 *
 * Numeric and boolean columns become numeric features, text and enums
 * categorical ones, jsonb objects one feature per key; NULL is missing.
 * Between batches it reports to, and may be stopped by, the TrainProgress
 * its caller gives it.  The features go to memory or, training from a
 * stream, to a spill file (learnloop.training_memory, dataset_spill.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/typcache.h"

#include "common/numeric_double.h"
#include "learnloop.h"
#include "train/dataset.h"
#include "train/lineage.h"
#include "train/stream.h"

#define FETCH_ROWS 10000

/* How a result column turns into feature values */
typedef enum ColumnKind
{
	COLUMN_NUMBER,
	COLUMN_BOOLEAN,
	COLUMN_TEXT,
	COLUMN_JSONB
} ColumnKind;

typedef struct Column
{
	ColumnKind	kind;
	Oid			type;
	FmgrInfo	output;			/* COLUMN_TEXT: the type's output function */
	Feature    *feature;		/* all but COLUMN_JSONB */
} Column;

static bool
is_number_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID ||
		type == FLOAT4OID || type == FLOAT8OID || type == NUMERICOID ||
		type == OIDOID;
}

static double
number_value(Datum value, Oid type)
{
	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(value);
		case INT4OID:
			return DatumGetInt32(value);
		case INT8OID:
			return (double) DatumGetInt64(value);
		case FLOAT4OID:
			return DatumGetFloat4(value);
		case FLOAT8OID:
			return DatumGetFloat8(value);
		case OIDOID:
			return DatumGetObjectId(value);
		case NUMERICOID:
			return numeric_to_double(DatumGetNumeric(value));
		case DATEOID:
			return DatumGetDateADT(value);
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return (double) DatumGetInt64(value);
	}
	elog(ERROR, "learnloop: type %u is not a number", type);
	return 0;
}

static char *
output_text(Column *col, Datum value)
{
	return OutputFunctionCall(&col->output, value);
}

/* A feature column of the result: what kind, and its feature if not jsonb. */
static void
classify_column(Dataset *ds, Form_pg_attribute att, Column *col)
{
	Oid			type = att->atttypid;
	Oid			output;
	bool		varlena;

	col->type = type;
	if (is_number_type(type))
		col->kind = COLUMN_NUMBER;
	else if (type == BOOLOID)
		col->kind = COLUMN_BOOLEAN;
	else if (type == JSONBOID)
		col->kind = COLUMN_JSONB;
	else if (type == TEXTOID || type == VARCHAROID || type == BPCHAROID ||
			 type == NAMEOID || type_is_enum(type))
		col->kind = COLUMN_TEXT;
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("feature column \"%s\" has type %s, which learnloop cannot train on",
						NameStr(att->attname), format_type_be(type)),
				 errhint("Features are numbers, booleans, text, enums or jsonb objects: cast it, or leave it out of the features.")));

	if (col->kind == COLUMN_TEXT)
	{
		getTypeOutputInfo(type, &output, &varlena);
		fmgr_info(output, &col->output);
	}
	if (col->kind != COLUMN_JSONB)
		col->feature = dataset_feature(ds, NameStr(att->attname),
									   col->kind == COLUMN_NUMBER ? FEATURE_NUMERIC :
									   col->kind == COLUMN_BOOLEAN ? FEATURE_BOOLEAN :
									   FEATURE_CATEGORICAL);
}

/* One feature per top-level key; nested values are refused. */
static void
expand_jsonb(Dataset *ds, int64 row, Jsonb *doc, const char *column)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;
	char		key[DATASET_MAX_NAME];

	if (!JB_ROOT_IS_OBJECT(doc) || JB_ROOT_IS_SCALAR(doc))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("jsonb feature column \"%s\" holds a non-object in row %lld",
						column, (long long) row + 1),
				 errhint("jsonb features must be objects of key/value pairs.")));

	it = JsonbIteratorInit(&doc->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		Feature    *f;

		if (token == WJB_KEY)
		{
			int			len = Min(v.val.string.len, DATASET_MAX_NAME - 1);

			memcpy(key, v.val.string.val, len);
			key[len] = '\0';
			continue;
		}
		if (token != WJB_VALUE || v.type == jbvNull)
			continue;
		switch (v.type)
		{
			case jbvNumeric:
				f = dataset_feature(ds, key, FEATURE_NUMERIC);
				feature_set_number(f, row, numeric_to_double(v.val.numeric));
				break;
			case jbvBool:
				f = dataset_feature(ds, key, FEATURE_BOOLEAN);
				feature_set_number(f, row, v.val.boolean ? 1.0 : 0.0);
				break;
			case jbvString:
				f = dataset_feature(ds, key, FEATURE_CATEGORICAL);
				feature_set_category(f, row, v.val.string.val, v.val.string.len);
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("jsonb feature \"%s\" is a nested object or array", key),
						 errhint("Flatten it into top-level keys, or leave it out of the features.")));
		}
	}
}

/* The target of one row: a class, a value or a relevance. */
static void
set_label(Dataset *ds, int64 row, Datum value, Oid type, Column *target)
{
	if (ds->task == TASK_CLASSIFICATION)
	{
		char	   *label = type == BOOLOID ? (DatumGetBool(value) ? "true" : "false") :
			output_text(target, value);

		feature_set_category(&ds->classes, row, label, strlen(label));
		return;
	}
	if (!is_number_type(type) && type != BOOLOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the target of a %s model must be numeric, not %s",
						task_name(ds->task), format_type_be(type)),
				 errhint("Cast the target to a number, or train a classification model.")));
	ds->labels[row] = type == BOOLOID ? (DatumGetBool(value) ? 1.0f : 0.0f) :
		(float) number_value(value, type);
	if (isnan(ds->labels[row]) || isinf(ds->labels[row]))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the target is not finite in row %lld", (long long) row + 1)));
	if (ds->task == TASK_RANKING && ds->labels[row] < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("ranking relevance must not be negative (row %lld)", (long long) row + 1)));
}

static bool
same_name(const char *column, const char *name)
{
	return name != NULL && pg_strcasecmp(column, name) == 0;
}

/* Builds the query; with no feature list, every other column is a feature. */
static char *
build_query(const TrainSpec *spec, int *nfixed, bool lineage)
{
	StringInfoData q;
	ListCell   *lc;

	initStringInfo(&q);
	appendStringInfo(&q, "SELECT (%s) AS learnloop_target", spec->target);
	*nfixed = 1;
	if (spec->group_column)
	{
		appendStringInfo(&q, ", (%s) AS learnloop_group", spec->group_column);
		(*nfixed)++;
	}
	if (spec->split_column)
	{
		appendStringInfo(&q, ", (%s) AS learnloop_time", spec->split_column);
		(*nfixed)++;
	}
	if (spec->evaluate_on_real)
	{
		/* the caller's expressions use the caller's path; ours names pg_catalog */
		appendStringInfoString(&q, ", (learnloop_source.source OPERATOR(pg_catalog.=) 'real') AS learnloop_real");
		(*nfixed)++;
	}
	if (lineage)
	{
		lineage_append_columns(&q);
		*nfixed += 2;
	}
	if (spec->features == NIL)
		appendStringInfoString(&q, ", learnloop_source.*");
	foreach(lc, spec->features)
		appendStringInfo(&q, ", %s", (char *) lfirst(lc));
	if (spec->source_is_query)
		appendStringInfo(&q, " FROM (%s) AS learnloop_source", spec->source);
	else
		appendStringInfo(&q, " FROM %s AS learnloop_source", spec->source);
	if (spec->filter)
		appendStringInfo(&q, " WHERE (%s)", spec->filter);
	return q.data;
}

/* Columns that * brings along but that are not features. */
static bool
excluded_column(const TrainSpec *spec, const char *name)
{
	return spec->features == NIL &&
		(same_name(name, spec->target) || same_name(name, spec->group_column) ||
		 same_name(name, spec->split_column) ||
		 (spec->evaluate_on_real && same_name(name, "source")) ||
		 same_name(name, "augmented_from"));
}

/*
 * The distinct values of an integer target whose task is inferred, up to
 * three: two make it a classifier (0/1, 1/2, -1/1 are classes, not
 * quantities), more a regression.  Counted while loading, two compares a
 * row, so deciding costs no second read.
 */
typedef struct TargetValues
{
	bool		counting;
	int			n;
	float		values[2];
	char	   *names[2];
} TargetValues;

static bool
is_integer_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

static void
count_target_value(TargetValues *tv, Dataset *ds, int64 row, Column *target, Datum value)
{
	float		label = ds->labels[row];

	if (tv->n > 2 || (tv->n >= 1 && label == tv->values[0]) ||
		(tv->n == 2 && label == tv->values[1]))
		return;
	if (tv->n < 2)
	{
		tv->values[tv->n] = label;
		tv->names[tv->n] = MemoryContextStrdup(ds->cxt, output_text(target, value));
	}
	tv->n++;
}

static const char *
task_reason(const TrainSpec *spec, Oid target_type)
{
	if (spec->group_column)
		return "group_column is given";
	if (is_integer_type(target_type))
		return "the integer target has more than two distinct values";
	if (is_number_type(target_type))
		return psprintf("the target is a number (%s)", format_type_be(target_type));
	return psprintf("the target is of type %s", format_type_be(target_type));
}

/*
 * The task the caller named, or the one the target suggests: ranking with
 * groups, regression for numbers, classification for the rest (booleans,
 * text, enums).  An integer target starts as a regression and becomes a
 * classifier after loading if it has exactly two values (see TargetValues).
 */
static ModelTask
infer_task(const TrainSpec *spec, Oid target_type, TargetValues *tv)
{
	tv->counting = false;
	if (spec->task != TASK_INFER)
		return spec->task;
	if (spec->group_column)
		return TASK_RANKING;
	tv->counting = is_integer_type(target_type);
	return is_number_type(target_type) ? TASK_REGRESSION : TASK_CLASSIFICATION;
}

/* Settles an inferred task once every row is read, and says what it chose. */
static void
settle_task(const TrainSpec *spec, Dataset *ds, Oid target_type, TargetValues *tv)
{
	const char *reason;

	if (spec->task != TASK_INFER || ds->nrows == 0)
		return;
	if (tv->counting && tv->n == 2)
	{
		dataset_labels_to_classes(ds, tv->values, tv->names);
		reason = psprintf("the integer target has exactly two distinct values, %s and %s",
						  tv->names[0], tv->names[1]);
	}
	else
		reason = task_reason(spec, target_type);
	ereport(NOTICE,
			(errmsg("training a %s model: %s", task_name(ds->task), reason),
			 errhint("Pass task => 'classification', 'regression' or 'ranking' to choose the task.")));
}

/* What the load keeps from one batch to the next */
typedef struct Loader
{
	const TrainSpec *spec;
	int			nfixed;			/* target, group, time, real, lineage: not features */
	bool		lineage;		/* the last two fixed columns: id, augmented_from */
	Lineage		lin;
	Oid			target_type;
	Dataset    *ds;				/* NULL until the first batch */
	Column	   *columns;		/* one per result column; [0] the target */
	TargetValues tv;
} Loader;

/*
 * Opens a cursor on the training query: the rows come in batches, so that
 * only the batch, never the whole source, sits in SPI's tuple table.
 */
static Portal
open_source(const TrainSpec *spec, int *nfixed, bool lineage)
{
	char	   *query = build_query(spec, nfixed, lineage);
	SPIPlanPtr	plan = SPI_prepare(query, 0, NULL);

	if (plan == NULL)
		elog(ERROR, "learnloop could not prepare the training query: %s",
			 SPI_result_code_string(SPI_result));
	return SPI_cursor_open(NULL, plan, NULL, NULL, true);
}

/*
 * learnloop.training_memory for this training.  Per-cohort models and warm
 * starts work on the loaded rows after the load (dealt to the cohorts,
 * recoded into the base's schema), which a stream has only in its file;
 * and some parameters need a matrix other than the stream's
 * (stream_unsupported).  Such jobs train in memory, and asked to stream
 * they are refused, before any row is read.
 */
static TrainingMemory
training_memory(const TrainSpec *spec)
{
	TrainingMemory memory = (TrainingMemory) learnloop_training_memory;
	char	   *unsupported;

	if (memory == TRAINING_MEMORY_MEMORY)
		return memory;
	if (spec->cohort_column != NULL || spec->base_model != NULL)
	{
		if (memory == TRAINING_MEMORY_STREAM)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s cannot train from a stream",
							spec->cohort_column != NULL ? "per-cohort models (cohort_column)" :
							"a warm start (base_model)"),
					 errhint("Set learnloop.training_memory to auto or memory: they train in memory.")));
		return TRAINING_MEMORY_MEMORY;
	}
	unsupported = stream_unsupported(spec->params, spec->search);
	if (unsupported == NULL)
		return memory;
	if (memory == TRAINING_MEMORY_STREAM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("training from a stream cannot use %s", unsupported),
				 errdetail("The streamed matrix is built for the hist updater, and binned once for every candidate."),
				 errhint("Leave it out, or set learnloop.training_memory to auto or memory: they train such a job in memory.")));
	return TRAINING_MEMORY_MEMORY;
}

/*
 * At the first batch, the first moment the result's columns are known:
 * creates the dataset (whose task may follow from the target's type) and
 * decides how each column is read.  Both live in cxt, past the batch.
 */
static void
describe_columns(Loader *ld, TupleDesc tupdesc, MemoryContext cxt)
{
	const TrainSpec *spec = ld->spec;
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Oid			output;
	bool		varlena;

	ld->target_type = TupleDescAttr(tupdesc, 0)->atttypid;
	ld->ds = dataset_create(cxt, infer_task(spec, ld->target_type, &ld->tv),
							spec->group_column != NULL, spec->split_column != NULL,
							spec->evaluate_on_real);
	dataset_set_memory(ld->ds, training_memory(spec),
					   (int64) learnloop_training_memory_limit * 1024);
	ld->columns = palloc0(sizeof(Column) * tupdesc->natts);
	if (ld->lineage)
		lineage_start(&ld->lin, cxt, tupdesc, ld->nfixed - 2);

	/* a class's name, or a two-valued integer's, is the target's text */
	ld->columns[0].type = ld->target_type;
	getTypeOutputInfo(ld->target_type, &output, &varlena);
	fmgr_info(output, &ld->columns[0].output);

	for (int c = ld->nfixed; c < tupdesc->natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, c);

		if (excluded_column(spec, NameStr(att->attname)))
			continue;
		/* the target as a feature would be a model that sees the answer */
		if (same_name(NameStr(att->attname), spec->target))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" is the target", NameStr(att->attname)),
					 errhint("Leave the target out of features.")));
		classify_column(ld->ds, att, &ld->columns[c]);
	}
	MemoryContextSwitchTo(old);
}

/*
 * The columns between the target and the features, in build_query's
 * order: the ranking group, the time to split on, whether the row is real.
 */
static void
read_fixed_columns(Loader *ld, HeapTuple tuple, TupleDesc tupdesc, int64 row)
{
	const TrainSpec *spec = ld->spec;
	Dataset    *ds = ld->ds;
	int			c = 1;
	bool		isnull;
	Datum		value;

	if (spec->group_column)
	{
		char	   *group;

		value = SPI_getbinval(tuple, tupdesc, ++c, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("group_column is NULL in row %lld", (long long) row + 1)));
		group = SPI_getvalue(tuple, tupdesc, c);
		feature_set_category(&ds->group_codes, row, group, strlen(group));
	}
	if (spec->split_column)
	{
		Oid			type = TupleDescAttr(tupdesc, c)->atttypid;

		value = SPI_getbinval(tuple, tupdesc, ++c, &isnull);
		if (!is_number_type(type) && type != DATEOID &&
			type != TIMESTAMPOID && type != TIMESTAMPTZOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("split_column must be a timestamp, date or number, not %s",
							format_type_be(type))));
		ds->times[row] = isnull ? -INFINITY : number_value(value, type);
	}
	if (spec->evaluate_on_real)
	{
		value = SPI_getbinval(tuple, tupdesc, ++c, &isnull);
		ds->evaluable[row] = !isnull && DatumGetBool(value);
	}
	if (ld->lineage)
		lineage_read(&ld->lin, tuple, tupdesc, ld->nfixed - 2, row);
}

/* The feature columns of one row; NULL leaves the feature missing. */
static void
read_features(Loader *ld, HeapTuple tuple, TupleDesc tupdesc, int64 row)
{
	for (int c = ld->nfixed; c < tupdesc->natts; c++)
	{
		Column	   *col = &ld->columns[c];
		bool		isnull;
		Datum		value;

		/* excluded columns have neither a feature nor jsonb's keys */
		if (col->feature == NULL && col->kind != COLUMN_JSONB)
			continue;
		value = SPI_getbinval(tuple, tupdesc, c + 1, &isnull);
		if (isnull)
			continue;
		if (col->kind == COLUMN_NUMBER)
			feature_set_number(col->feature, row, number_value(value, col->type));
		else if (col->kind == COLUMN_BOOLEAN)
			feature_set_number(col->feature, row, DatumGetBool(value) ? 1.0 : 0.0);
		else if (col->kind == COLUMN_TEXT)
		{
			char	   *s = output_text(col, value);

			feature_set_category(col->feature, row, s, strlen(s));
			pfree(s);
		}
		else
			expand_jsonb(ld->ds, row, DatumGetJsonbP(value),
						 NameStr(TupleDescAttr(tupdesc, c)->attname));
	}
}

/*
 * One row of the result.  A row whose target is NULL teaches nothing: it
 * is skipped, and counted so that the caller can say how many were.
 */
static void
read_row(Loader *ld, HeapTuple tuple, TupleDesc tupdesc)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, tupdesc, 1, &isnull);
	int64		row;

	if (isnull)
	{
		ld->ds->null_labels++;
		return;
	}
	row = dataset_add_row(ld->ds);
	set_label(ld->ds, row, value, ld->target_type, &ld->columns[0]);
	if (ld->tv.counting)
		count_target_value(&ld->tv, ld->ds, row, &ld->columns[0], value);
	read_fixed_columns(ld, tuple, tupdesc, row);
	read_features(ld, tuple, tupdesc, row);
}

/*
 * Loads the rows; the caller runs this in a read-only transaction as the
 * calling role, so the data read is exactly what that role may read.
 * progress hears of every batch, and may stop the load there.
 */
Dataset *
dataset_load(const TrainSpec *spec, MemoryContext cxt, const TrainProgress *progress)
{
	Loader		ld = {.spec = spec, .lineage = spec->evaluate_on_real && lineage_available(spec)};
	Portal		portal = open_source(spec, &ld.nfixed, ld.lineage);
	MemoryContext batch_cxt;
	MemoryContext caller_cxt;

	/* detoasted values and output strings live for one batch only */
	batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "learnloop batch",
									  ALLOCSET_DEFAULT_SIZES);
	caller_cxt = MemoryContextSwitchTo(batch_cxt);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_ROWS);
		if (ld.ds == NULL)
			describe_columns(&ld, SPI_tuptable->tupdesc, cxt);
		for (uint64 i = 0; i < SPI_processed; i++)
			read_row(&ld, SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
		if (SPI_processed == 0)
			break;
		SPI_freetuptable(SPI_tuptable);
		MemoryContextReset(batch_cxt);
		/* between batches nothing is half read: the load may stop here */
		progress_checkpoint(progress, "loading", ld.ds->nrows);
	}
	MemoryContextSwitchTo(caller_cxt);
	MemoryContextDelete(batch_cxt);
	SPI_cursor_close(portal);

	settle_task(spec, ld.ds, ld.target_type, &ld.tv);
	dataset_finish(ld.ds);
	if (ld.lineage)
		lineage_resolve(&ld.lin, ld.ds);
	return ld.ds;
}
