/*-------------------------------------------------------------------------
 *
 * stored_model.h
 *	  One stored version of a model, read from ml.models as the caller.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_STORED_MODEL_H
#define LEARNLOOP_STORED_MODEL_H

typedef struct StoredModel
{
	int			version;
	char	   *schema;			/* the feature schema's JSON text */
	bytea	   *model;			/* the booster's bytes, unchecked */
	char	   *params;			/* the training parameters' JSON text, when asked for */
} StoredModel;

extern void stored_model_read(const char *name, int version, const char *what,
							  const char *version_argument, bool with_params,
							  MemoryContext cxt, StoredModel *stored);

#endif							/* LEARNLOOP_STORED_MODEL_H */
