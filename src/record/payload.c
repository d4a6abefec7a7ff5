/*-------------------------------------------------------------------------
 *
 * payload.c
 *	  Validation of the arguments of the recording functions.
 *
 * Every check raises before anything is written, with an SQLSTATE and a
 * hint that tells the application developer what to send instead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/detoast.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "common/args.h"
#include "experiment/config_cache.h"
#include "learnloop.h"
#include "record/payload.h"

/*
 * Returns argument argno as a JSON object, raising for NULL, non-objects and
 * documents over learnloop.max_payload_bytes (checked before detoasting).
 */
Jsonb *
payload_object_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	Jsonb	   *doc;

	args_not_null(fcinfo, argno, argname, "Pass a JSON object, for example '{}'::jsonb.");
	payload_check_size(PG_GETARG_DATUM(argno), argname);
	doc = PG_GETARG_JSONB_P(argno);
	if (!JB_ROOT_IS_OBJECT(doc) || JB_ROOT_IS_SCALAR(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object, not %s", argname,
						JB_ROOT_IS_SCALAR(doc) ? "a scalar" : "an array"),
				 errhint("Pass key/value pairs, for example '{\"hour_of_day\": 14}'::jsonb.")));
	return doc;
}

/*
 * Features as payload_object_arg returns them, and flat: training and
 * serving read one feature per top-level key and refuse nested values, so
 * a nested one (at any depth) is refused when recorded, not years later in
 * a training.  One look at each value's entry, nothing parsed.
 */
Jsonb *
payload_features_arg(FunctionCallInfo fcinfo, int argno)
{
	Jsonb	   *doc = payload_object_arg(fcinfo, argno, "features");
	uint32		npairs = JsonContainerSize(&doc->root);

	for (uint32 i = 0; i < npairs; i++)
		if (JBE_ISCONTAINER(doc->root.children[npairs + i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" is a nested object or array",
							pnstrdup(((const char *) &doc->root.children[npairs * 2]) +
									 getJsonbOffset(&doc->root, i),
									 getJsonbLength(&doc->root, i))),
					 errhint("Features are flat: numbers, strings, booleans or null under top-level keys; flatten nested values into keys of their own.")));
	return doc;
}

/*
 * Refuses a document over learnloop.max_payload_bytes, measured uncompressed
 * from its header, so an oversized document costs nothing to reject.
 */
void
payload_check_size(Datum doc, const char *what)
{
	Size		size = toast_raw_datum_size(doc);

	if (size > (Size) learnloop_max_payload_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s is too large: %zu bytes, the limit is %d bytes",
						what, size, learnloop_max_payload_bytes),
				 errhint("Send fewer or shorter keys, or raise learnloop.max_payload_bytes.")));
}

/*
 * Returns a text argument that names something (task, unit, experiment):
 * non-empty and short.  An optional one may be NULL, returned as NULL.
 */
text *
payload_name_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
				 bool required)
{
	text	   *name;

	if (required)
		args_not_null(fcinfo, argno, argname, "Every decision needs a %s.");
	else if (PG_ARGISNULL(argno))
		return NULL;

	name = PG_GETARG_TEXT_PP(argno);
	args_check_name(name, argname, "Pass NULL to leave an optional name out.",
					"Use a short key and keep long text in the features.");
	return name;
}

/*
 * A number key of a decision, as a double; NaN when absent.  Present but
 * not a number is an error naming the key, with hint.
 */
static double
decision_number(Jsonb *decision, const char *key, const char *hint)
{
	JsonbValue	value;

	if (getKeyJsonValueFromContainer(&decision->root, key, strlen(key), &value) == NULL)
		return NAN;
	if (value.type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("decision %s must be a number", key),
				 errhint("%s", hint)));
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(value.val.numeric)));
}

/*
 * A propensity is the probability with which the action was chosen: in
 * (0, 1], since an action chosen with probability 0 was not chosen, and
 * off-policy evaluation divides by it.
 */
void
payload_check_propensity(double propensity)
{
	if (!(propensity > 0.0 && propensity <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("decision propensity %g is out of range", propensity),
				 errhint("The propensity is the probability with which the action was chosen: above 0, at most 1 (1 for a deterministic choice).")));
}

/*
 * A decision's optional "confidence" must be a number in [0, 1], since
 * decide() and the analyses compare it with thresholds; its optional
 * "propensity" a number in (0, 1].
 */
void
payload_check_decision(Jsonb *decision)
{
	double		value = decision_number(decision, "confidence",
										"Send the confidence as a JSON number between 0 and 1, for example {\"confidence\": 0.82}.");

	if (!isnan(value) && !(value >= 0.0 && value <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("decision confidence %g is out of range", value),
				 errhint("Confidence is a probability between 0 and 1.")));
	value = decision_number(decision, "propensity",
							"Send the propensity as a JSON number above 0 and at most 1, for example {\"propensity\": 0.25}.");
	if (!isnan(value))
		payload_check_propensity(value);
}

/* Data lineage is one of three fixed values (never NULL): returns its canonical spelling. */
text *
payload_check_source(text *source)
{
	static const char *const sources[] = {"real", "synthetic", "augmented"};

	return cstring_to_text(sources[args_choice(source ? text_to_cstring(source) : NULL, "source",
											   sources, lengthof(sources))]);
}

/*
 * A decision's experiment must exist, and its variant (which needs the
 * experiment) must be the one the unit is assigned: a decision recorded
 * under another arm would be left out of the analysis without a word.  A
 * zero Datum is NULL.
 */
void
payload_check_arm(Datum experiment, Datum unit_id, Datum variant)
{
	text	   *assigned;
	text	   *claimed;

	if (variant != (Datum) 0 && experiment == (Datum) 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("variant given without experiment"),
				 errhint("Name the experiment the variant belongs to.")));
	if (experiment == (Datum) 0)
		return;
	if (variant == (Datum) 0)
	{
		experiment_find(DatumGetTextPP(experiment));	/* raises when unknown */
		return;
	}
	assigned = experiment_assigned_variant(DatumGetTextPP(experiment), DatumGetTextPP(unit_id));
	if (assigned == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unit \"%s\" is not in experiment \"%s\"",
						TextDatumGetCString(unit_id), TextDatumGetCString(experiment)),
				 errhint("The unit is outside the experiment's coverage: record the decision without a variant.")));
	claimed = DatumGetTextPP(variant);
	if (VARSIZE_ANY_EXHDR(assigned) != VARSIZE_ANY_EXHDR(claimed) ||
		memcmp(VARDATA_ANY(assigned), VARDATA_ANY(claimed), VARSIZE_ANY_EXHDR(claimed)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unit \"%s\" is assigned variant \"%s\" of experiment \"%s\", not \"%s\"",
						TextDatumGetCString(unit_id), text_to_cstring(assigned),
						TextDatumGetCString(experiment), TextDatumGetCString(variant)),
				 errhint("Record the variant ml.assign_variant returns for the unit.")));
}
