/*-------------------------------------------------------------------------
 *
 * forest.h
 *	  Native evaluator for XGBoost 1.7 tree ensembles.
 *
 * forest_compile() turns a model saved as JSON into flat node arrays;
 * forest_predict() walks them for one row.  Serving one row through
 * XGBoost costs tens of microseconds of per-call overhead, walking the
 * trees costs about as much as the trees themselves.
 *
 * Results follow XGBoost's CPU predictor operation by operation: margins
 * are float sums in tree order starting from base_score's margin, and the
 * objective's transform uses the same float arithmetic.  Models this code
 * cannot reproduce exactly (dart, gblinear, other objectives) are refused
 * with a reason, so that the caller can fall back to XGBoost itself.
 *
 * Model bytes are read from a table, so they are untrusted: every model is
 * validated completely (index ranges, acyclic trees of bounded depth, array
 * lengths, feature indexes, thresholds, finite leaves), whether it compiles
 * or not, and one that fails is refused as invalid, for XGBoost follows the
 * same indexes unchecked.
 *
 * Nothing here calls the backend, so the file links into a standalone
 * unit test.  The compiled forest lives in one block from the caller's
 * allocator; scratch memory during compilation is malloc'd (cJSON's own
 * allocator) and freed before forest_compile returns.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_FOREST_H
#define LEARNLOOP_FOREST_H

#include <stddef.h>

/*
 * Returns size bytes aligned for any type, or NULL when out of memory; it
 * must not raise an error, which would leak the compilation's scratch memory.
 */
typedef void *(*ForestAlloc) (void *arg, size_t size);

typedef struct Forest Forest;

/*
 * What a valid model outputs, whichever evaluator serves it: the values
 * of a prediction and the margins (one per class of a multi-class model).
 */
typedef struct ForestShape
{
	int			num_outputs;
	int			num_margins;
} ForestShape;

/*
 * Compiles a model saved by XGBoosterSaveModelToBuffer with format json.
 * On failure returns NULL and sets *reason to a static string, having
 * allocated nothing; *invalid tells a malformed model (which must not be
 * served at all) from one that XGBoost may evaluate instead.  Unless
 * shape is NULL, a model that is not invalid sets *shape, compiled or not,
 * but for one that was not even read, for lack of memory: zeros then.
 */
extern Forest *forest_compile(const char *json, size_t len,
							  ForestAlloc alloc, void *arg,
							  const char **reason, bool *invalid,
							  ForestShape *shape);

/*
 * XGBoost's JSON text as cJSON can read it: bare NaN becomes null and
 * Infinity 1e999.  cJSON_malloc'd (free with cJSON_free); NULL when out of
 * memory.
 */
extern char *forest_sanitize_json(const char *json, size_t len, size_t *out_len);

/* Values forest_predict writes: num_class for multi:softprob, else 1. */
extern int	forest_num_outputs(const Forest *f);

/*
 * features: one value per feature the model was trained on (the feature
 * schema's count, which loading checked), NaN meaning missing.  out gets
 * the prediction as XGBoost reports it: probability for binary:logistic
 * and reg:logistic, softmax probabilities for multi:softprob, the class
 * index for multi:softmax, exp of the margin for count:poisson, reg:gamma
 * and reg:tweedie, 0/1 for binary:hinge, the margin itself otherwise.
 */
extern void forest_predict(const Forest *f, const float *features,
						   double *out);

/*
 * For test/unit/forest_test.c, which compares the trees' walk with
 * XGBoost's before the objective's transform; serving needs none of them,
 * so the extension's library leaves them out.
 */
#ifdef LEARNLOOP_UNIT_TEST
extern int	forest_num_features(const Forest *f);

/* Values forest_predict_margin writes: num_class for multi:*, else 1. */
extern int	forest_num_margins(const Forest *f);

/* Raw margins, before the objective's transform. */
extern void forest_predict_margin(const Forest *f, const float *features,
								  double *out);
#endif

#endif							/* LEARNLOOP_FOREST_H */
