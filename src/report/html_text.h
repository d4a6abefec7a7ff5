/*-------------------------------------------------------------------------
 *
 * html_text.h
 *	  Text and numbers into an HTML page: escaping of everything that comes
 *	  from the database, and numbers rounded for people, with their units.
 *
 * Pure (StringInfo only, no backend call), so the unit test links it.
 * Every string read from a table (model and feature names, alert fields)
 * reaches the page through html_escape: a name "<script>" is shown as
 * text, never run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_REPORT_HTML_TEXT_H
#define LEARNLOOP_REPORT_HTML_TEXT_H

#include "lib/stringinfo.h"

/* How a number is shown */
typedef enum NumberUnit
{
	UNIT_COUNT,					/* whole number with thin-space thousands: 12 345 */
	UNIT_SHARE,					/* a 0..1 share as a percentage: 93.4 % */
	UNIT_MS,					/* milliseconds, three significant digits: 1.23 ms */
	UNIT_PLAIN					/* a distance or score, three significant digits */
} NumberUnit;

/* Appends s with & < > " ' replaced by their entities. */
extern void html_escape(StringInfo out, const char *s);

/*
 * Appends s escaped, cut to at most max_chars characters (UTF-8: a cut
 * never splits a character) with an ellipsis when cut.
 */
extern void html_escape_clipped(StringInfo out, const char *s, int max_chars);

/* Appends v in its unit; NaN and the infinities show as an em dash. */
extern void html_number(StringInfo out, double v, NumberUnit unit);

#endif							/* LEARNLOOP_REPORT_HTML_TEXT_H */
