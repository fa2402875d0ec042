/* placeholder: being written */
#ifndef PGBKP_HISTORY_H
#define PGBKP_HISTORY_H
#endif
