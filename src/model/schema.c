/*-------------------------------------------------------------------------
 *
 * schema.c
 *	  Reading a model's feature schema (written by schema_json.c).
 *
 * The schema is JSON in ml.models.feature_schema:
 *	{"task": "classification", "objective": "binary:logistic",
 *	 "features": [{"name": "hour_of_day", "type": "numeric"},
 *				  {"name": "topic", "type": "categorical", "categories": ["a", "b"]}],
 *	 "classes": ["false", "true"]}
 *
 * It is read from a table, so it is untrusted: every field's type is
 * checked before it is used.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/compat.h"
#include "common/json_tree.h"
#include "miscadmin.h"
#include "model/schema.h"

const char *const feature_kind_names[] = {"numeric", "boolean", "categorical"};

/* XGBoost's feature_type for each kind: quantitative, indicator, categorical */
const char *const xgb_feature_types[] = {"q", "i", "c"};

#define SCHEMA_KEY_LEN 256

typedef struct CodeEntry
{
	char		key[SCHEMA_KEY_LEN];
	int			code;
} CodeEntry;

static HTAB *
code_table(const char *what, int size)
{
	HASHCTL		ctl;

	ctl.keysize = SCHEMA_KEY_LEN;
	ctl.entrysize = sizeof(CodeEntry);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(what, Max(size, 8), &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/* Maps key to code; false when the key was there already (it is remapped). */
static bool
add_code(HTAB *table, const char *key, int code)
{
	char		truncated[SCHEMA_KEY_LEN];
	CodeEntry  *entry;
	bool		found;

	strlcpy(truncated, key, SCHEMA_KEY_LEN);
	entry = hash_search(table, truncated, HASH_ENTER, &found);
	entry->code = code;
	return !found;
}

static int
find_code(HTAB *table, const char *key, int len)
{
	char		truncated[SCHEMA_KEY_LEN];
	CodeEntry  *entry;

	len = Min(len, SCHEMA_KEY_LEN - 1);
	memcpy(truncated, key, len);
	truncated[len] = '\0';
	entry = hash_search(table, truncated, HASH_FIND, NULL);
	return entry ? entry->code : -1;
}

static void
malformed(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the model's feature schema is malformed"),
			 errdetail("%s.", what),
			 errhint("Retrain the model; ml.models.feature_schema must not be edited by hand.")));
}

/*
 * A dictionary: an array of strings, code i for the i-th.  ml.train never
 * writes fewer than min of them (a categorical feature has a value, a
 * classifier two classes), and serving indexes the first ones unchecked.
 */
static void
parse_dictionary(const cJSON *array, SchemaFeature *f, const char *what, int min)
{
	const cJSON *item;
	int			i = 0;

	if (!cJSON_IsArray(array))
		malformed(psprintf("%s are not an array", what));
	f->ncategories = cJSON_GetArraySize(array);
	if (f->ncategories < min)
		malformed(psprintf("%s are %d, fewer than %d", what, f->ncategories, min));
	f->categories = palloc(sizeof(char *) * Max(f->ncategories, 1));
	f->codes = code_table("learnloop schema categories", f->ncategories);
	cJSON_ArrayForEach(item, array)
	{
		CHECK_FOR_INTERRUPTS();
		if (!cJSON_IsString(item))
			malformed(psprintf("%s include a value that is not a string", what));
		f->categories[i] = pstrdup(item->valuestring);
		add_code(f->codes, item->valuestring, i);
		i++;
	}
}

/* Parses a feature schema into the current memory context. */
FeatureSchema *
schema_parse(const char *json)
{
	JsonTree   *tree = json_tree_parse(json);
	const cJSON *root = tree->root;
	FeatureSchema *schema = palloc0(sizeof(FeatureSchema));
	const cJSON *features;
	const cJSON *item;
	const cJSON *task;
	int			i = 0;

	if (!cJSON_IsObject(root))
		malformed("It is not a JSON object");
	task = cJSON_GetObjectItemCaseSensitive(root, "task");
	features = cJSON_GetObjectItemCaseSensitive(root, "features");
	if (!cJSON_IsString(task))
		malformed("Its \"task\" is not a string");
	if (!cJSON_IsArray(features))
		malformed("Its \"features\" are not an array");
	for (schema->task = TASK_CLASSIFICATION; schema->task <= TASK_RANKING; schema->task++)
		if (strcmp(task_name(schema->task), task->valuestring) == 0)
			break;
	if (schema->task > TASK_RANKING)
		malformed("Its \"task\" names no task");
	item = cJSON_GetObjectItemCaseSensitive(root, "objective");
	if (item != NULL && !cJSON_IsString(item))
		malformed("Its \"objective\" is not a string");
	schema->objective = pstrdup(item != NULL ? item->valuestring : "");

	schema->nfeatures = cJSON_GetArraySize(features);
	schema->features = palloc0(sizeof(SchemaFeature) * Max(schema->nfeatures, 1));
	schema->by_name = code_table("learnloop schema features", schema->nfeatures);
	cJSON_ArrayForEach(item, features)
	{
		SchemaFeature *f = &schema->features[i];
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");

		CHECK_FOR_INTERRUPTS();
		if (!cJSON_IsString(name) || !cJSON_IsString(type))
			malformed(psprintf("Feature %d has no string \"name\" and \"type\"", i + 1));
		f->name = pstrdup(name->valuestring);
		for (f->kind = FEATURE_NUMERIC; f->kind <= FEATURE_CATEGORICAL; f->kind++)
			if (strcmp(feature_kind_names[f->kind], type->valuestring) == 0)
				break;
		if (f->kind > FEATURE_CATEGORICAL)
			malformed(psprintf("Feature %d has an unknown type", i + 1));
		if (f->kind == FEATURE_CATEGORICAL)
			parse_dictionary(cJSON_GetObjectItemCaseSensitive(item, "categories"), f,
							 psprintf("The categories of feature %d", i + 1), 1);
		/* names map jsonb keys to features: a repeated one would shadow another */
		if (!add_code(schema->by_name, f->name, i))
			malformed(psprintf("Feature %d repeats the name of another", i + 1));
		i++;
	}
	if (schema->task == TASK_CLASSIFICATION)
		parse_dictionary(cJSON_GetObjectItemCaseSensitive(root, "classes"), &schema->classes,
						 "Its \"classes\"", 2);
	json_tree_free(tree);
	return schema;
}

/* Index of a feature by name, or -1 when the model has no such feature. */
int
schema_feature_index(const FeatureSchema *schema, const char *name, int len)
{
	return find_code(schema->by_name, name, len);
}

/* Code of a category, or -1 for one unseen in training (then missing). */
int
schema_category_code(const SchemaFeature *f, const char *value, int len)
{
	return find_code(f->codes, value, len);
}
