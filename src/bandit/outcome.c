/*-------------------------------------------------------------------------
 *
 * outcome.c
 *	  How bandits learn: ml.bandit_reward(), an outcome's value as a reward,
 *	  and the trigger ml.bandit_outcome_from_decision(), which adds the
 *	  reward of a bandit's decision to its cell's and the population's arm
 *	  when ml.record_outcome (or an UPDATE) sets the decision's outcome.
 *
 * The arms change by the difference between the reward now and before, so
 * a retry (the same value again) counts once and a corrected value
 * replaces the old one.  Each arm is upserted, adding to the row's current
 * values under its row lock, so concurrent outcomes lose nothing; the
 * population's row is always locked first, so two of them never deadlock.
 *
 * In PL/pgSQL this was most of a bandit outcome's time: it read the bandit
 * by SQL and called the reward function twice through PL/pgSQL.  Here the
 * bandit comes from ml.choose's definition cache (definition.c) and the
 * rewards are computed in C; the upsert is one prepared statement.  The
 * trigger runs as the extension's owner (SECURITY DEFINER): callers who
 * may record outcomes need no privilege on ml.bandit_arms.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "bandit/definition.h"
#include "common/spi_plan.h"

PG_FUNCTION_INFO_V1(learnloop_bandit_reward);
PG_FUNCTION_INFO_V1(learnloop_bandit_outcome_from_decision);

/*
 * The population's arm first: each upsert locks its row, always in this
 * order.  Nothing for a bandit dropped since its definition was read (its
 * arms went with it).
 */
#define UPSERT_ARMS_SQL \
	"INSERT INTO ml.bandit_arms AS a (bandit, cell, action, n, reward_sum, reward_sq) " \
	"SELECT $1, c.cell, $3, $4, $5, $6 " \
	"FROM pg_catalog.unnest($2::pg_catalog.text[]) WITH ORDINALITY c (cell, i) " \
	"WHERE EXISTS (SELECT FROM ml.bandits b WHERE b.name OPERATOR(pg_catalog.=) $1) ORDER BY c.i " \
	"ON CONFLICT ON CONSTRAINT bandit_arms_pkey DO UPDATE " \
	"SET n = a.n OPERATOR(pg_catalog.+) EXCLUDED.n, " \
	"reward_sum = a.reward_sum OPERATOR(pg_catalog.+) EXCLUDED.reward_sum, " \
	"reward_sq = a.reward_sq OPERATOR(pg_catalog.+) EXCLUDED.reward_sq, " \
	"updated_at = pg_catalog.now()"

static SPIPlanPtr upsert_plan = NULL;

/* A rewards' magnitude beyond which the sums of their squares may not stay finite */
static Numeric
largest_reward(void)
{
	static Numeric largest = NULL;

	if (largest == NULL)
	{
		Datum		parsed = DirectFunctionCall3(numeric_in, CStringGetDatum("1e100"),
												 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		largest = DatumGetNumeric(datumCopy(parsed, false, -1));
		MemoryContextSwitchTo(old);
	}
	return largest;
}

static char *
jsonb_text(Jsonb *value)
{
	return JsonbToCString(NULL, &value->root, VARSIZE(value));
}

/* A JSON value's text, as error messages quote it */
static char *
json_value_text(const JsonbValue *value)
{
	/* JsonbValueToJsonb reads the value without changing it */
	return jsonb_text(JsonbValueToJsonb((JsonbValue *) value));
}

/*
 * The reward an outcome's value (NULL: absent) stands for: booleans count
 * 0/1 and numbers as themselves; JSON null or absent is no reward.  A
 * string (NaN and infinities are recorded as strings), an object or an
 * array, a number beyond 1e100 in magnitude, or for a binary bandit one
 * outside [0, 1], is an error, or with strict false no reward (a value
 * recorded before the bandit existed is never counted, and never an error
 * that would stop the new outcome).  *isnull says there is no reward.
 */
static double
reward_of(const JsonbValue *value, bool binary, const char *reward, bool strict, bool *isnull)
{
	double		r;

	*isnull = true;
	if (value == NULL)
		return 0;
	switch (value->type)
	{
		case jbvNull:
			return 0;
		case jbvBool:
			*isnull = false;
			return value->val.boolean ? 1 : 0;
		case jbvBinary:
			if (!strict)
				return 0;
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("reward \"%s\" must be a number or a boolean, not a JSON %s",
							reward, JsonContainerIsArray(value->val.binary.data) ? "array" : "object"),
					 errhint("Record the reward as a number, true or false.")));
			break;
		case jbvString:
			if (!strict)
				return 0;
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("reward \"%s\" must be a finite number or a boolean, not %s",
							reward, json_value_text(value)),
					 errhint("NaN and infinite rewards cannot be learnt from; record a number, true or false.")));
			break;
		case jbvNumeric:
			if (DatumGetBool(DirectFunctionCall2(numeric_gt,
												 DirectFunctionCall1(numeric_abs,
																	 NumericGetDatum(value->val.numeric)),
												 NumericGetDatum(largest_reward()))))
			{
				if (!strict)
					return 0;
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("reward \"%s\" is out of range: %s", reward, json_value_text(value)),
						 errhint("A bandit's rewards are at most 1e100 in magnitude, so that sums of their squares stay finite.")));
			}
			r = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
												   NumericGetDatum(value->val.numeric)));
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) value->type);
	}
	if (binary && !(r >= 0 && r <= 1))
	{
		if (!strict)
			return 0;
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("reward \"%s\" of a binary bandit must be from 0 to 1, not %s", reward,
						DatumGetCString(DirectFunctionCall1(float8out, Float8GetDatum(r)))),
				 errhint("Record true/false or 0/1, or create the bandit with reward_type => 'continuous'.")));
	}
	*isnull = false;
	return r;
}

/*
 * ml.bandit_reward(value, reward_type, reward, strict): reward_of() for
 * SQL.  A NULL reward_type counts as continuous and a NULL strict as true.
 */
Datum
learnloop_bandit_reward(PG_FUNCTION_ARGS)
{
	char	   *reward_type = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	double		r;
	bool		isnull;
	JsonbValue	value;
	JsonbValue *given = NULL;

	if (!PG_ARGISNULL(0))
	{
		Jsonb	   *jb = PG_GETARG_JSONB_P(0);

		/* an array or object as a container (JsonbToJsonbValue, which 13 lacks) */
		if (!JB_ROOT_IS_SCALAR(jb) || !JsonbExtractScalar(&jb->root, &value))
		{
			value.type = jbvBinary;
			value.val.binary.data = &jb->root;
			value.val.binary.len = VARSIZE(jb) - VARHDRSZ;
		}
		given = &value;
	}
	r = reward_of(given,
				  reward_type != NULL && strcmp(reward_type, "binary") == 0,
				  PG_ARGISNULL(2) ? "<NULL>" : text_to_cstring(PG_GETARG_TEXT_PP(2)),
				  PG_ARGISNULL(3) || PG_GETARG_BOOL(3), &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(r);
}

/*
 * A column of the decision's row by name and type (the table may have been
 * altered, or the function attached to another table): NULL when isnull.
 */
static Datum
row_column(TriggerData *trigdata, HeapTuple row, const char *name, Oid type, bool *isnull)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0 || TupleDescAttr(desc, attnum - 1)->atttypid != type)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ml.bandit_outcome_from_decision() needs a column \"%s\" of type %s", name,
						format_type_be(type)),
				 errhint("learnloop creates its trigger on ml.MLTrainingData.")));
	return heap_getattr(row, attnum, desc, isnull);
}

/* A decision's key as ->> reads it: a string's text, other values' JSON, NULL for null or absent */
static char *
decision_field(Jsonb *decision, const char *key)
{
	JsonbValue	v;

	if (!JB_ROOT_IS_OBJECT(decision) ||
		getKeyJsonValueFromContainer(&decision->root, key, strlen(key), &v) == NULL ||
		v.type == jbvNull)
		return NULL;
	if (v.type == jbvString)
		return pnstrdup(v.val.string.val, v.val.string.len);
	return json_value_text(&v);
}

/* An outcome's value of the reward's key, in *value; NULL when absent */
static JsonbValue *
outcome_value(TriggerData *trigdata, HeapTuple row, const char *reward, JsonbValue *value)
{
	bool		isnull;
	Datum		outcome = row_column(trigdata, row, "outcome", JSONBOID, &isnull);
	Jsonb	   *object;

	if (isnull)
		return NULL;
	object = DatumGetJsonbP(outcome);
	if (!JB_ROOT_IS_OBJECT(object) ||
		getKeyJsonValueFromContainer(&object->root, reward, strlen(reward), value) == NULL)
		return NULL;
	return value;
}

static bool
has_action(const BanditDefinition *def, const char *action)
{
	for (int i = 0; i < def->k; i++)
		if (strcmp(def->actions[i], action) == 0)
			return true;
	return false;
}

/* Adds the reward's change to the arms of the cells (population first), in one statement */
static void
upsert_arms(const BanditDefinition *def, const char *cell, const char *action,
			double new_r, bool new_null, double old_r, bool old_null)
{
	Oid			argtypes[6] = {TEXTOID, TEXTARRAYOID, TEXTOID, INT8OID, FLOAT8OID, FLOAT8OID};
	Datum		args[6];
	Datum		cells[2];
	int			ncells = 1;

	cells[0] = CStringGetTextDatum("");
	if (def->context != BANDIT_CONTEXT_NONE && cell != NULL && cell[0] != '\0')
		cells[ncells++] = CStringGetTextDatum(cell);
	args[0] = CStringGetTextDatum(def->name);
	args[1] = PointerGetDatum(construct_array(cells, ncells, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = CStringGetTextDatum(action);
	args[3] = Int64GetDatum((int64) !new_null - (int64) !old_null);
	args[4] = Float8GetDatum((new_null ? 0 : new_r) - (old_null ? 0 : old_r));
	args[5] = Float8GetDatum((new_null ? 0 : new_r * new_r) - (old_null ? 0 : old_r * old_r));
	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan(&upsert_plan, UPSERT_ARMS_SQL, 6, argtypes),
						 args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "learnloop could not update the bandit's arms");
	SPI_finish();
}

/*
 * After UPDATE OF outcome for each row whose decision names a bandit: a
 * decision of a dropped bandit, of another task or with an action the
 * bandit does not have teaches nothing.
 */
Datum
learnloop_bandit_outcome_from_decision(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const BanditDefinition *def;
	Datum		value;
	Jsonb	   *decision;
	char	   *bandit,
			   *action;
	text	   *task;
	bool		isnull,
				new_null,
				old_null;
	double		new_r,
				old_r;
	JsonbValue	new_value,
				old_value;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ml.bandit_outcome_from_decision() must fire after UPDATE, for each row"),
				 errhint("learnloop creates its trigger on ml.MLTrainingData.")));

	value = row_column(trigdata, trigdata->tg_newtuple, "decision", JSONBOID, &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	decision = DatumGetJsonbP(value);
	if ((bandit = decision_field(decision, "bandit")) == NULL ||
		(action = decision_field(decision, "action")) == NULL)
		return PointerGetDatum(NULL);
	value = row_column(trigdata, trigdata->tg_newtuple, "task", TEXTOID, &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	task = DatumGetTextPP(value);

	/*
	 * The definition as of now, as a statement would read it: a change
	 * committed since this transaction's first look at ml.bandits is
	 * accepted here (the lock it holds accepts none).
	 */
	AcceptInvalidationMessages();
	def = bandit_definition(cstring_to_text(bandit), false, true);
	if (def == NULL || !has_action(def, action) ||
		VARSIZE_ANY_EXHDR(task) != VARSIZE_ANY_EXHDR(def->task) ||
		memcmp(VARDATA_ANY(task), VARDATA_ANY(def->task), VARSIZE_ANY_EXHDR(task)) != 0)
		return PointerGetDatum(NULL);

	new_r = reward_of(outcome_value(trigdata, trigdata->tg_newtuple, def->reward, &new_value),
					  def->prior.binary, def->reward, true, &new_null);
	old_r = reward_of(outcome_value(trigdata, trigdata->tg_trigtuple, def->reward, &old_value),
					  def->prior.binary, def->reward, false, &old_null);
	if (new_null == old_null && (new_null || new_r == old_r))
		return PointerGetDatum(NULL);
	upsert_arms(def, decision_field(decision, "cell"), action,
				new_r, new_null, old_r, old_null);
	return PointerGetDatum(NULL);
}
