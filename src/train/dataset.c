/*-------------------------------------------------------------------------
 *
 * dataset.c
 *	  Training data in memory: growth, dictionaries and finishing touches.
 *
 * Features are stored by column, because jsonb features appear one key at a
 * time: a key first seen at row 10,000 is a new column whose earlier rows
 * are missing.  Training from a stream, the columns hold only a window of
 * rows, the rest being in a spill file (dataset_spill.c).  Categories get codes in order of first appearance while
 * loading, then are renumbered in sorted order, so the dictionary stored
 * with the model does not depend on the order rows arrived in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/memutils.h"

#include "common/compat.h"
#include "train/dataset.h"

typedef struct NameEntry
{
	char		name[DATASET_MAX_NAME];
	void	   *value;
	int			code;
} NameEntry;

static HTAB *
name_table(MemoryContext cxt, const char *what)
{
	HASHCTL		ctl;

	ctl.keysize = DATASET_MAX_NAME;
	ctl.entrysize = sizeof(NameEntry);
	ctl.hcxt = cxt;
	return hash_create(what, 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

static float *
alloc_floats(MemoryContext cxt, int64 n)
{
	return MemoryContextAllocHuge(cxt, n * sizeof(float));
}

Dataset *
dataset_create(MemoryContext cxt, ModelTask task, bool groups, bool times, bool lineage)
{
	Dataset    *ds = MemoryContextAllocZero(cxt, sizeof(Dataset));

	ds->cxt = cxt;
	ds->task = task;
	ds->memory = TRAINING_MEMORY_MEMORY;	/* until dataset_set_memory */
	ds->capacity = 1024;
	ds->feature_capacity = 16;
	ds->features = MemoryContextAlloc(cxt, ds->feature_capacity * sizeof(Feature *));
	ds->by_name = name_table(cxt, "learnloop features");
	ds->labels = alloc_floats(cxt, ds->capacity);
	strlcpy(ds->classes.name, "target", DATASET_MAX_NAME);
	ds->classes.kind = FEATURE_CATEGORICAL;
	ds->classes.cxt = cxt;
	ds->classes.values = ds->labels;
	if (groups)
	{
		ds->groups = alloc_floats(cxt, ds->capacity);
		strlcpy(ds->group_codes.name, "group", DATASET_MAX_NAME);
		ds->group_codes.kind = FEATURE_CATEGORICAL;
		ds->group_codes.cxt = cxt;
		ds->group_codes.values = ds->groups;
	}
	if (times)
		ds->times = MemoryContextAllocHuge(cxt, ds->capacity * sizeof(double));
	if (lineage)
		ds->evaluable = MemoryContextAllocHuge(cxt, ds->capacity * sizeof(bool));
	return ds;
}

/* The feature of that name, created (missing in every earlier row) if new. */
Feature *
dataset_feature(Dataset *ds, const char *name, FeatureKind kind)
{
	NameEntry  *entry;
	bool		found;
	Feature    *f;

	if (strlen(name) >= DATASET_MAX_NAME)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("feature name \"%.40s...\" is too long", name),
				 errhint("Feature names and jsonb keys are at most %d bytes.", DATASET_MAX_NAME - 1)));

	entry = hash_search(ds->by_name, name, HASH_ENTER, &found);
	if (found)
		return entry->value;

	/* auto: one more column of every row would pass the limit, so they spill */
	if (dataset_spill_due(ds, ds->capacity, ds->nfeatures + 1))
		dataset_spill_begin(ds);
	if (ds->nfeatures == ds->feature_capacity)
	{
		ds->feature_capacity *= 2;
		ds->features = repalloc(ds->features, ds->feature_capacity * sizeof(Feature *));
	}
	f = MemoryContextAllocZero(ds->cxt, sizeof(Feature));
	strlcpy(f->name, name, DATASET_MAX_NAME);
	f->kind = kind;
	f->cxt = ds->cxt;
	f->first_row = ds->spill ? ds->window_start : 0;
	f->values = alloc_floats(ds->cxt, ds->spill ? DATASET_WINDOW_ROWS : ds->capacity);
	for (int64 i = f->first_row; i < ds->nrows; i++)
		f->values[i - f->first_row] = NAN;
	ds->features[ds->nfeatures++] = f;
	entry->value = f;
	return f;
}

/* The feature of that name, or NULL. */
Feature *
dataset_find(const Dataset *ds, const char *name)
{
	char		key[DATASET_MAX_NAME];
	NameEntry  *entry;

	strlcpy(key, name, sizeof(key));
	entry = hash_search(ds->by_name, key, HASH_FIND, NULL);
	return entry ? entry->value : NULL;
}

static void *
grow(void *array, size_t width, int64 capacity)
{
	return array ? repalloc_huge(array, capacity * width) : NULL;
}

/* Starts a new row with every feature missing; returns its index. */
int64
dataset_add_row(Dataset *ds)
{
	int64		row = ds->nrows;
	int			i;

	if (row == ds->capacity)
	{
		/* auto: the features would outgrow the size, so they spill instead */
		if (dataset_spill_due(ds, ds->capacity * 2, ds->nfeatures))
			dataset_spill_begin(ds);
		ds->capacity *= 2;
		ds->labels = grow(ds->labels, sizeof(float), ds->capacity);
		ds->classes.values = ds->labels;
		ds->groups = grow(ds->groups, sizeof(float), ds->capacity);
		ds->group_codes.values = ds->groups;
		ds->times = grow(ds->times, sizeof(double), ds->capacity);
		ds->evaluable = grow(ds->evaluable, sizeof(bool), ds->capacity);
		for (i = 0; ds->spill == NULL && i < ds->nfeatures; i++)
			ds->features[i]->values = grow(ds->features[i]->values,
										   sizeof(float), ds->capacity);
	}
	if (ds->spill && row - ds->window_start == DATASET_WINDOW_ROWS)
		dataset_spill_window(ds);
	for (i = 0; i < ds->nfeatures; i++)
		ds->features[i]->values[row - ds->features[i]->first_row] = NAN;
	ds->nrows++;
	return row;
}

void
feature_set_number(Feature *f, int64 row, double value)
{
	if (f->kind == FEATURE_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("feature \"%s\" mixes strings and numbers", f->name),
				 errhint("Give the feature one type in every row, for example with a cast in the features list.")));
	/* beyond real's range is infinity too once stored, as serving refuses it */
	if (isinf((float) value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("feature \"%s\" is infinite or out of range for type real in row %lld",
						f->name, (long long) row + 1),
				 errhint("Use NULL for unknown values; XGBoost cannot split on infinity.")));
	f->values[row - f->first_row] = (float) value;
	f->present++;
}

/* A category's code, giving a new category the next code. */
static int
category_code(Feature *f, const char *value, int len)
{
	char		key[DATASET_MAX_NAME];
	NameEntry  *entry;
	bool		found;

	if (f->kind != FEATURE_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("feature \"%s\" mixes numbers and strings", f->name),
				 errhint("Give the feature one type in every row, for example with a cast in the features list.")));
	/*
	 * The label and group dictionaries are embedded in the Dataset, not
	 * chunks of their own, so the context comes from the feature, never
	 * from the chunk header in front of it.
	 */
	if (f->codes == NULL)
		f->codes = name_table(f->cxt, "learnloop categories");

	/* categories longer than a key are told apart by their first 255 bytes */
	len = Min(len, DATASET_MAX_NAME - 1);
	memcpy(key, value, len);
	key[len] = '\0';
	entry = hash_search(f->codes, key, HASH_ENTER, &found);
	if (!found)
	{
		if (f->ncategories == DATASET_MAX_CATEGORIES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("feature \"%s\" has more than %d categories", f->name,
							DATASET_MAX_CATEGORIES),
					 errhint("An id is not a useful feature; leave it out of the features.")));
		entry->code = f->ncategories++;
	}
	return entry->code;
}

/* Stores a category's code, giving a new category the next code. */
void
feature_set_category(Feature *f, int64 row, const char *value, int len)
{
	f->values[row - f->first_row] = (float) category_code(f, value, len);
	f->present++;
}

/*
 * Makes a regression's labels, which hold exactly the two values given,
 * the labels of a classifier with those two classes (named by their text):
 * one pass over the labels, no second read of the source.
 */
void
dataset_labels_to_classes(Dataset *ds, const float values[2], char *const names[2])
{
	int			codes[2];

	Assert(ds->task == TASK_REGRESSION);
	ds->task = TASK_CLASSIFICATION;
	for (int k = 0; k < 2; k++)
		codes[k] = category_code(&ds->classes, names[k], strlen(names[k]));
	for (int64 row = 0; row < ds->nrows; row++)
		ds->labels[row] = (float) codes[ds->labels[row] == values[0] ? 0 : 1];
	ds->classes.present = ds->nrows;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Numbers sort as numbers when every category is one ("2" < "10"). */
static int
compare_numeric_strings(const void *a, const void *b)
{
	double		x = strtod(*(char *const *) a, NULL);
	double		y = strtod(*(char *const *) b, NULL);

	return (x > y) - (x < y);
}

static bool
all_numeric(char **values, int n)
{
	for (int i = 0; i < n; i++)
	{
		char	   *end;

		(void) strtod(values[i], &end);
		if (end == values[i] || *end != '\0')
			return false;
	}
	return true;
}

/*
 * Renumbers a dictionary in sorted order and rewrites the codes in rows,
 * the first nrows; a spilled feature's rows are in the file, so it keeps
 * the renumbering for when they are read back.
 */
static void
sort_categories(Feature *f, int64 nrows, MemoryContext cxt, bool spilled)
{
	HASH_SEQ_STATUS scan;
	NameEntry  *entry;
	int		   *renumber;
	char	  **sorted;
	int			i;

	if (f->codes == NULL)
		return;
	f->categories = MemoryContextAlloc(cxt, sizeof(char *) * Max(f->ncategories, 1));
	hash_seq_init(&scan, f->codes);
	while ((entry = hash_seq_search(&scan)) != NULL)
		f->categories[entry->code] = MemoryContextStrdup(cxt, entry->name);

	sorted = palloc(sizeof(char *) * Max(f->ncategories, 1));
	memcpy(sorted, f->categories, sizeof(char *) * f->ncategories);
	qsort(sorted, f->ncategories, sizeof(char *),
		  all_numeric(sorted, f->ncategories) ? compare_numeric_strings : compare_strings);

	renumber = MemoryContextAlloc(cxt, sizeof(int) * Max(f->ncategories, 1));
	for (i = 0; i < f->ncategories; i++)
	{
		entry = hash_search(f->codes, sorted[i], HASH_FIND, NULL);
		renumber[entry->code] = i;
	}
	for (int64 row = 0; row < nrows; row++)
		if (!isnan(f->values[row]))
			f->values[row] = (float) renumber[(int) f->values[row]];
	memcpy(f->categories, sorted, sizeof(char *) * f->ncategories);
	hash_destroy(f->codes);
	f->codes = NULL;
	pfree(sorted);
	if (spilled)
		f->renumber = renumber;
	else
		pfree(renumber);
}

/*
 * Checks what XGBoost cannot train on and fixes the dictionaries.  An error
 * here names the feature, so the caller knows what to exclude or fix.
 */
void
dataset_finish(Dataset *ds)
{
	int			i;

	if (ds->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("the training source has no rows with a target"),
				 errhint("Check the source, the filter and that the target is not NULL in every row.")));
	if (ds->nfeatures == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the training source has no feature columns"),
				 errhint("Name the features, or train on a source with columns besides the target.")));

	/* the last rows read join the others in the file */
	if (ds->spill)
		dataset_spill_window(ds);
	for (i = 0; i < ds->nfeatures; i++)
	{
		Feature    *f = ds->features[i];

		if (f->present == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" is NULL in every row", f->name),
					 errhint("Leave it out of the features, or fix the data.")));
		if (f->kind == FEATURE_CATEGORICAL)
			sort_categories(f, ds->spill ? 0 : ds->nrows, ds->cxt, ds->spill != NULL);
	}

	if (ds->task == TASK_CLASSIFICATION)
	{
		sort_categories(&ds->classes, ds->nrows, ds->cxt, false);
		if (ds->classes.ncategories < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the target has a single class \"%s\"", ds->classes.categories[0]),
					 errhint("A classifier needs at least two classes; check the filter or the target.")));
	}
	if (ds->groups)
		sort_categories(&ds->group_codes, ds->nrows, ds->cxt, false);
}

/*
 * An empty Dataset of n rows with the features and dictionaries of a
 * finished one, sharing its strings: for a subset of its rows, whose
 * caller fills every label, group and feature value.
 */
Dataset *
dataset_like(const Dataset *from, int64 n)
{
	Dataset    *ds = dataset_create(from->cxt, from->task, from->groups != NULL, false, false);

	ds->capacity = Max(n, 1);
	ds->labels = grow(ds->labels, sizeof(float), ds->capacity);
	ds->classes.values = ds->labels;
	ds->classes.ncategories = from->classes.ncategories;
	ds->classes.categories = from->classes.categories;
	ds->groups = grow(ds->groups, sizeof(float), ds->capacity);
	ds->group_codes.values = ds->groups;
	ds->group_codes.ncategories = from->group_codes.ncategories;
	ds->group_codes.categories = from->group_codes.categories;
	for (int i = 0; i < from->nfeatures; i++)
	{
		const Feature *f = from->features[i];
		Feature    *copy = dataset_feature(ds, f->name, f->kind);

		copy->ncategories = f->ncategories;
		copy->categories = f->categories;
		copy->present = f->present;
	}
	ds->nrows = n;
	ds->null_labels = from->null_labels;
	return ds;
}

/*
 * The feature schema a model trained on a finished ds is stored with (name
 * maps left out: the writer does not read them); it shares ds's strings.
 */
FeatureSchema *
dataset_schema(const Dataset *ds, const char *objective)
{
	FeatureSchema *schema = palloc0(sizeof(FeatureSchema));

	schema->task = ds->task;
	schema->objective = (char *) objective;
	schema->nfeatures = ds->nfeatures;
	schema->features = palloc0(sizeof(SchemaFeature) * Max(ds->nfeatures, 1));
	for (int i = 0; i < ds->nfeatures; i++)
	{
		schema->features[i].name = (char *) ds->features[i]->name;
		schema->features[i].kind = ds->features[i]->kind;
		schema->features[i].ncategories = ds->features[i]->ncategories;
		schema->features[i].categories = ds->features[i]->categories;
	}
	schema->classes.ncategories = ds->classes.ncategories;
	schema->classes.categories = ds->classes.categories;
	return schema;
}
