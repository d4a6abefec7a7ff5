/*-------------------------------------------------------------------------
 *
 * learnloop.c
 *	  Module entry point: the settings.
 *
 * _PG_init may run in the postmaster (shared_preload_libraries), which
 * forks every backend, so it only defines settings: no XGBoost, OpenMP
 * or libcurl call may happen here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "learnloop.h"

PG_MODULE_MAGIC;

int			learnloop_max_payload_bytes = 64 * 1024;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("learnloop.max_payload_bytes",
							"Largest features, decision or outcome document accepted.",
							"Protects the hot recording path and the training data from runaway payloads.",
							&learnloop_max_payload_bytes,
							64 * 1024,
							1024,
							MaxAllocSize / 2,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("learnloop");
}
