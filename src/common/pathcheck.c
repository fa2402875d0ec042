/* Path validation (see pathcheck.h). */
#include <string.h>

#include "common/pathcheck.h"

#define PATHCHECK_MAX 1023

static int
check_components(const char *path, const char *start, PgbError *err)
{
	const char *p = start;

	for (;;)
	{
		const char *slash = strchr(p, '/');
		size_t		len = slash ? (size_t) (slash - p) : strlen(p);

		if (len == 0)
			return pgb_error(err, EXIT_CORRUPT, "unsafe path \"%s\": empty component", path);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return pgb_error(err, EXIT_CORRUPT, "unsafe path \"%s\": \"%.*s\" component", path, (int) len, p);
		if (slash == NULL)
			return 0;
		p = slash + 1;
	}
}

static int
check_common(const char *path, PgbError *err)
{
	size_t		len = strlen(path);

	if (len == 0)
		return pgb_error(err, EXIT_CORRUPT, "unsafe path: empty");
	if (len > PATHCHECK_MAX)
		return pgb_error(err, EXIT_CORRUPT, "unsafe path: longer than %d bytes", PATHCHECK_MAX);
	for (const unsigned char *c = (const unsigned char *) path; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return pgb_error(err, EXIT_CORRUPT, "unsafe path \"%s\": control character", path);
	return 0;
}

int
path_check_relative(const char *path, PgbError *err)
{
	if (check_common(path, err) != 0)
		return -1;
	if (path[0] == '/')
		return pgb_error(err, EXIT_CORRUPT, "unsafe path \"%s\": absolute", path);
	return check_components(path, path, err);
}

int
path_check_absolute(const char *path, PgbError *err)
{
	if (check_common(path, err) != 0)
		return -1;
	if (path[0] != '/')
		return pgb_error(err, EXIT_CORRUPT, "unsafe path \"%s\": not absolute", path);
	if (path[1] == '\0')
		return pgb_error(err, EXIT_CORRUPT, "unsafe path \"/\": the root directory");
	return check_components(path, path + 1, err);
}
