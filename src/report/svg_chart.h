/*-------------------------------------------------------------------------
 *
 * svg_chart.h
 *	  The report's pictures as inline SVG: a time series chart, the
 *	  calibration curve and the drift bars.
 *
 * Pure (StringInfo only, no backend call), so the unit test links it.  The
 * caller hands over numbers and already-decided labels; every label is
 * escaped here (report/html_text.h).  NaN marks a missing value: a line
 * breaks there, a bar says "no value".  The SVG is sized by its viewBox
 * and scales with the page; colours are attributes, so it draws the same
 * without the page's CSS.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_REPORT_SVG_CHART_H
#define LEARNLOOP_REPORT_SVG_CHART_H

#include "lib/stringinfo.h"
#include "report/html_text.h"

/* One line of a time series chart: y[i] belongs to the chart's x[i]. */
typedef struct ChartSeries
{
	const char *label;
	const double *y;
} ChartSeries;

/* A tick on the time axis, labelled by the caller (it knows the time zone). */
typedef struct ChartTick
{
	double		x;
	const char *label;
} ChartTick;

typedef struct TimeChart
{
	const char *title;			/* read by screen readers, shown on hover */
	int			npoints;
	const double *x;			/* ascending, e.g. seconds since the epoch */
	int			nseries;
	const ChartSeries *series;
	NumberUnit	unit;			/* of the y axis */
	bool		share;			/* y is a 0..1 share: the axis is 0 .. 100 % */
	int			nticks;
	const ChartTick *ticks;
} TimeChart;

/* Appends one <svg> with the series as lines, the y axis from 0. */
extern void svg_time_chart(StringInfo out, const TimeChart *chart);

/* A point of the calibration curve (one ECE bin). */
typedef struct CalibrationPoint
{
	double		predicted;		/* mean predicted probability (confidence), 0..1 */
	double		observed;		/* observed share right, 0..1 */
	double		count;			/* rows in the bin */
} CalibrationPoint;

/*
 * Appends the calibration curve: the points in the order given (ascending
 * prediction), their area in proportion to their count, and the diagonal
 * of perfect calibration.  Points outside 0..1 or with a NaN are left out.
 */
extern void svg_calibration(StringInfo out, const CalibrationPoint *points, int npoints);

/* The drift of one feature (or of the predictions). */
typedef struct DriftBar
{
	const char *label;
	double		distance;		/* NaN: none measured */
	int			drifted;		/* 1 drifted, 0 not, -1 not judged */
} DriftBar;

/*
 * Appends horizontal bars of the distances, one per feature, against a
 * dashed line at threshold; drifted bars are red and say so, those not
 * judged are grey.
 */
extern void svg_drift_bars(StringInfo out, const DriftBar *bars, int nbars, double threshold);

#endif							/* LEARNLOOP_REPORT_SVG_CHART_H */
