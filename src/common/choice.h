/*-------------------------------------------------------------------------
 *
 * choice.h
 *	  Arguments that take one of a fixed list of words.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_CHOICE_H
#define LEARNLOOP_CHOICE_H

extern int	choice_index(const char *value, const char *argname,
						 const char *const *choices, int nchoices);

#endif							/* LEARNLOOP_CHOICE_H */
