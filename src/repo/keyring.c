/*
 * The repository key file (see keyring.h): create a data key and wrap it
 * under scrypt(passphrase), or unwrap it.  Key material lives in local
 * arrays and is wiped with OPENSSL_cleanse before returning; nothing
 * secret goes into an error message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "repo/keyring.h"

#define SALT_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define WRAPPED_LEN (KEYRING_KEY_LEN + TAG_LEN)
#define WRAP_AAD "pgbkp keyring v1"
#define KDF_R 8
#define KDF_P 1
#define MIN_N ((uint64_t) 1 << 10)
#define MAX_N ((uint64_t) 1 << 20)
#define MAX_R 32
#define MAX_P 16
#define MAX_MEM ((uint64_t) 256 << 20)
#define MIN_PASSPHRASE_CHARS 12

static const char *const weak_passphrases[] = {
	"pgBackRest", "pigsty", "DBUser.Backup", "S3User.Backup", "password",
	"changeme", "secret", "test", "passphrase", "Pigsty.Backup", NULL
};

/* ------------------------------------------------------------ helpers */

static void
hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2*len lower-case hex digits into out. */
static bool
hex_decode(const char *in, size_t in_len, uint8_t *out, size_t len)
{
	if (in_len != 2 * len)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		int			hi = hex_value(in[2 * i]);
		int			lo = hex_value(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t) (hi << 4 | lo);
	}
	return true;
}

static bool
kdf_params_valid(uint64_t n, uint64_t r, uint64_t p)
{
	if (n < MIN_N || n > MAX_N || (n & (n - 1)) != 0)
		return false;
	if (r < 1 || r > MAX_R || p < 1 || p > MAX_P)
		return false;
	return 128 * r * n <= MAX_MEM;
}

static int
derive_kek(const char *passphrase, const uint8_t salt[SALT_LEN], uint64_t n, uint64_t r, uint64_t p,
		   uint8_t kek[KEYRING_KEY_LEN], PgbError *err)
{
	/* scrypt needs 128*r*(N+2) + 128*r*p bytes; the bounds keep that under MAX_MEM + 1 MiB */
	uint64_t	maxmem = MAX_MEM + ((uint64_t) 1 << 20);

	if (EVP_PBE_scrypt(passphrase, strlen(passphrase), salt, SALT_LEN, n, r, p, maxmem,
					   kek, KEYRING_KEY_LEN) != 1)
		return pgb_error(err, EXIT_INTERNAL, "could not derive the key encryption key (scrypt N=%llu r=%llu p=%llu)",
						 (unsigned long long) n, (unsigned long long) r, (unsigned long long) p);
	return 0;
}

/* AES-256-GCM of the DEK under kek; out is the ciphertext then the tag. */
static int
wrap_key(const uint8_t kek[KEYRING_KEY_LEN], const uint8_t nonce[NONCE_LEN],
		 const uint8_t dek[KEYRING_KEY_LEN], uint8_t out[WRAPPED_LEN], PgbError *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			outl;
	int			ok;

	ok = ctx != NULL &&
		EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, nonce) == 1 &&
		EVP_EncryptUpdate(ctx, NULL, &outl, (const uint8_t *) WRAP_AAD, (int) strlen(WRAP_AAD)) == 1 &&
		EVP_EncryptUpdate(ctx, out, &outl, dek, KEYRING_KEY_LEN) == 1 && outl == KEYRING_KEY_LEN &&
		EVP_EncryptFinal_ex(ctx, out + KEYRING_KEY_LEN, &outl) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + KEYRING_KEY_LEN) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return pgb_error(err, EXIT_INTERNAL, "could not wrap the data key");
	return 0;
}

/* 1: unwrapped; 0: the tag does not verify; -1: OpenSSL failure (err set). */
static int
unwrap_key(const uint8_t kek[KEYRING_KEY_LEN], const uint8_t nonce[NONCE_LEN],
		   const uint8_t wrapped[WRAPPED_LEN], uint8_t dek[KEYRING_KEY_LEN], PgbError *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t		tag[TAG_LEN];
	int			outl;
	int			rc;

	memcpy(tag, wrapped + KEYRING_KEY_LEN, TAG_LEN);
	if (ctx == NULL ||
		EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, nonce) != 1 ||
		EVP_DecryptUpdate(ctx, NULL, &outl, (const uint8_t *) WRAP_AAD, (int) strlen(WRAP_AAD)) != 1 ||
		EVP_DecryptUpdate(ctx, dek, &outl, wrapped, KEYRING_KEY_LEN) != 1 || outl != KEYRING_KEY_LEN ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
	{
		EVP_CIPHER_CTX_free(ctx);
		OPENSSL_cleanse(dek, KEYRING_KEY_LEN);
		return pgb_error(err, EXIT_INTERNAL, "could not unwrap the data key");
	}
	rc = EVP_DecryptFinal_ex(ctx, dek + KEYRING_KEY_LEN, &outl) > 0 ? 1 : 0;
	EVP_CIPHER_CTX_free(ctx);
	if (rc == 0)
		OPENSSL_cleanse(dek, KEYRING_KEY_LEN);
	return rc;
}

/* ------------------------------------------------------------ create */

int
keyring_create_n(const char *passphrase, uint64_t n, char **json_out,
				 uint8_t dek_out[KEYRING_KEY_LEN], PgbError *err)
{
	uint8_t		salt[SALT_LEN];
	uint8_t		nonce[NONCE_LEN];
	uint8_t		kek[KEYRING_KEY_LEN];
	uint8_t		wrapped[WRAPPED_LEN];
	char		salt_hex[2 * SALT_LEN + 1];
	char		nonce_hex[2 * NONCE_LEN + 1];
	char		wrapped_hex[2 * WRAPPED_LEN + 1];
	json_object *o;
	const char *text;
	int			rc;

	*json_out = NULL;
	if (passphrase == NULL || passphrase[0] == '\0')
		return pgb_error(err, EXIT_CONFIG, "the encryption passphrase is empty");
	if (!kdf_params_valid(n, KDF_R, KDF_P))
		return pgb_error(err, EXIT_INTERNAL, "scrypt N=%llu is out of bounds", (unsigned long long) n);
	if (RAND_bytes(dek_out, KEYRING_KEY_LEN) != 1 || RAND_bytes(salt, SALT_LEN) != 1 ||
		RAND_bytes(nonce, NONCE_LEN) != 1)
	{
		OPENSSL_cleanse(dek_out, KEYRING_KEY_LEN);
		return pgb_error(err, EXIT_INTERNAL, "could not generate random bytes");
	}
	rc = derive_kek(passphrase, salt, n, KDF_R, KDF_P, kek, err);
	if (rc == 0)
		rc = wrap_key(kek, nonce, dek_out, wrapped, err);
	OPENSSL_cleanse(kek, sizeof(kek));
	if (rc != 0)
	{
		OPENSSL_cleanse(dek_out, KEYRING_KEY_LEN);
		return -1;
	}
	hex_encode(salt, SALT_LEN, salt_hex);
	hex_encode(nonce, NONCE_LEN, nonce_hex);
	hex_encode(wrapped, WRAPPED_LEN, wrapped_hex);

	o = json_object_new_object();
	if (o == NULL)
		goto oom;
	json_object_object_add(o, "format", json_object_new_int(KEYRING_FORMAT));
	json_object_object_add(o, "cipher", json_object_new_string("aes-256-gcm"));
	json_object_object_add(o, "kdf", json_object_new_string("scrypt"));
	json_object_object_add(o, "kdf_n", json_object_new_int64((int64_t) n));
	json_object_object_add(o, "kdf_r", json_object_new_int(KDF_R));
	json_object_object_add(o, "kdf_p", json_object_new_int(KDF_P));
	json_object_object_add(o, "salt", json_object_new_string(salt_hex));
	json_object_object_add(o, "nonce", json_object_new_string(nonce_hex));
	json_object_object_add(o, "wrapped_key", json_object_new_string(wrapped_hex));
	json_object_object_add(o, "created", json_object_new_int64((int64_t) time(NULL)));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	*json_out = text ? strdup(text) : NULL;
	json_object_put(o);
	if (*json_out == NULL)
		goto oom;
	return 0;

oom:
	OPENSSL_cleanse(dek_out, KEYRING_KEY_LEN);
	return pgb_error(err, EXIT_INTERNAL, "out of memory");
}

int
keyring_create(const char *passphrase, char **json_out, uint8_t dek_out[KEYRING_KEY_LEN], PgbError *err)
{
	return keyring_create_n(passphrase, KEYRING_DEFAULT_N, json_out, dek_out, err);
}

/* ------------------------------------------------------------ open */

static int
bad_field(const char *field, const char *expected, PgbError *err)
{
	return pgb_error(err, EXIT_CORRUPT, "malformed encryption key file: \"%s\" is missing or not %s",
					 field, expected);
}

static int
get_int(json_object *o, const char *field, int64_t *out, PgbError *err)
{
	json_object *v;

	if (!json_object_object_get_ex(o, field, &v) || !json_object_is_type(v, json_type_int))
		return bad_field(field, "an integer", err);
	*out = json_object_get_int64(v);
	return 0;
}

static int
get_string(json_object *o, const char *field, const char **out, size_t *len, PgbError *err)
{
	json_object *v;

	if (!json_object_object_get_ex(o, field, &v) || !json_object_is_type(v, json_type_string))
		return bad_field(field, "a string", err);
	*out = json_object_get_string(v);
	*len = (size_t) json_object_get_string_len(v);
	return 0;
}

static int
get_hex(json_object *o, const char *field, uint8_t *out, size_t len, PgbError *err)
{
	const char *s;
	size_t		slen;
	char		expected[64];

	if (get_string(o, field, &s, &slen, err) != 0)
		return -1;
	if (!hex_decode(s, slen, out, len))
	{
		snprintf(expected, sizeof(expected), "%zu lower-case hex digits", 2 * len);
		return bad_field(field, expected, err);
	}
	return 0;
}

/* The string field must be exactly want (a known name). */
static int
expect_string(json_object *o, const char *field, const char *want, PgbError *err)
{
	const char *s;
	size_t		len;

	if (get_string(o, field, &s, &len, err) != 0)
		return -1;
	if (len != strlen(want) || strcmp(s, want) != 0)
		return pgb_error(err, EXIT_CORRUPT, "encryption key file: unknown %s \"%.32s\" (this pgbkp knows \"%s\")",
						 field, s, want);
	return 0;
}

int
keyring_open(const char *json, const char *passphrase, uint8_t dek_out[KEYRING_KEY_LEN], PgbError *err)
{
	json_object *o = json_tokener_parse(json);
	int64_t		format;
	int64_t		n;
	int64_t		r;
	int64_t		p;
	int64_t		created;
	uint8_t		salt[SALT_LEN];
	uint8_t		nonce[NONCE_LEN];
	uint8_t		wrapped[WRAPPED_LEN];
	uint8_t		kek[KEYRING_KEY_LEN];
	int			rc = -1;

	if (o == NULL || !json_object_is_type(o, json_type_object))
	{
		pgb_error(err, EXIT_CORRUPT, "malformed encryption key file: not a JSON object");
		goto done;
	}
	if (get_int(o, "format", &format, err) != 0)
		goto done;
	if (format != KEYRING_FORMAT)
	{
		pgb_error(err, EXIT_CORRUPT, "encryption key file has format %lld; this pgbkp reads format %d",
				  (long long) format, KEYRING_FORMAT);
		goto done;
	}
	if (expect_string(o, "cipher", "aes-256-gcm", err) != 0 ||
		expect_string(o, "kdf", "scrypt", err) != 0 ||
		get_int(o, "kdf_n", &n, err) != 0 || get_int(o, "kdf_r", &r, err) != 0 ||
		get_int(o, "kdf_p", &p, err) != 0 || get_int(o, "created", &created, err) != 0 ||
		get_hex(o, "salt", salt, SALT_LEN, err) != 0 ||
		get_hex(o, "nonce", nonce, NONCE_LEN, err) != 0 ||
		get_hex(o, "wrapped_key", wrapped, WRAPPED_LEN, err) != 0)
		goto done;
	if (n < 0 || r < 0 || p < 0 || !kdf_params_valid((uint64_t) n, (uint64_t) r, (uint64_t) p))
	{
		pgb_error(err, EXIT_CORRUPT,
				  "encryption key file: scrypt parameters N=%lld r=%lld p=%lld are out of bounds",
				  (long long) n, (long long) r, (long long) p);
		goto done;
	}
	if (passphrase == NULL || passphrase[0] == '\0')
	{
		pgb_error(err, EXIT_CONFIG, "the encryption passphrase is empty");
		goto done;
	}
	if (derive_kek(passphrase, salt, (uint64_t) n, (uint64_t) r, (uint64_t) p, kek, err) != 0)
		goto done;
	rc = unwrap_key(kek, nonce, wrapped, dek_out, err);
	OPENSSL_cleanse(kek, sizeof(kek));
	if (rc == 0)
	{
		pgb_error(err, EXIT_CONFIG, "wrong passphrase for the encrypted repository (or its key file is damaged)");
		pgb_hint(err, "check cipher_pass (or cipher_pass_file, PGBKP_REPO_<NAME>_CIPHER_PASS, PGBKP_CIPHER_PASS): "
				 "it must be the passphrase the repository was created with");
		rc = -1;
	}
	else if (rc == 1)
		rc = 0;
done:
	json_object_put(o);
	return rc;
}

/* ------------------------------------------------------------ checks */

bool
keyring_passphrase_is_weak(const char *passphrase)
{
	size_t		chars = 0;

	if (passphrase == NULL)
		return true;
	for (int i = 0; weak_passphrases[i] != NULL; i++)
		if (strcasecmp(passphrase, weak_passphrases[i]) == 0)
			return true;
	/* characters, not bytes: UTF-8 continuation bytes do not count */
	for (const unsigned char *c = (const unsigned char *) passphrase; *c; c++)
		if ((*c & 0xc0) != 0x80)
			chars++;
	return chars < MIN_PASSPHRASE_CHARS;
}

bool
keyring_cipher_type_valid(const char *cipher_type)
{
	if (cipher_type == NULL)
		return false;
	return strcmp(cipher_type, "none") == 0 ||
		(strncasecmp(cipher_type, "aes-256-", 8) == 0 && cipher_type[8] != '\0');
}
