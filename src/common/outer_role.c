/*-------------------------------------------------------------------------
 *
 * outer_role.c
 *	  ml.outer_role(): the role a SECURITY DEFINER function was called by.
 *
 * Inside a SECURITY DEFINER function CURRENT_USER is the function's owner,
 * and SESSION_USER ignores SET ROLE; the functions that record who created
 * something (ml.create_channel, ml.create_alert) want the role in effect
 * outside any function, which is what GetOuterUserId() keeps.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(learnloop_outer_role);

Datum
learnloop_outer_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein,
										CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false))));
}
