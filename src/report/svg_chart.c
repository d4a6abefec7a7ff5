/*-------------------------------------------------------------------------
 *
 * svg_chart.c
 *	  Time series, calibration curve and drift bars as inline SVG.
 *
 * Coordinates are written with one decimal: enough for a page, and the
 * same bytes on every platform (the regression tests compare them).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "report/svg_chart.h"

/* a time chart's canvas, in viewBox units */
#define TC_WIDTH	600.0
#define TC_HEIGHT	240.0
#define TC_LEFT		64.0
#define TC_RIGHT	16.0
#define TC_TOP		30.0
#define TC_BOTTOM	30.0

/* series colours, told apart by people with the common colour blindnesses */
static const char *const palette[] = {"#2563eb", "#ea580c", "#059669", "#9333ea"};

#define PALETTE_SIZE lengthof(palette)

/* above this many points a line shows no markers: they would be a smear */
#define MAX_MARKERS 60

#define COLOUR_DRIFTED		"#dc2626"
#define COLOUR_STABLE		"#16a34a"
#define COLOUR_UNJUDGED		"#9ca3af"
#define COLOUR_AXIS			"#6b7280"
#define COLOUR_GRID			"#e5e7eb"

/* the width of a character of the 12-unit sans-serif font, a little generous */
#define LEGEND_CHAR_WIDTH 6.8

static int
utf8_chars(const char *s)
{
	int			n = 0;

	for (; *s; s++)
		n += ((unsigned char) *s & 0xC0) != 0x80;
	return n;
}

static void
open_svg(StringInfo out, double width, double height, const char *title)
{
	appendStringInfo(out,
					 "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
					 "role=\"img\" class=\"chart\" font-family=\"sans-serif\" font-size=\"12\">"
					 "<title>", width, height);
	html_escape(out, title);
	appendStringInfoString(out, "</title>");
}

/*
 * The smallest "nice" step (1, 2 or 5 times a power of ten) that cuts
 * 0 .. max into at most four parts; whole numbers for counts.
 */
static double
nice_step(double max, bool whole)
{
	double		raw = max / 4.0;
	double		power = pow(10.0, floor(log10(raw)));
	double		step;

	if (raw / power <= 1.0)
		step = power;
	else if (raw / power <= 2.0)
		step = 2.0 * power;
	else if (raw / power <= 5.0)
		step = 5.0 * power;
	else
		step = 10.0 * power;
	return whole ? Max(step, 1.0) : step;
}

static void
append_text(StringInfo out, double x, double y, const char *anchor, const char *fill,
			const char *text)
{
	appendStringInfo(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">",
					 x, y, anchor, fill);
	html_escape(out, text);
	appendStringInfoString(out, "</text>");
}

/* a number as a label: formatted into a scratch buffer, then escaped */
static void
append_number_text(StringInfo out, double x, double y, const char *anchor, double v,
				   NumberUnit unit)
{
	StringInfoData label;

	initStringInfo(&label);
	html_number(&label, v, unit);
	append_text(out, x, y, anchor, COLOUR_AXIS, label.data);
	pfree(label.data);
}

void
svg_time_chart(StringInfo out, const TimeChart *chart)
{
	double		xmin = INFINITY,
				xmax = -INFINITY,
				ymax = 0.0,
				step,
				plot_w = TC_WIDTH - TC_LEFT - TC_RIGHT,
				legend_x = TC_LEFT,
				plot_h = TC_HEIGHT - TC_TOP - TC_BOTTOM;
	int			i,
				s;

	for (i = 0; i < chart->npoints; i++)
	{
		if (!isfinite(chart->x[i]))
			continue;
		xmin = Min(xmin, chart->x[i]);
		xmax = Max(xmax, chart->x[i]);
		for (s = 0; s < chart->nseries; s++)
			if (isfinite(chart->series[s].y[i]))
				ymax = Max(ymax, chart->series[s].y[i]);
	}
	if (!(xmin < xmax))
	{
		/* one window (or none): it sits in the middle */
		xmin = isfinite(xmin) ? xmin - 1.0 : 0.0;
		xmax = xmin + 2.0;
	}
	if (chart->share)
	{
		ymax = 1.0;
		step = 0.25;
	}
	else
	{
		/* a value near DBL_MAX (from a row written by hand) must not round the axis to infinity */
		ymax = Min(ymax, 1e300);
		step = nice_step(ymax > 0.0 ? ymax : 1.0, chart->unit == UNIT_COUNT);
		ymax = step * Max(1.0, ceil(ymax / step - 1e-9));
	}

#define PX(x) (TC_LEFT + ((x) - xmin) / (xmax - xmin) * plot_w)
#define PY(y) (TC_TOP + plot_h - (Max(0.0, Min((y), ymax)) / ymax) * plot_h)

	open_svg(out, TC_WIDTH, TC_HEIGHT, chart->title);

	/* horizontal grid and the y axis labels */
	for (i = 0; i <= 4 && i * step <= ymax * (1 + 1e-9); i++)
	{
		double		y = PY(i * step);

		appendStringInfo(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>",
						 TC_LEFT, y, TC_WIDTH - TC_RIGHT, y, i == 0 ? COLOUR_AXIS : COLOUR_GRID);
		append_number_text(out, TC_LEFT - 6, y + 4, "end", i * step,
						   chart->share ? UNIT_SHARE : chart->unit);
	}

	/* time ticks */
	for (i = 0; i < chart->nticks; i++)
	{
		double		x;

		if (!(chart->ticks[i].x >= xmin && chart->ticks[i].x <= xmax))
			continue;
		x = PX(chart->ticks[i].x);
		appendStringInfo(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>",
						 x, TC_TOP + plot_h, x, TC_TOP + plot_h + 4, COLOUR_AXIS);
		append_text(out, x, TC_HEIGHT - 10,
					i == 0 ? "start" : (i == chart->nticks - 1 ? "end" : "middle"),
					COLOUR_AXIS, chart->ticks[i].label);
	}

	for (s = 0; s < chart->nseries; s++)
	{
		const char *colour = palette[s % PALETTE_SIZE];
		bool		open = false;
		int			shown = 0;

		/* the legend, left to right above the plot, each entry as wide as its label */
		appendStringInfo(out, "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\" rx=\"2\" fill=\"%s\"/>",
						 legend_x, colour);
		append_text(out, legend_x + 18, 18, "start", "#111827", chart->series[s].label);
		legend_x += 18 + LEGEND_CHAR_WIDTH * utf8_chars(chart->series[s].label) + 16;

		/* the line, broken where a value is missing */
		for (i = 0; i < chart->npoints; i++)
		{
			double		y = chart->series[s].y[i];

			if (!isfinite(y) || !isfinite(chart->x[i]))
			{
				if (open)
					appendStringInfoString(out, "\"/>");
				open = false;
				continue;
			}
			if (!open)
				appendStringInfo(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
								 "stroke-linejoin=\"round\" points=\"", colour);
			else
				appendStringInfoChar(out, ' ');
			appendStringInfo(out, "%.1f,%.1f", PX(chart->x[i]), PY(y));
			open = true;
			shown++;
		}
		if (open)
			appendStringInfoString(out, "\"/>");

		/* markers, with the value on hover, where there are few points */
		if (shown > MAX_MARKERS)
			continue;
		for (i = 0; i < chart->npoints; i++)
		{
			double		y = chart->series[s].y[i];

			if (!isfinite(y) || !isfinite(chart->x[i]))
				continue;
			appendStringInfo(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>",
							 PX(chart->x[i]), PY(y), colour);
			html_escape(out, chart->series[s].label);
			appendStringInfoString(out, ": ");
			html_number(out, y, chart->share ? UNIT_SHARE : chart->unit);
			appendStringInfoString(out, "</title></circle>");
		}
	}
	appendStringInfoString(out, "</svg>");
#undef PX
#undef PY
}

/* the calibration square, in viewBox units */
#define CAL_SIZE	360.0
#define CAL_MARGIN	60.0

void
svg_calibration(StringInfo out, const CalibrationPoint *points, int npoints)
{
	double		side = CAL_SIZE - 2 * CAL_MARGIN;
	double		total = 0.0;
	bool		open = false;
	int			i;

#define CX(p) (CAL_MARGIN + (p) * side)
#define CY(o) (CAL_MARGIN + (1.0 - (o)) * side)
#define USABLE(pt) ((pt).predicted >= 0.0 && (pt).predicted <= 1.0 && \
					(pt).observed >= 0.0 && (pt).observed <= 1.0 && \
					(pt).count >= 0.0 && isfinite((pt).count))

	for (i = 0; i < npoints; i++)
		if (USABLE(points[i]))
			total += points[i].count;

	open_svg(out, CAL_SIZE, CAL_SIZE, "Calibration curve: observed against predicted");
	appendStringInfo(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"%s\"/>",
					 CAL_MARGIN, CAL_MARGIN, side, side, COLOUR_AXIS);
	for (i = 0; i <= 4; i++)
	{
		double		v = i / 4.0;

		appendStringInfo(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>",
						 CX(0.0), CY(v), CX(1.0), CY(v), COLOUR_GRID);
		append_number_text(out, CX(0.0) - 6, CY(v) + 4, "end", v, UNIT_PLAIN);
		append_number_text(out, CX(v), CY(0.0) + 16, "middle", v, UNIT_PLAIN);
	}
	appendStringInfo(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
					 "stroke-dasharray=\"6 4\"><title>perfect calibration</title></line>",
					 CX(0.0), CY(0.0), CX(1.0), CY(1.0), COLOUR_AXIS);
	append_text(out, CAL_SIZE / 2, CAL_SIZE - 8, "middle", "#111827", "mean predicted (confidence)");
	appendStringInfo(out, "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#111827\" "
					 "transform=\"rotate(-90 14 %.1f)\">observed (accuracy)</text>",
					 CAL_SIZE / 2, CAL_SIZE / 2);

	for (i = 0; i < npoints; i++)
	{
		if (!USABLE(points[i]))
			continue;
		appendStringInfoString(out, open ? " " :
							   "<polyline fill=\"none\" stroke=\"#2563eb\" stroke-width=\"2\" points=\"");
		appendStringInfo(out, "%.1f,%.1f", CX(points[i].predicted), CY(points[i].observed));
		open = true;
	}
	if (open)
		appendStringInfoString(out, "\"/>");
	for (i = 0; i < npoints; i++)
	{
		/* area in proportion to the bin's rows: radius 3 .. 12 */
		double		r;

		if (!USABLE(points[i]))
			continue;
		r = 3.0 + 9.0 * (total > 0 ? sqrt(points[i].count / total) : 0.0);
		appendStringInfo(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#2563eb\" "
						 "fill-opacity=\"0.6\"><title>predicted ",
						 CX(points[i].predicted), CY(points[i].observed), r);
		html_number(out, points[i].predicted, UNIT_PLAIN);
		appendStringInfoString(out, ", observed ");
		html_number(out, points[i].observed, UNIT_PLAIN);
		appendStringInfoString(out, ", ");
		html_number(out, points[i].count, UNIT_COUNT);
		appendStringInfoString(out, " rows</title></circle>");
	}
	appendStringInfoString(out, "</svg>");
#undef CX
#undef CY
#undef USABLE
}

/* the drift chart's layout, in viewBox units */
#define DB_WIDTH	520.0
#define DB_LABEL	160.0			/* room for the feature names */
#define DB_VALUE	120.0			/* room for the value after the longest bar */
#define DB_ROW		26.0
#define DB_TOP		24.0
#define DB_LABEL_CHARS 22

void
svg_drift_bars(StringInfo out, const DriftBar *bars, int nbars, double threshold)
{
	double		max = threshold * 2.0,
				plot_w = DB_WIDTH - DB_LABEL - DB_VALUE,
				height = DB_TOP + nbars * DB_ROW + 10.0,
				tx;
	int			i;

	for (i = 0; i < nbars; i++)
		if (isfinite(bars[i].distance))
			max = Max(max, bars[i].distance);

#define BX(v) (DB_LABEL + (Max(0.0, (v)) / max) * plot_w)

	open_svg(out, DB_WIDTH, height, "Drift per feature: distance against the threshold");
	for (i = 0; i < nbars; i++)
	{
		const DriftBar *bar = &bars[i];
		double		y = DB_TOP + i * DB_ROW;
		const char *colour = bar->drifted > 0 ? COLOUR_DRIFTED :
			(bar->drifted == 0 ? COLOUR_STABLE : COLOUR_UNJUDGED);

		appendStringInfo(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#111827\"%s><title>",
						 DB_LABEL - 8, y + 15, bar->drifted > 0 ? " font-weight=\"bold\"" : "");
		html_escape(out, bar->label);
		appendStringInfoString(out, "</title>");
		html_escape_clipped(out, bar->label, DB_LABEL_CHARS);
		appendStringInfoString(out, "</text>");

		if (!isfinite(bar->distance))
		{
			append_text(out, DB_LABEL + 4, y + 15, "start", COLOUR_UNJUDGED, "no value");
			continue;
		}
		appendStringInfo(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" rx=\"2\" fill=\"%s\"/>",
						 DB_LABEL, y + 2, Max(1.0, BX(bar->distance) - DB_LABEL), colour);
		appendStringInfo(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">",
						 BX(bar->distance) + 6, y + 15, colour);
		html_number(out, bar->distance, UNIT_PLAIN);
		appendStringInfoString(out, bar->drifted > 0 ? " drifted" :
							   (bar->drifted < 0 ? " not judged" : ""));
		appendStringInfoString(out, "</text>");
	}
	tx = BX(threshold);
	appendStringInfo(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#111827\" "
					 "stroke-dasharray=\"5 4\"/>", tx, DB_TOP - 4, tx, height - 6);
	appendStringInfo(out, "<text x=\"%.1f\" y=\"14\" text-anchor=\"middle\" fill=\"#111827\">threshold ",
					 tx);
	html_number(out, threshold, UNIT_PLAIN);
	appendStringInfoString(out, "</text></svg>");
#undef BX
}
