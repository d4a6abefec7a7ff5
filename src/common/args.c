/*-------------------------------------------------------------------------
 *
 * args.c
 *	  Checks of SQL function arguments that every part shares.
 *
 * Each raises with an SQLSTATE and a hint; the caller passes the hint
 * when what to send instead depends on the function.
 *
 * Every argument that takes one of a fixed list of words, of every
 * function, C or PL/pgSQL (through ml.check_choice), is matched here:
 * case-insensitively, so that 'Holm' and 'holm' mean the same everywhere,
 * and an unknown word is an error that lists the allowed ones.  Callers
 * store the canonical spelling.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "common/args.h"

/*
 * Refuses a NULL argument argno; hint (NULL for none) may name the
 * argument with one %s.
 */
void
args_not_null(FunctionCallInfo fcinfo, int argno, const char *argname,
			  const char *hint)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", argname),
				 hint ? errhint(hint, argname) : 0));
}

/*
 * Refuses an empty name or one over LEARNLOOP_MAX_NAME_BYTES, with the
 * caller's hints (what to pass instead differs between its users); a hint
 * may name the argument with one %s.
 */
void
args_check_name(text *name, const char *argname, const char *empty_hint,
				const char *long_hint)
{
	if (VARSIZE_ANY_EXHDR(name) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", argname),
				 errhint(empty_hint, argname)));
	if (VARSIZE_ANY_EXHDR(name) > LEARNLOOP_MAX_NAME_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long: %zu bytes, the limit is %d bytes",
						argname, (size_t) VARSIZE_ANY_EXHDR(name),
						LEARNLOOP_MAX_NAME_BYTES),
				 errhint(long_hint, argname)));
}

/*
 * The index of value in choices (NULL entries are skipped), or an error
 * naming argname and the allowed words; a NULL value is an error too.
 */
int
args_choice(const char *value, const char *argname,
			const char *const *choices, int nchoices)
{
	StringInfoData allowed;

	for (int i = 0; value != NULL && i < nchoices; i++)
		if (choices[i] != NULL && pg_strcasecmp(value, choices[i]) == 0)
			return i;
	initStringInfo(&allowed);
	for (int i = 0; i < nchoices; i++)
		if (choices[i] != NULL)
			appendStringInfo(&allowed, "%s%s", allowed.len ? ", " : "", choices[i]);
	if (value == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", argname),
				 errhint("%s is one of: %s; leave it out to take its default.", argname, allowed.data)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s \"%s\"", argname, value),
			 errhint("%s is one of: %s.", argname, allowed.data)));
	return -1;					/* keep compiler quiet */
}

PG_FUNCTION_INFO_V1(learnloop_check_choice);

/* ml.check_choice(value, argname, choices): the canonical spelling of value. */
Datum
learnloop_check_choice(PG_FUNCTION_ARGS)
{
	char	   *argname = PG_ARGISNULL(1) ? "argument" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	const char **choices;

	args_not_null(fcinfo, 2, "choices", NULL);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	choices = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		choices[i] = nulls[i] ? NULL : TextDatumGetCString(elems[i]);
	PG_RETURN_TEXT_P(cstring_to_text(choices[args_choice(PG_ARGISNULL(0) ? NULL :
														 text_to_cstring(PG_GETARG_TEXT_PP(0)),
														 argname, choices, n)]));
}
