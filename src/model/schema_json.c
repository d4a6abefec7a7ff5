/*-------------------------------------------------------------------------
 *
 * schema_json.c
 *	  Writes the feature schema of a trained model (read by schema.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/json.h"

#include "model/schema.h"

static void
append_dictionary(StringInfo out, const SchemaFeature *f)
{
	appendStringInfoChar(out, '[');
	for (int i = 0; i < f->ncategories; i++)
	{
		if (i > 0)
			appendStringInfoString(out, ", ");
		escape_json(out, f->categories[i]);
	}
	appendStringInfoChar(out, ']');
}

/*
 * The JSON stored in ml.models.feature_schema for schema (its name maps
 * are not read) and the target it was trained on.
 */
char *
schema_json(const FeatureSchema *schema, const char *target)
{
	StringInfoData out;
	int			i;

	initStringInfo(&out);
	appendStringInfo(&out, "{\"task\": \"%s\", \"objective\": ", task_name(schema->task));
	escape_json(&out, schema->objective);
	appendStringInfoString(&out, ", \"target\": ");
	escape_json(&out, target);
	appendStringInfoString(&out, ", \"features\": [");
	for (i = 0; i < schema->nfeatures; i++)
	{
		const SchemaFeature *f = &schema->features[i];

		appendStringInfoString(&out, i > 0 ? ", {\"name\": " : "{\"name\": ");
		escape_json(&out, f->name);
		appendStringInfo(&out, ", \"type\": \"%s\"", feature_kind_names[f->kind]);
		if (f->kind == FEATURE_CATEGORICAL)
		{
			appendStringInfoString(&out, ", \"categories\": ");
			append_dictionary(&out, f);
		}
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoChar(&out, ']');
	if (schema->task == TASK_CLASSIFICATION)
	{
		appendStringInfoString(&out, ", \"classes\": ");
		append_dictionary(&out, &schema->classes);
	}
	appendStringInfoChar(&out, '}');
	return out.data;
}
