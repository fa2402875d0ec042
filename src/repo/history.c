/* placeholder: being written */
#include "repo/history.h"
typedef int pgbkp_placeholder_history;
