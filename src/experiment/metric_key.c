/*-------------------------------------------------------------------------
 *
 * metric_key.c
 *	  The value of a decision metric's event: an outcome key, or an SQL
 *	  expression over the decision row.
 *
 * An expression is stored in ml.metrics by one role and run by every role
 * that analyses the experiment, so it is untrusted: it must parse as one
 * expression over the columns of ml.MLTrainingData, with no sub-query,
 * aggregate, window function, set-returning function or parameter, and
 * call nothing but immutable functions and operators of pg_catalog.  What
 * runs is not the stored text but the checked expression deparsed (under
 * the search_path pg_catalog, pg_temp, which the analysis also runs
 * under), so no comment or parenthesis in the text can reach the query
 * around it.  ml.create_metric checks the key once, the analysis again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "parser/parse_type.h"
#include "common/numeric_double.h"
#include "common/sql_expression.h"
#include "experiment/metric_key.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(learnloop_check_metric_key);
PG_FUNCTION_INFO_V1(learnloop_outcome_number);

#define KEY_HINT "A key is an outcome key (letters, digits, _) or one expression over the decision's columns, " \
	"e.g. (outcome->>'minutes')::float8 or CASE WHEN decision->>'action' = 'hint' THEN 1 ELSE 0 END."

int
metric_catalog_path(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/* A plain name: ^[A-Za-z_][A-Za-z0-9_]*$ */
static bool
plain_key(const char *key)
{
	if (!(key[0] == '_' || (key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z')))
		return false;
	for (const char *c = key + 1; *c; c++)
		if (!(*c == '_' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			  (*c >= '0' && *c <= '9')))
			return false;
	return true;
}

static void
refuse(int sqlstate, const char *key, const char *why)
{
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("metric key \"%s\" is not allowed: %s", key, why),
			 errhint(KEY_HINT)));
}

/*
 * The raw expression of "SELECT <key>", refused unless that is all there
 * is.  A syntax error is a refused key too (22023 with the key's hint).
 */
static Node *
raw_expression(const char *key)
{
	const char *why;
	Node	   *expr = sql_one_expression(key, &why);

	if (expr == NULL)
		refuse(ERRCODE_INVALID_PARAMETER_VALUE, key, why);
	return expr;
}

/*
 * Whether a value of this type is plain data: a number, a boolean, text,
 * JSON, a date or time, or an array of one.  A function of pg_catalog
 * that takes or gives anything else (an object's identifier, a cstring,
 * an internal, an "any", a polymorphic type, a row) may reach other
 * objects: satisfies_hash_partition, immutable, opens the partitioned
 * table it is given, and building its partition key simplifies the key's
 * expressions, running the table owner's functions as whoever analyses.
 */
static bool
plain_data_type(Oid t)
{
	Oid			element = get_element_type(t);

	if (OidIsValid(element))
		t = element;
	switch (t)
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case JSONOID:
		case JSONBOID:
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
			return true;
		default:
			return false;
	}
}

/* Whether a qualified name (of a function or operator) names a schema other than pg_catalog */
static bool
other_schema(List *name)
{
	return list_length(name) > 1 &&
		strcmp(strVal(list_nth(name, list_length(name) - 2)), "pg_catalog") != 0;
}

/*
 * The raw parse tree, before it is analysed: analysing runs code of the
 * types it names (a literal cast to a composite type with a domain column
 * checks the domain's constraint while it is parsed; a regclass[] literal
 * looks names up in the catalog), so every type named must already be
 * plain data (plain_data_type), every qualified function or operator one
 * of pg_catalog, and there is no COLLATE (a collation is an object of its
 * owner).
 */
static bool
check_raw_node(Node *node, void *context)
{
	const char *key = context;

	if (node == NULL)
		return false;
	if (IsA(node, TypeName))
	{
		TypeName   *name = (TypeName *) node;
		Type		type = name->pct_type ? NULL : LookupTypeName(NULL, name, NULL, false);
		bool		ok = type != NULL && plain_data_type(typeTypeId(type));

		if (type != NULL)
			ReleaseSysCache(type);
		if (!ok)
			refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, key,
				   "it names a type that is not a number, boolean, text, JSON, date or time");
		return false;
	}
	if (IsA(node, CollateClause))
		refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, key, "COLLATE is not allowed");
	if ((IsA(node, FuncCall) && other_schema(((FuncCall *) node)->funcname)) ||
		(IsA(node, A_Expr) && other_schema(((A_Expr *) node)->name)))
		refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, key,
			   "it names a function or operator outside pg_catalog");
	return raw_expression_tree_walker(node, check_raw_node, context);
}

/* check_functions_in_node's checker: true for what may not run */
static bool
forbidden_function(Oid funcid, void *context)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	bool		forbidden = true;

	if (HeapTupleIsValid(tuple))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tuple);

		forbidden = proc->pronamespace != PG_CATALOG_NAMESPACE ||
			proc->provolatile != PROVOLATILE_IMMUTABLE;
		ReleaseSysCache(tuple);
	}
	return forbidden;
}

/* Whether a function called by name (or through an operator) takes or gives more than plain data */
static bool
beyond_plain_data(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	bool		beyond = true;

	if (HeapTupleIsValid(tuple))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tuple);

		beyond = proc->proretset || !plain_data_type(proc->prorettype);
		for (int i = 0; !beyond && i < proc->pronargs; i++)
			beyond = !plain_data_type(proc->proargtypes.values[i]);
		ReleaseSysCache(tuple);
	}
	return beyond;
}

static bool
check_node(Node *node, void *context)
{
	const char *key = context;

	if (node == NULL)
		return false;
	if (IsA(node, SubLink) || IsA(node, Param) || IsA(node, SQLValueFunction) ||
		IsA(node, NextValueExpr))
		refuse(ERRCODE_INVALID_PARAMETER_VALUE, key,
			   "sub-queries, parameters and session values are not allowed");
	/*
	 * Every value is plain data, so that every node's functions (output
	 * functions of XMLELEMENT, the operators of NULLIF, IN, row
	 * comparisons, a domain's check) are those of plain data too.
	 */
	if (!IsA(node, List) && !IsA(node, CaseWhen) && !plain_data_type(exprType(node)))
		refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, key,
			   "it makes a value that is not a number, boolean, text, JSON, date or time");
	if (IsA(node, CoerceToDomain) || IsA(node, ConvertRowtypeExpr) || IsA(node, XmlExpr) ||
		IsA(node, CollateExpr))
		refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, key,
			   "domains, row conversions, XML and COLLATE are not allowed");
	if ((IsA(node, FuncExpr) && beyond_plain_data(((FuncExpr *) node)->funcid)) ||
		(IsA(node, OpExpr) && beyond_plain_data(((OpExpr *) node)->opfuncid)))
		refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, key,
			   "it calls a function or operator that takes or gives more than numbers, booleans, text, JSON, dates and times");
	if (check_functions_in_node(node, forbidden_function, NULL))
		refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, key,
			   "it calls a function or operator that is not an immutable one of pg_catalog");
	return expression_tree_walker(node, check_node, context);
}

char *
metric_key_sql(const char *key)
{
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *item;
	Node	   *expr;
	Oid			type;
	char	   *sql;

	if (plain_key(key))
		return psprintf("ml.outcome_number(d.outcome, %s)", quote_literal_cstr(key));
	expr = raw_expression(key);
	(void) check_raw_node(expr, (void *) key);
	rel = table_openrv(makeRangeVar("ml", "mltrainingdata", -1), AccessShareLock);
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = key;
	item = addRangeTableEntryForRelation(pstate, rel, AccessShareLock,
										 makeAlias("d", NIL), false, true);
	addNSItemToQuery(pstate, item, true, true, true);
	expr = transformExpr(pstate, expr, EXPR_KIND_SELECT_TARGET);
	if (pstate->p_hasAggs || pstate->p_hasWindowFuncs || pstate->p_hasTargetSRFs ||
		pstate->p_hasSubLinks)
		refuse(ERRCODE_INVALID_PARAMETER_VALUE, key,
			   "aggregates, window functions, set-returning functions and sub-queries are not allowed");
	type = exprType(expr);
	if (type == BOOLOID)
		expr = coerce_to_target_type(pstate, expr, type, INT4OID, -1, COERCION_EXPLICIT,
									 COERCE_EXPLICIT_CAST, -1);
	if (expr != NULL)
		expr = coerce_to_target_type(pstate, expr, exprType(expr), FLOAT8OID, -1,
									 COERCION_EXPLICIT, COERCE_EXPLICIT_CAST, -1);
	if (expr == NULL)
		refuse(ERRCODE_INVALID_PARAMETER_VALUE, key,
			   psprintf("its type %s is not a number", format_type_be(type)));
	assign_expr_collations(pstate, expr);
	(void) check_node(expr, (void *) key);
	sql = deparse_expression(expr, deparse_context_for("d", RelationGetRelid(rel)),
							 true, false);
	table_close(rel, NoLock);
	return psprintf("(%s)", sql);
}

/* ml.check_metric_key(key): what the analysis runs for the key, or an error */
Datum
learnloop_check_metric_key(PG_FUNCTION_ARGS)
{
	int			level;
	char	   *sql;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("key must not be NULL"),
				 errhint(KEY_HINT)));
	level = metric_catalog_path();
	sql = metric_key_sql(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	AtEOXact_GUC(true, level);
	PG_RETURN_TEXT_P(cstring_to_text(sql));
}

/*
 * ml.outcome_number(outcome, key): the key's number, a boolean as 0/1, else
 * NULL (absent, another type, beyond double's range): an outcome key's
 * event value in one lookup.  Not strict, so that a metric's statement
 * computes it once per event below its join (as a placeholder) and carries
 * the number, not the outcome, to the aggregation.
 */
Datum
learnloop_outcome_number(PG_FUNCTION_ARGS)
{
	Jsonb	   *outcome;
	text	   *key;
	JsonbValue	v;
	double		value;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	outcome = PG_GETARG_JSONB_P(0);
	key = PG_GETARG_TEXT_PP(1);
	if (!JB_ROOT_IS_OBJECT(outcome) ||
		getKeyJsonValueFromContainer(&outcome->root, VARDATA_ANY(key),
									 VARSIZE_ANY_EXHDR(key), &v) == NULL)
		PG_RETURN_NULL();
	if (v.type == jbvBool)
		PG_RETURN_FLOAT8(v.val.boolean ? 1.0 : 0.0);
	if (v.type != jbvNumeric)
		PG_RETURN_NULL();
	value = numeric_to_double_no_overflow(v.val.numeric);
	if (!isfinite(value))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(value);
}
