/* The per-user cache of unwrapped data keys (see keycache.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "repo/keycache.h"

#define ENTRY_LEN 48

/* HMAC-SHA256(key, label || d) into out[32]. */
static bool
mac(const void *key, size_t keylen, const char *label, const uint8_t d[32], uint8_t out[32])
{
	uint8_t		msg[64 + 32];
	size_t		n = strlen(label);
	unsigned int len = 32;

	if (n > 64)
		return false;
	memcpy(msg, label, n);
	memcpy(msg + n, d, 32);
	return HMAC(EVP_sha256(), key, (int) keylen, msg, n + 32, out, &len) != NULL && len == 32;
}

/* The cache directory, created if need be; false unless it is ours, private and real. */
static bool
cache_dir(char *dir, size_t len)
{
	struct stat st;

	snprintf(dir, len, KEYCACHE_DIR_FMT, (unsigned) geteuid());
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return false;
	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 077) == 0;
}

/* The entry's path and mask for this key file and passphrase. */
static bool
entry_of(const char *keyfile, const char *passphrase, char *path, size_t len, uint8_t mask[32], uint8_t d[32])
{
	char		dir[64];
	uint8_t		name[32];
	char		hex[33];

	if (!cache_dir(dir, sizeof(dir)))
		return false;
	SHA256((const unsigned char *) keyfile, strlen(keyfile), d);
	if (!mac(passphrase, strlen(passphrase), "pgbkp keycache name v1", d, name) ||
		!mac(passphrase, strlen(passphrase), "pgbkp keycache mask v1", d, mask))
		return false;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", name[i]);
	snprintf(path, len, "%s/%s", dir, hex);
	return true;
}

bool
keycache_get(const char *keyfile, const char *passphrase, uint8_t dek[32])
{
	char		path[128];
	uint8_t		mask[32],
				d[32],
				entry[ENTRY_LEN],
				check[32];
	struct stat st;
	bool		ok = false;
	int			fd;

	if (!entry_of(keyfile, passphrase, path, sizeof(path), mask, d))
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		read(fd, entry, sizeof(entry)) == (ssize_t) sizeof(entry))
	{
		for (int i = 0; i < 32; i++)
			dek[i] = entry[i] ^ mask[i];
		ok = mac(dek, 32, "pgbkp keycache check v1", d, check) && CRYPTO_memcmp(check, entry + 32, 16) == 0;
		if (!ok)
			OPENSSL_cleanse(dek, 32);
	}
	close(fd);
	OPENSSL_cleanse(mask, sizeof(mask));
	OPENSSL_cleanse(entry, sizeof(entry));
	return ok;
}

void
keycache_put(const char *keyfile, const char *passphrase, const uint8_t dek[32])
{
	char		path[128];
	char		tmp[160];
	uint8_t		mask[32],
				d[32],
				entry[ENTRY_LEN],
				check[32];
	int			fd;

	if (!entry_of(keyfile, passphrase, path, sizeof(path), mask, d) ||
		!mac(dek, 32, "pgbkp keycache check v1", d, check))
		return;
	for (int i = 0; i < 32; i++)
		entry[i] = dek[i] ^ mask[i];
	memcpy(entry + 32, check, 16);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int) getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
	{
		bool		written = write(fd, entry, sizeof(entry)) == (ssize_t) sizeof(entry);

		close(fd);
		if (!written || rename(tmp, path) != 0)
			unlink(tmp);
	}
	OPENSSL_cleanse(mask, sizeof(mask));
	OPENSSL_cleanse(entry, sizeof(entry));
}
