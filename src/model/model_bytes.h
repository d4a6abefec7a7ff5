/*-------------------------------------------------------------------------
 *
 * model_bytes.h
 *	  Checks stored model bytes before XGBoost's loader reads them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_MODEL_BYTES_H
#define LEARNLOOP_MODEL_BYTES_H

#include <stddef.h>

/* NULL when the bytes read as JSON (translated from UBJSON), else why not. */
extern const char *model_bytes_json(const char *buf, size_t len,
									const char **json, size_t *json_len);

/* NULL when XGBoost may parse buf, else why not (a static string). */
extern const char *model_bytes_check(const char *buf, size_t len);

#endif							/* LEARNLOOP_MODEL_BYTES_H */
