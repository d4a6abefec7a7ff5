/* learnloop 0.2.0 -> 0.3.0: trust (no crash, no silent failure, no unsafe automatic deployment) */
\echo Use "ALTER EXTENSION learnloop UPDATE TO '0.3.0'" to load this file. \quit
