/*-------------------------------------------------------------------------
 *
 * cascade.c
 *	  Deleting an exposure deletes the unit's outcomes.
 *
 * ml.experiment_outcomes has no foreign key to ml.experiment_exposures:
 * the key's check (an SPI query and a row lock per outcome, fired as an
 * after trigger) was the largest cost of ml.record_outcome, and the
 * statement that writes an outcome already reads the unit's exposure to
 * copy its variant, so an outcome of an unexposed unit cannot be written
 * through learnloop.  What the key still did is done here: deleting an
 * exposure (directly or by deleting its experiment) deletes the unit's
 * outcomes.  Before the delete, the statement trigger locks the outcomes
 * table against writers (SHARE ROW EXCLUSIVE), so an outcome being written
 * concurrently is either committed and deleted here, or written after this
 * transaction and refused for want of an exposure.  Like the foreign key's
 * cascade, the delete runs as the tables' owner and, under REPEATABLE READ
 * or SERIALIZABLE, sees rows committed after the transaction's snapshot
 * and fails with a serialization error rather than miss them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/spi_plan.h"
#include "executor/spi.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(learnloop_delete_exposure_outcomes);

#define DELETE_OUTCOMES_SQL \
	"DELETE FROM ml.experiment_outcomes " \
	"WHERE experiment OPERATOR(pg_catalog.=) $1 AND unit_id OPERATOR(pg_catalog.=) $2"

static SPIPlanPtr delete_plan = NULL;

Datum
learnloop_delete_exposure_outcomes(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	bool		isnull[2];
	TupleDesc	desc;
	Snapshot	test_snapshot = InvalidSnapshot;
	Snapshot	crosscheck_snapshot = InvalidSnapshot;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "learnloop_delete_exposure_outcomes must be an AFTER DELETE row trigger");
	desc = RelationGetDescr(trigdata->tg_relation);
	values[0] = heap_getattr(trigdata->tg_trigtuple, SPI_fnumber(desc, "experiment"), desc, &isnull[0]);
	values[1] = heap_getattr(trigdata->tg_trigtuple, SPI_fnumber(desc, "unit_id"), desc, &isnull[1]);
	if (isnull[0] || isnull[1])
		return PointerGetDatum(NULL);

	SPI_connect();
	if (IsolationUsesXactSnapshot())
	{
		/* as the foreign key's cascade does: see newer rows, fail if they are not ours to see */
		CommandCounterIncrement();
		test_snapshot = GetLatestSnapshot();
		crosscheck_snapshot = GetTransactionSnapshot();
	}
	if (SPI_execute_snapshot(spi_cached_plan(&delete_plan, DELETE_OUTCOMES_SQL, 2, argtypes),
							 values, NULL, test_snapshot, crosscheck_snapshot,
							 false, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "learnloop could not delete the outcomes of a deleted exposure");
	SPI_finish();
	return PointerGetDatum(NULL);
}
