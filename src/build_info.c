/*-------------------------------------------------------------------------
 *
 * build_info.c
 *	  ml.build_info(): the versions learnloop was built and runs with.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <xgboost/c_api.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/fmgrprotos.h"

#include "learnloop.h"

PG_FUNCTION_INFO_V1(learnloop_build_info);

/*
 * Reports library versions as loaded at run time, which is what matters when
 * a packaged library was upgraded under an installed extension.
 */
Datum
learnloop_build_info(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	int			xgb_major,
				xgb_minor,
				xgb_patch;
	const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);

	XGBoostVersion(&xgb_major, &xgb_minor, &xgb_patch);

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"learnloop\": \"%s\", \"postgresql\": \"%s\", "
					 "\"xgboost\": \"%d.%d.%d\", \"libcurl\": \"%s\", \"cjson\": \"%s\"}",
					 LEARNLOOP_VERSION, PG_VERSION,
					 xgb_major, xgb_minor, xgb_patch,
					 curl->version, cJSON_Version());

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
