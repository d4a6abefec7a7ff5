/*-------------------------------------------------------------------------
 *
 * json_number.c
 *	  Numbers written into JSON text, in their shortest exact form.
 *
 * Every number learnloop writes into json (metrics, hyperparameters,
 * feature importance, decisions) is printed as float8out prints it: the
 * shortest decimal that reads back as exactly the same double (Ryu, in
 * PostgreSQL's common/shortest_dec.c), never "%.17g" (1.7488519999999999
 * for 1.748852) nor a fixed count of digits that loses bits.  JSON has no
 * NaN or infinity, so those become null.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "miscadmin.h"
#include "utils/json.h"

#include "common/json_number.h"

void
json_append_float8(StringInfo out, double value)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (isnan(value) || isinf(value))
	{
		appendStringInfoString(out, "null");
		return;
	}
	double_to_shortest_decimal_buf(value, buf);
	appendStringInfoString(out, buf);
}

/* A float4 (XGBoost's scores) in the shortest form that reads back as that float. */
void
json_append_float4(StringInfo out, float value)
{
	char		buf[FLOAT_SHORTEST_DECIMAL_LEN];

	if (isnan(value) || isinf(value))
	{
		appendStringInfoString(out, "null");
		return;
	}
	float_to_shortest_decimal_buf(value, buf);
	appendStringInfoString(out, buf);
}

/* The same text as a palloc'd string (XGBoost parameter values). */
char *
json_float8_string(double value)
{
	StringInfoData out;

	initStringInfo(&out);
	json_append_float8(&out, value);
	return out.data;
}

/*
 * A cJSON tree as JSON text.  cJSON's own printer tries 15 digits and
 * keeps them when they read back "close enough", so 0.1 + 0.2 would be
 * stored as 0.3; this one prints every number exactly.
 */
void
json_append_cjson(StringInfo out, const cJSON *item)
{
	const cJSON *child;

	check_stack_depth();
	if (cJSON_IsNumber(item))
		json_append_float8(out, item->valuedouble);
	else if (cJSON_IsString(item))
		escape_json(out, item->valuestring);
	else if (cJSON_IsTrue(item))
		appendStringInfoString(out, "true");
	else if (cJSON_IsFalse(item))
		appendStringInfoString(out, "false");
	else if (cJSON_IsArray(item) || cJSON_IsObject(item))
	{
		bool		object = cJSON_IsObject(item);

		appendStringInfoChar(out, object ? '{' : '[');
		cJSON_ArrayForEach(child, item)
		{
			if (child != item->child)
				appendStringInfoString(out, ", ");
			if (object)
			{
				escape_json(out, child->string);
				appendStringInfoString(out, ": ");
			}
			json_append_cjson(out, child);
		}
		appendStringInfoChar(out, object ? '}' : ']');
	}
	else
		appendStringInfoString(out, "null");
}
