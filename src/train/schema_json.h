/*-------------------------------------------------------------------------
 *
 * schema_json.h
 *	  Writes the feature schema of a trained model.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SCHEMA_JSON_H
#define LEARNLOOP_SCHEMA_JSON_H

#include "train/dataset.h"

extern char *schema_json(const Dataset *ds, const char *objective, const char *target);

#endif							/* LEARNLOOP_SCHEMA_JSON_H */
