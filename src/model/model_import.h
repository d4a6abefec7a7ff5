/*-------------------------------------------------------------------------
 *
 * model_import.h
 *	  Reading a model saved by another XGBoost (Python, R, the CLI; 1.x or
 *	  2.x, JSON or UBJSON): what it says of itself, and its bytes in the form
 *	  the XGBoost learnloop links (1.7) loads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_MODEL_IMPORT_H
#define LEARNLOOP_MODEL_IMPORT_H

#include <stddef.h>

typedef struct ImportedModel
{
	const char *bytes;			/* what XGBoost may load, after model_bytes_check */
	size_t		len;
	char	   *objective;
	int			num_feature;
	int			num_class;		/* 0 but for multi-class models */
	int			nnames;			/* the model's feature_names; 0 when it has none */
	char	  **names;
	int			ntypes;			/* its feature_types ("q", "i", "c", "int", "float") */
	char	  **types;
	char	   *saved_by;		/* "major.minor.patch" of the XGBoost that saved it */
} ImportedModel;

/*
 * Reads buf (JSON or UBJSON) into *model; NULL when it can be read, else
 * why not.  Allocates in the current memory context.
 */
extern const char *model_import_read(const char *buf, size_t len, ImportedModel *model);

#endif							/* LEARNLOOP_MODEL_IMPORT_H */
