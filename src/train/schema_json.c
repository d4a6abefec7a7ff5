/*-------------------------------------------------------------------------
 *
 * schema_json.c
 *	  Writes the feature schema of a trained model (read by model/schema.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/json.h"

#include "train/dataset.h"
#include "train/schema_json.h"

static void
append_dictionary(StringInfo out, const Feature *f)
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

char *
schema_json(const Dataset *ds, const char *objective, const char *target)
{
	StringInfoData out;
	int			i;

	initStringInfo(&out);
	appendStringInfo(&out, "{\"task\": \"%s\", \"objective\": ", task_name(ds->task));
	escape_json(&out, objective);
	appendStringInfoString(&out, ", \"target\": ");
	escape_json(&out, target);
	appendStringInfoString(&out, ", \"features\": [");
	for (i = 0; i < ds->nfeatures; i++)
	{
		const Feature *f = ds->features[i];

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
	if (ds->task == TASK_CLASSIFICATION)
	{
		appendStringInfoString(&out, ", \"classes\": ");
		append_dictionary(&out, &ds->classes);
	}
	appendStringInfoChar(&out, '}');
	return out.data;
}
