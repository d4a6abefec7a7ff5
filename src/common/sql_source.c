/*-------------------------------------------------------------------------
 *
 * sql_source.c
 *	  A source argument (ml.train's, ml.least_certain's): a query or a
 *	  relation name.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "common/sql_source.h"

/*
 * A source is a query when it starts like one (SELECT, WITH, VALUES,
 * TABLE or a parenthesis); otherwise a relation name, which the caller
 * puts in FROM as written.
 */
bool
sql_source_is_query(const char *source)
{
	static const char *const starts[] = {"select", "with", "values", "table", "("};

	while (isspace((unsigned char) *source))
		source++;
	for (int i = 0; i < lengthof(starts); i++)
	{
		size_t		len = strlen(starts[i]);

		if (pg_strncasecmp(source, starts[i], len) == 0 &&
			(len == 1 || !isalnum((unsigned char) source[len])))
			return true;
	}
	return false;
}
