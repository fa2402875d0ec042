/*
 * What pgbkp says about itself: --help text for people and troff for the
 * man page, both generated from the command, option, repository-key and
 * exit-code tables.
 */
#ifndef PGBKP_HELP_H
#define PGBKP_HELP_H

/*
 * --help: topic NULL prints the commands and the global options; a command
 * name, that command's options (the global ones are one "pgbkp help
 * options" away); "options", the global options, the repository keys and
 * the exit status.
 */
void		config_print_help(const char *topic);

/*
 * Print the commands, options, repository keys, environment and exit-code
 * table as troff for the man page (hidden command-line flag --help-troff).
 */
void		config_print_troff(void);

#endif
