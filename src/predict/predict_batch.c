/*-------------------------------------------------------------------------
 *
 * predict_batch.c
 *	  ml.predict_batch(): a model's predictions for every row of a source,
 *	  written into a new table, with progress NOTICEs.
 *
 * The table is created as CREATE TABLE ... AS ... WITH NO DATA would
 * create it (the caller's id columns and one prediction column), then the
 * scoring SELECT runs once, as the caller, with a plan that may be
 * parallel, and its rows go straight from the executor into the table
 * through a DestReceiver, as CREATE TABLE AS itself does: the prediction
 * runs in the parallel workers while the leader inserts.  An INSERT ...
 * SELECT would run the whole SELECT serially (PostgreSQL 15 plans no
 * parallel INSERT), and batches of SELECTs would each read the source
 * again or need an ordered index on it.
 *
 * Everything happens in the caller's transaction: a cancel or an error
 * leaves no table behind.  The version is pinned when the call starts, so
 * a deployment during the run does not mix two models in one table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "tcop/dest.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "common/args.h"
#include "common/compat.h"
#include "common/sql_source.h"
#include "predict/named_version.h"

PG_FUNCTION_INFO_V1(learnloop_predict_batch);

/* output: the serving function called, and the column it fills */
static const char *const output_names[] = {"predict", "proba", "label"};
static const char *const output_functions[] = {"ml.predict", "ml.predict_proba", "ml.predict_label"};
static const char *const output_columns[] = {"prediction", "probabilities", "label"};

/* The receiver of the scoring SELECT: inserts each row into the new table */
typedef struct ScoreReceiver
{
	DestReceiver pub;
	Relation	rel;
	CommandId	cid;
	BulkInsertState bistate;
	int64		rows;
	int64		progress_every;
	double		estimate;		/* the planner's rows, for the NOTICEs */
	TimestampTz started;
} ScoreReceiver;

/* Called by the executor before the first row, outside parallel mode */
static void
score_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	ScoreReceiver *r = (ScoreReceiver *) self;
	TupleDesc	desc = RelationGetDescr(r->rel);

	/* the table was created from this very query: same columns, same types */
	if (typeinfo->natts != desc->natts)
		elog(ERROR, "learnloop's scoring query gives %d columns for a table of %d",
			 typeinfo->natts, desc->natts);
	for (int i = 0; i < desc->natts; i++)
		if (TupleDescAttr(typeinfo, i)->atttypid != TupleDescAttr(desc, i)->atttypid)
			elog(ERROR, "learnloop's scoring query and its table differ in column %d", i + 1);

	/*
	 * Inserting while the plan is parallel needs the transaction's id and
	 * the command id before the executor enters parallel mode, which it
	 * does after this call.  Only the leader inserts, into a table no worker
	 * reads or extends, so group locking cannot let two processes extend it
	 * at once: the case heap_insert allows for CREATE TABLE AS.
	 */
	(void) GetCurrentTransactionId();
	r->cid = GetCurrentCommandId(true);
	r->bistate = GetBulkInsertState();
}

/*
 * One row of the scoring query, in the leader: inserted, counted, and every
 * progress_every rows a NOTICE (the planner's estimate as the total, or the
 * count when the estimate was low).  Cancel is checked here too, as the
 * leader may spend its time inserting rows the workers send.
 */
static bool
score_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ScoreReceiver *r = (ScoreReceiver *) self;

	CHECK_FOR_INTERRUPTS();
	table_tuple_insert(r->rel, slot, r->cid, TABLE_INSERT_SKIP_FSM, r->bistate);
	if (++r->rows % r->progress_every == 0)
	{
		long		secs;
		int			usecs;
		double		elapsed;

		TimestampDifference(r->started, GetCurrentTimestamp(), &secs, &usecs);
		elapsed = secs + usecs / 1e6;
		ereport(NOTICE,
				(errmsg("ml.predict_batch: " INT64_FORMAT " rows scored of about %.0f",
						r->rows, Max(r->estimate, (double) r->rows)),
				 errdetail("%.1f s, %.0f rows per second", elapsed,
						   elapsed > 0 ? r->rows / elapsed : 0)));
	}
	return true;
}

/*
 * After the last row: the bulk insert's buffer released and its end told to
 * the table access method, as CREATE TABLE AS does.
 */
static void
score_shutdown(DestReceiver *self)
{
	ScoreReceiver *r = (ScoreReceiver *) self;

	FreeBulkInsertState(r->bistate);
	r->bistate = NULL;
	table_finish_bulk_insert(r->rel, TABLE_INSERT_SKIP_FSM);
}

static void
score_destroy(DestReceiver *self)
{
	pfree(self);
}

/*
 * The version the whole run uses: the one given, or the one deployed now.
 * Read as the caller, who needs to read ml.models as ml.predict does.
 */
static int
pinned_version(text *model, Datum version, bool version_null)
{
	if (!version_null && DatumGetInt32(version) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("version must be at least 1, not %d", DatumGetInt32(version)),
				 errhint("Leave version NULL for the deployed one.")));
	return named_version(model, version, version_null).version;
}

/*
 * SELECT s.id..., ml.predict('model', (features), version) AS prediction
 * FROM source AS s.  The caller's expressions resolve on the caller's
 * search_path; the model is a literal, so the plan has no parameter and
 * the generic plan the NOTICEs are estimated from is the one that runs.
 */
static char *
scoring_query(const char *model, int version, const char *source, ArrayType *id_columns,
			  const char *features, int output)
{
	StringInfoData q;
	Datum	   *ids;
	bool	   *id_nulls;
	int			nids;

	deconstruct_array(id_columns, TEXTOID, -1, false, TYPALIGN_INT, &ids, &id_nulls, &nids);
	if (ARR_NDIM(id_columns) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("id_columns must be a one-dimensional array")));
	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int i = 0; i < nids; i++)
	{
		if (id_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("id_columns must not contain NULL")));
		appendStringInfo(&q, "s.%s, ", quote_identifier(TextDatumGetCString(ids[i])));
	}
	/* a newline after each caller's fragment ends a -- comment in it */
	appendStringInfo(&q, "%s(%s, (%s\n), %d) AS %s FROM ",
					 output_functions[output], quote_literal_cstr(model), features, version,
					 output_columns[output]);
	if (sql_source_is_query(source))
		appendStringInfo(&q, "(%s\n) AS s", source);
	else
		appendStringInfo(&q, "%s\nAS s", source);
	return q.data;
}

/*
 * The workers of the plan's Gather (or Gather Merge), 0 for a serial plan:
 * said in the last NOTICE, so that a plan that should be parallel and is
 * not is seen.
 */
static int
planned_workers(Plan *plan)
{
	if (plan == NULL)
		return 0;
	if (IsA(plan, Gather))
		return ((Gather *) plan)->num_workers;
	if (IsA(plan, GatherMerge))
		return ((GatherMerge *) plan)->num_workers;
	return Max(planned_workers(plan->lefttree), planned_workers(plan->righttree));
}

/*
 * The new table, opened for the inserts: looked up in the schema it was
 * created in, as a lookup by name on the search_path could find another
 * table first (a temporary one of the same name).  CREATE TABLE AS makes a
 * table without indexes, triggers, constraints or row security; an event
 * trigger could add some, which rows inserted below the executor would
 * bypass.
 */
static Relation
open_new_table(Oid namespace, const char *relname)
{
	Oid			relid = get_relname_relid(relname, namespace);
	Relation	rel;
	TupleConstr *constr;

	if (!OidIsValid(relid))
		elog(ERROR, "learnloop did not find the table of predictions it created");
	rel = table_open(relid, RowExclusiveLock);
	constr = RelationGetDescr(rel)->constr;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relhasindex ||
		rel->rd_rel->relhastriggers || rel->rd_rel->relrowsecurity ||
		(constr != NULL && (constr->num_check > 0 || constr->has_not_null || constr->num_defval > 0)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" was given indexes, triggers, constraints or row security as it was created",
						RelationGetRelationName(rel)),
				 errhint("An event trigger changed it; add them after ml.predict_batch, or disable the trigger.")));
	if (pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", RelationGetRelationName(rel))));
	return rel;
}

/*
 * ml.predict_batch(model, source, into, id_columns, features, output,
 * version, progress_every) -> (rows_written, model_version)
 */
Datum
learnloop_predict_batch(PG_FUNCTION_ARGS)
{
	text	   *model;
	char	   *source;
	List	   *into_names;
	RangeVar   *into;
	Oid			into_namespace;
	char	   *into_name;
	int			output;
	int64		progress_every;
	int			version;
	char	   *query;
	SPIPlanPtr	plan;
	SPIPrepareOptions prepare = {0};
	SPIExecuteOptions execute = {0};
	CachedPlan *cplan;
	PlannedStmt *stmt;
	ScoreReceiver *receiver;
	Relation	rel;
	int			workers;
	TupleDesc	result_desc;
	Datum		result[2];
	bool		result_nulls[2] = {false, false};

	for (int a = 0; a < 8; a++)
		if (a != 6 && PG_ARGISNULL(a))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("only version may be NULL"),
					 errhint("Leave an argument out for its default.")));
	model = PG_GETARG_TEXT_PP(0);
	source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	/* a qualified name, parsed (42602 otherwise) and written back quoted */
	into_names = qualified_name_list(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	into = makeRangeVarFromNameList(into_names);
	output = args_choice(text_to_cstring(PG_GETARG_TEXT_PP(5)), "output",
						 output_names, lengthof(output_names));
	progress_every = PG_GETARG_INT64(7);
	if (progress_every < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("progress_every must be at least 1, not " INT64_FORMAT, progress_every),
				 errhint("It is the number of rows between two progress NOTICEs.")));
	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "ml.predict_batch must return a record");
	result_desc = BlessTupleDesc(result_desc);

	SPI_connect();
	version = pinned_version(model, PG_GETARG_DATUM(6), PG_ARGISNULL(6));
	query = scoring_query(text_to_cstring(model), version, source, PG_GETARG_ARRAYTYPE_P(3),
						  text_to_cstring(PG_GETARG_TEXT_PP(4)), output);

	/* one SELECT, checked before anything is created; parallel allowed */
	prepare.cursorOptions = CURSOR_OPT_PARALLEL_OK;
	plan = SPI_prepare_extended(query, &prepare);
	if (plan == NULL)
		elog(ERROR, "learnloop could not plan the scoring query: %s",
			 SPI_result_code_string(SPI_result));
	if (list_length(SPI_plan_get_plan_sources(plan)) != 1 || !SPI_is_cursor_plan(plan))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source, id_columns and features must make one SELECT"),
				 errhint("Pass a table or view name or one query as source, and an expression as features.")));

	/* created in the schema CREATE TABLE would pick, named with it */
	into_namespace = RangeVarGetCreationNamespace(into);
	into_name = quote_qualified_identifier(get_namespace_name(into_namespace), into->relname);
	if (SPI_execute(psprintf("CREATE TABLE %s AS %s\nWITH NO DATA", into_name, query),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "learnloop could not create the table of predictions");
	rel = open_new_table(into_namespace, into->relname);

	/* the generic plan (there are no parameters), which the run reuses */
	cplan = SPI_plan_get_cached_plan(plan);
	stmt = linitial_node(PlannedStmt, cplan->stmt_list);
	workers = planned_workers(stmt->planTree);
	receiver = palloc0(sizeof(ScoreReceiver));
	receiver->pub.receiveSlot = score_receive;
	receiver->pub.rStartup = score_startup;
	receiver->pub.rShutdown = score_shutdown;
	receiver->pub.rDestroy = score_destroy;
	receiver->pub.mydest = DestNone;
	receiver->rel = rel;
	receiver->progress_every = progress_every;
	receiver->estimate = stmt->planTree->plan_rows;
	ReleaseCachedPlan(cplan, NULL);

	execute.read_only = false;
	execute.dest = (DestReceiver *) receiver;
	receiver->started = GetCurrentTimestamp();
	if (SPI_execute_plan_extended(plan, &execute) < 0)
		elog(ERROR, "learnloop could not run the scoring query");
	ereport(NOTICE,
			(errmsg("ml.predict_batch: " INT64_FORMAT " rows of model \"%s\" version %d written into %s",
					receiver->rows, text_to_cstring(model), version, NameListToQuotedString(into_names)),
			 workers > 0 ? errdetail("The scoring query was planned with %d parallel workers.", workers)
			 : errdetail("The scoring query was planned without parallel workers.")));
	result[0] = Int64GetDatum(receiver->rows);
	result[1] = Int32GetDatum(version);
	table_close(rel, NoLock);
	SPI_finish();
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(result_desc, result, result_nulls)));
}
