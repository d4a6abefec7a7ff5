/*-------------------------------------------------------------------------
 *
 * named_version.h
 *	  The registry row a call names: a model's given version, or the one
 *	  deployed now.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_NAMED_VERSION_H
#define LEARNLOOP_NAMED_VERSION_H

typedef struct NamedVersion
{
	int			version;
	char	   *task;			/* classification, regression or ranking */
} NamedVersion;

extern NamedVersion named_version(text *model, Datum version, bool version_null);

#endif							/* LEARNLOOP_NAMED_VERSION_H */
