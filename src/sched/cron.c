/* placeholder: being written */
#include "sched/cron.h"
typedef int pgbkp_placeholder_cron;
