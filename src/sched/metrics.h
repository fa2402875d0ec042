/* placeholder: being written */
#ifndef PGBKP_METRICS_H
#define PGBKP_METRICS_H
#endif
