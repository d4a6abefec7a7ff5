/*-------------------------------------------------------------------------
 *
 * html_text.c
 *	  Escaping and number formatting for the HTML report.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "report/html_text.h"

void
html_escape(StringInfo out, const char *s)
{
	html_escape_clipped(out, s, -1);
}

void
html_escape_clipped(StringInfo out, const char *s, int max_chars)
{
	int			chars = 0;

	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		/* a UTF-8 continuation byte belongs to the character before it */
		if ((c & 0xC0) != 0x80 && max_chars >= 0 && chars++ == max_chars)
		{
			appendStringInfoString(out, "\xE2\x80\xA6");	/* … */
			return;
		}
		switch (c)
		{
			case '&':
				appendStringInfoString(out, "&amp;");
				break;
			case '<':
				appendStringInfoString(out, "&lt;");
				break;
			case '>':
				appendStringInfoString(out, "&gt;");
				break;
			case '"':
				appendStringInfoString(out, "&quot;");
				break;
			case '\'':
				appendStringInfoString(out, "&#39;");
				break;
			default:
				appendStringInfoChar(out, (char) c);
		}
	}
}

/*
 * Three significant digits, never in exponent notation (a page for people),
 * at most 4 decimals and no trailing zeros: 1234 -> 1234, 12.34 -> 12.3,
 * 0.01234 -> 0.0123, 0.0700 -> 0.07, 5.00 -> 5.
 */
static void
append_significant(StringInfo out, double v)
{
	double		a = fabs(v);
	int			decimals = 0;
	char		buf[64];
	int			len;

	if (a > 0 && a < 100)
		decimals = Min(4, 2 - (int) floor(log10(a)));
	len = snprintf(buf, sizeof(buf), "%.*f", decimals, fabs(v) < 1e18 ? v : (v < 0 ? -1e18 : 1e18));
	if (decimals > 0)
	{
		while (buf[len - 1] == '0')
			buf[--len] = '\0';
		if (buf[len - 1] == '.')
			buf[--len] = '\0';
	}
	/* -0.00001 rounds to -0 */
	appendStringInfoString(out, strcmp(buf, "-0") == 0 ? "0" : buf);
}

void
html_number(StringInfo out, double v, NumberUnit unit)
{
	if (!isfinite(v))
	{
		appendStringInfoString(out, "\xE2\x80\x94");	/* — */
		return;
	}
	switch (unit)
	{
		case UNIT_COUNT:
			{
				char		digits[64];
				int			len,
							i;

				/* counts above 1e18 are not counts a window holds */
				snprintf(digits, sizeof(digits), "%.0f", fabs(v) < 1e18 ? v : (v < 0 ? -1e18 : 1e18));
				len = strlen(digits);
				for (i = 0; i < len; i++)
				{
					int			left = len - i;

					appendStringInfoChar(out, digits[i]);
					if (left > 1 && left % 3 == 1 && digits[i] != '-')
						appendStringInfoString(out, "\xE2\x80\x89");	/* thin space */
				}
				break;
			}
		case UNIT_SHARE:
			appendStringInfo(out, "%.1f\xC2\xA0%%", v * 100.0);
			break;
		case UNIT_MS:
			append_significant(out, v);
			appendStringInfoString(out, "\xC2\xA0ms");
			break;
		case UNIT_PLAIN:
			append_significant(out, v);
			break;
	}
}
