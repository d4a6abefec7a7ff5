/*-------------------------------------------------------------------------
 *
 * reference_json.h
 *	  A model's reference distributions as stored in ml.models.reference:
 *	  written by the training worker, read back (as untrusted data) by
 *	  ml.monitor.
 *
 * The column holds one object:
 *	  {"features": {"<name>": <numeric or category object>, ...},
 *	   "prediction": <numeric object> + "of": "<what>", or null}
 * with one entry per feature of the model's feature schema (numbers and
 * booleans numeric, categoricals category: the shapes are in
 * model/reference.h).  "prediction" is the distribution, on the test
 * set, of what ml.decide records for a decision of the model, so that a
 * window's decisions compare with it ("of" names it):
 *	"score"       an outcome model (a binary classifier or a regression with
 *	              a categorical feature "action", ml.decide's default
 *	              action_feature): the predicted outcome of the best
 *	              action, the decision's score;
 *	"confidence"  any other classifier (a policy, binary or multiclass):
 *	              the probability of the predicted class, the decision's
 *	              confidence;
 *	"value"       any other model (regression, ranking): the predicted
 *	              value, which ml.decide does not record.
 * It is null when the model had no test set.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_REFERENCE_JSON_H
#define LEARNLOOP_REFERENCE_JSON_H

#include "lib/stringinfo.h"

#include "model/reference.h"
#include "model/schema.h"

/* The reference of one feature, in the schema's order. */
typedef struct FeatureReference
{
	bool		numeric;		/* numbers and booleans; else categories */
	NumericReference *num;
	CategoryReference *cat;
	/* categories: the kept ones' names (bucket k), the rest are "other" */
	char	  **names;
	int		   *name_lens;
} FeatureReference;

typedef struct ModelReference
{
	int			nfeatures;		/* the schema's */
	FeatureReference *features;
	NumericReference *prediction;	/* NULL when none was kept */
	char	   *prediction_of;	/* "score", "confidence" or "value" */
} ModelReference;

extern void reference_append_numeric(StringInfo out, const NumericReference *ref);
extern void reference_append_category(StringInfo out, const CategoryReference *ref,
									  char *const *names);

/*
 * Reads a stored reference for the model's schema.  Every length, share
 * and number is checked: a row that is not what the training worker
 * writes raises XX001 (data_corrupted) naming model and version.
 */
extern ModelReference *reference_read(const char *json, const FeatureSchema *schema,
									  const char *model, int version);

#endif							/* LEARNLOOP_REFERENCE_JSON_H */
