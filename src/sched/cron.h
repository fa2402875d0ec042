/* placeholder: being written */
#ifndef PGBKP_CRON_H
#define PGBKP_CRON_H
#endif
