/*-------------------------------------------------------------------------
 *
 * import_schema.c
 *	  The feature schema of an imported model: names and types from the
 *	  model (feature_names, feature_types) or the caller's features, the
 *	  category dictionaries the model cannot carry, and the classes.
 *
 * XGBoost saves a categorical feature's split codes but not the categories
 * they stand for, so those come from the caller; everything the model
 * does say must agree with what the caller says.  Labels become the keys
 * serving maps strings through, so they are distinct and short.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "common/args.h"
#include "common/json_tree.h"
#include "lifecycle/import_schema.h"

/* Bytes that are no model learnloop can import: 22P03. */
void
import_bad_bytes(const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("the model bytes are not a model learnloop can import: %s", reason),
			 errhint("Pass the bytes of an XGBoost model as save_model wrote them (a .json or .ubj file) "
					 "or as save_raw returned them, unchanged; a model in XGBoost's old binary format "
					 "loads in XGBoost and saves again as .json or .ubj.")));
}

/* An argument that does not fit the model: 22023. */
void
import_bad_argument(const char *message, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 errhint("%s", hint)));
}

/* The kind of XGBoost's feature_type, as learnloop's schema spells it */
static FeatureKind
kind_of_xgb_type(const char *type)
{
	if (strcmp(type, "q") == 0 || strcmp(type, "float") == 0 || strcmp(type, "int") == 0)
		return FEATURE_NUMERIC;
	if (strcmp(type, "i") == 0)
		return FEATURE_BOOLEAN;
	if (strcmp(type, "c") == 0)
		return FEATURE_CATEGORICAL;
	import_bad_bytes(psprintf("feature type \"%s\" is none of XGBoost's (q, i, c, int, float)", type));
}

/* A dictionary (categories or classes) from a JSON array of strings. */
static void
dictionary(const cJSON *array, SchemaFeature *f, const char *what)
{
	const cJSON *item;
	int			i = 0;

	if (!cJSON_IsArray(array) || cJSON_GetArraySize(array) == 0)
		import_bad_argument(psprintf("the categories of feature \"%s\" are not a non-empty array", what),
					 "Give \"categories\" as the list of values in the order of their codes "
					 "(pandas: the column's cat.categories).");
	f->ncategories = cJSON_GetArraySize(array);
	f->categories = palloc(sizeof(char *) * f->ncategories);
	cJSON_ArrayForEach(item, array)
	{
		if (!cJSON_IsString(item))
			import_bad_argument(psprintf("the categories of feature \"%s\" include a value that is not a string", what),
						 "Categories are strings, as jsonb features carry them.");
		f->categories[i++] = pstrdup(item->valuestring);
	}
}

/* One entry of the features argument: a name, or {"name", "type", "categories"}. */
static void
feature_from_argument(const cJSON *item, int i, SchemaFeature *f, bool *typed)
{
	const cJSON *name = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "name") : item;
	const cJSON *type = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "type") : NULL;

	if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
		import_bad_argument(psprintf("feature %d of features has no name", i + 1),
					 "Pass features as an array of names, or of objects {\"name\": ..., \"type\": "
					 "\"numeric\" | \"boolean\" | \"categorical\", \"categories\": [...]}.");
	f->name = pstrdup(name->valuestring);
	*typed = type != NULL;
	if (type == NULL)
		return;
	for (f->kind = FEATURE_NUMERIC; f->kind <= FEATURE_CATEGORICAL; f->kind++)
		if (cJSON_IsString(type) && strcmp(type->valuestring, feature_kind_names[f->kind]) == 0)
			break;
	if (f->kind > FEATURE_CATEGORICAL)
		import_bad_argument(psprintf("feature \"%s\" has a type that is not numeric, boolean or categorical", f->name),
					 "Give each feature's type as learnloop's feature schema spells it.");
	if (f->kind == FEATURE_CATEGORICAL)
		dictionary(cJSON_GetObjectItemCaseSensitive(item, "categories"), f, f->name);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Names, categories and classes must be distinct, and shorter than the
 * feature schema's lookup keys (256 bytes): serving maps strings to codes
 * through them, and two that differ only beyond could not be told apart.
 */
static void
check_labels(char **labels, int n, const char *what)
{
	char	  **sorted = palloc(sizeof(char *) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		if (strlen(labels[i]) >= 256)
			import_bad_argument(psprintf("a %s is %zu bytes long", what, strlen(labels[i])),
						 "Feature names, categories and classes are at most 255 bytes.");
		sorted[i] = labels[i];
	}
	qsort(sorted, n, sizeof(char *), compare_names);
	for (int i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			import_bad_argument(psprintf("a %s appears twice: \"%s\"", what, sorted[i]),
						 "Feature names, the categories of a feature and the classes must be distinct: "
						 "rows are read by name.");
}

/*
 * The features: the caller's (checked against the model's names when it
 * has them), else the model's, else XGBoost's default names f0, f1, ...
 */
static void
build_features(FunctionCallInfo fcinfo, const ImportedModel *im, FeatureSchema *schema)
{
	JsonTree   *tree = NULL;
	bool	   *typed = palloc0(sizeof(bool) * Max(im->num_feature, 1));

	schema->nfeatures = im->num_feature;
	schema->features = palloc0(sizeof(SchemaFeature) * Max(im->num_feature, 1));
	if (args_given(fcinfo, 3))
	{
		Jsonb	   *arg = PG_GETARG_JSONB_P(3);
		const cJSON *item;
		int			i = 0;

		tree = json_tree_parse(JsonbToCString(NULL, &arg->root, VARSIZE(arg)));
		if (!cJSON_IsArray(tree->root))
			import_bad_argument("features must be a JSON array",
						 "Pass the features in the model's order: names, or objects with name, type and categories.");
		if (cJSON_GetArraySize(tree->root) != im->num_feature)
			import_bad_argument(psprintf("the model reads %d features, features names %d",
								  im->num_feature, cJSON_GetArraySize(tree->root)),
						 "Name every feature the model was trained on, in its order.");
		cJSON_ArrayForEach(item, tree->root)
		{
			feature_from_argument(item, i, &schema->features[i], &typed[i]);
			if (im->nnames == im->num_feature && strcmp(im->names[i], schema->features[i].name) != 0)
				import_bad_argument(psprintf("feature %d is \"%s\" in the model, \"%s\" in features",
									  i + 1, im->names[i], schema->features[i].name),
							 "The model carries its feature names; leave features out, or give the same names.");
			i++;
		}
	}
	else if (im->nnames > 0 && im->nnames != im->num_feature)
		import_bad_bytes(psprintf("it names %d features and reads %d", im->nnames, im->num_feature));
	for (int i = 0; i < im->num_feature; i++)
	{
		SchemaFeature *f = &schema->features[i];
		FeatureKind model_kind = i < im->ntypes ? kind_of_xgb_type(im->types[i]) : FEATURE_NUMERIC;

		if (f->name == NULL)
			f->name = im->nnames > 0 ? im->names[i] : psprintf("f%d", i);
		if (!typed[i])
			f->kind = model_kind;
		else if (i < im->ntypes && (f->kind == FEATURE_CATEGORICAL) != (model_kind == FEATURE_CATEGORICAL))
			import_bad_argument(psprintf("feature \"%s\" is %s in features but %s in the model", f->name,
								  feature_kind_names[f->kind], feature_kind_names[model_kind]),
						 "Give the type the model was trained with.");
		if (f->kind == FEATURE_CATEGORICAL && f->categories == NULL)
			import_bad_argument(psprintf("feature \"%s\" is categorical, and the model has no dictionary of its categories", f->name),
						 "Pass features => '[..., {\"name\": \"...\", \"type\": \"categorical\", \"categories\": [...]}]' "
						 "with the categories in the order of their codes (pandas: cat.categories).");
	}
	if (im->ntypes > 0 && im->ntypes != im->num_feature)
		import_bad_bytes(psprintf("it types %d features and reads %d", im->ntypes, im->num_feature));
	{
		char	  **names = palloc(sizeof(char *) * Max(schema->nfeatures, 1));

		for (int i = 0; i < schema->nfeatures; i++)
		{
			names[i] = schema->features[i].name;
			if (schema->features[i].kind == FEATURE_CATEGORICAL)
				check_labels(schema->features[i].categories, schema->features[i].ncategories,
							 psprintf("category of feature \"%s\"", names[i]));
		}
		check_labels(names, schema->nfeatures, "feature name");
	}
	if (tree)
		json_tree_free(tree);
}

/* The classes: the caller's, or the outputs' indexes 0, 1, ... */
static void
build_classes(FunctionCallInfo fcinfo, const ImportedModel *im, FeatureSchema *schema)
{
	int			n = im->num_class > 1 ? im->num_class : 2;
	SchemaFeature *c = &schema->classes;

	if (schema->task != TASK_CLASSIFICATION)
	{
		if (args_given(fcinfo, 4))
			import_bad_argument(psprintf("classes are given for a %s model", task_name(schema->task)),
						 "Only a classifier (binary:logistic, multi:softprob) has classes.");
		return;
	}
	c->ncategories = n;
	c->categories = palloc(sizeof(char *) * n);
	if (args_given(fcinfo, 4))
	{
		Datum	   *values;
		bool	   *nulls;
		int			count;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(4), TEXTOID, -1, false, TYPALIGN_INT,
						  &values, &nulls, &count);
		if (count != n)
			import_bad_argument(psprintf("the model has %d classes, classes names %d", n, count),
						 "Name the classes in the order of the model's outputs (the label encoding's).");
		for (int i = 0; i < n; i++)
		{
			if (nulls[i])
				import_bad_argument("classes include a NULL", "Name every class.");
			c->categories[i] = TextDatumGetCString(values[i]);
		}
		check_labels(c->categories, n, "class");
	}
	else
		for (int i = 0; i < n; i++)
			c->categories[i] = psprintf("%d", i);
}

/*
 * The feature schema of an imported model (its task and objective set by
 * the caller): features and classes from the model and the arguments
 * (features: argument 3, classes: argument 4), checked against each other.
 */
void
import_schema_build(FunctionCallInfo fcinfo, const ImportedModel *im, FeatureSchema *schema)
{
	build_features(fcinfo, im, schema);
	build_classes(fcinfo, im, schema);
}
