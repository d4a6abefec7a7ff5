/*-------------------------------------------------------------------------
 *
 * json_number.h
 *	  Numbers written into JSON text, in their shortest exact form.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_JSON_NUMBER_H
#define LEARNLOOP_JSON_NUMBER_H

#include <cjson/cJSON.h>

#include "lib/stringinfo.h"

extern void json_append_float8(StringInfo out, double value);
extern void json_append_float4(StringInfo out, float value);
extern char *json_float8_string(double value);
extern void json_append_cjson(StringInfo out, const cJSON *item);

#endif							/* LEARNLOOP_JSON_NUMBER_H */
