/* placeholder: being written */
#include "sched/metrics.h"
typedef int pgbkp_placeholder_metrics;
