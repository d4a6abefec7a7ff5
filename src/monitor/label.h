/*-------------------------------------------------------------------------
 *
 * label.h
 *	  The realized label of a decision: the model's own target, read from
 *	  the outcome that arrived, and the model's probability for it.
 *
 * A model's target is the SQL expression it was trained on (ml.models.
 * feature_schema->>'target').  ml.monitor does not run that expression:
 * it was written by whoever trained the model and would run with the
 * rights of whoever monitors it.  It reads the label itself when the
 * target is a key of the outcome, the form decisions are trained on
 * (docs/training.md): outcome->>'key', optionally parenthesised and cast,
 * e.g. (outcome->>'engaged')::boolean.  Any other target has no realized
 * label here: the window's outcome share, lag and the estimated accuracy
 * are still measured.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_LABEL_H
#define LEARNLOOP_LABEL_H

#include "model/schema.h"

typedef enum LabelKind
{
	LABEL_NONE,					/* no realized label: see why */
	LABEL_BINARY,				/* a binary classifier: 1 for classes[1] */
	LABEL_NUMBER				/* a regression: the number */
} LabelKind;

typedef struct LabelRule
{
	LabelKind	kind;
	char	   *key;			/* the outcome key, or NULL */
	const SchemaFeature *classes;	/* LABEL_BINARY: the two classes */
	int			class_lens[2];	/* their names' lengths */
	const char *why;			/* LABEL_NONE: why, for the NOTICE */
} LabelRule;

/* How to read the label of the model with this schema and target. */
extern void label_rule(const FeatureSchema *schema, const char *target, LabelRule *rule);

/*
 * The label of an outcome value (outcome->>key, len bytes): 0 or 1, or
 * the number; false when the value is no class (or no finite number).
 */
extern bool label_value(const LabelRule *rule, const char *text, int len, double *label);

/*
 * The model's probability of classes[1] for a decision it made: an
 * outcome model's score (the predicted outcome of the action taken),
 * else a policy's confidence in the action, turned around when the
 * action is classes[0].  NaN when the decision carries neither (a
 * fallback) or the action is no class.
 */
extern double label_probability(const LabelRule *rule, double score, double confidence,
								 const char *action, int action_len);

#endif							/* LEARNLOOP_LABEL_H */
