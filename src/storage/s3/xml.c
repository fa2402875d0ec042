/*
 * The XML reader of the S3 driver (see xml.h).  Elements are found by
 * scanning: an element is parsed from its '<' to the end of its matching end
 * tag, skipping attributes, comments, CDATA sections and processing
 * instructions, and recursing (bounded by XML_MAX_DEPTH) into children only
 * to find where they end.  All scanning is bounded by an explicit end
 * pointer; nothing here relies on NUL termination of the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/membuf.h"
#include "storage/s3/xml.h"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
has_prefix(const char *p, const char *end, const char *lit)
{
	size_t		n = strlen(lit);

	return (size_t) (end - p) >= n && memcmp(p, lit, n) == 0;
}

/* First occurrence of lit in [p, end), or NULL. */
static const char *
find(const char *p, const char *end, const char *lit)
{
	size_t		n = strlen(lit);

	while ((size_t) (end - p) >= n)
	{
		const char *c = memchr(p, lit[0], (size_t) (end - p) - n + 1);

		if (c == NULL)
			return NULL;
		if (memcmp(c, lit, n) == 0)
			return c;
		p = c + 1;
	}
	return NULL;
}

static int
malformed(PgbError *err, const char *what)
{
	return pgb_error(err, EXIT_CORRUPT, "malformed XML in S3 response: %s", what);
}

/*
 * At a comment, CDATA section or processing instruction starting at *p,
 * move *p past it: 1 if one was skipped, 0 if *p starts none, -1 if it is
 * unterminated.
 */
static int
skip_special(const char **p, const char *end, PgbError *err)
{
	static const struct
	{
		const char *open;
		const char *close;
	}			kinds[] = {{"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"<?", "?>"}};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
	{
		const char *close;

		if (!has_prefix(*p, end, kinds[i].open))
			continue;
		close = find(*p + strlen(kinds[i].open), end, kinds[i].close);
		if (close == NULL)
			return malformed(err, "unterminated comment, CDATA section or processing instruction");
		*p = close + strlen(kinds[i].close);
		return 1;
	}
	return 0;
}

static bool
is_name_end(char c)
{
	return is_space(c) || c == '/' || c == '>' || c == '=';
}

/*
 * Parse the element whose '<' is at p into *out; *after is set past its end
 * tag.  Text and children are checked only for well-nestedness.
 */
static int
parse_element(const char *p, const char *end, int depth, XmlNode *out,
			  const char **after, PgbError *err)
{
	const char *q;

	if (depth > XML_MAX_DEPTH)
		return malformed(err, "elements nested too deeply");
	if (p >= end || *p != '<')
		return malformed(err, "expected an element");
	q = ++p;
	while (q < end && !is_name_end(*q))
		q++;
	if (q == p || *p == '!' || *p == '?' || *p == '/' || *p == '<')
		return malformed(err, "bad element name");
	out->name = p;
	out->namelen = (size_t) (q - p);

	/* attributes, up to '>' or '/>' */
	for (;;)
	{
		while (q < end && is_space(*q))
			q++;
		if (q >= end)
			return malformed(err, "unterminated start tag");
		if (*q == '/')
		{
			if (q + 1 >= end || q[1] != '>')
				return malformed(err, "bad empty-element tag");
			out->content = q + 2;
			out->len = 0;
			*after = q + 2;
			return 0;
		}
		if (*q == '>')
			break;
		/* name = "value" or 'value' */
		while (q < end && !is_name_end(*q))
			q++;
		while (q < end && is_space(*q))
			q++;
		if (q >= end || *q != '=')
			return malformed(err, "attribute without a value");
		q++;
		while (q < end && is_space(*q))
			q++;
		if (q >= end || (*q != '"' && *q != '\''))
			return malformed(err, "attribute value not quoted");
		{
			const char *close = memchr(q + 1, *q, (size_t) (end - q - 1));

			if (close == NULL)
				return malformed(err, "unterminated attribute value");
			q = close + 1;
		}
	}

	/* content, up to the matching end tag */
	out->content = ++q;
	for (;;)
	{
		const char *lt = memchr(q, '<', (size_t) (end - q));
		int			rc;

		if (lt == NULL)
			return malformed(err, "missing end tag");
		q = lt;
		if (has_prefix(q, end, "</"))
		{
			const char *name = q + 2;
			const char *ne = name;

			while (ne < end && !is_name_end(*ne))
				ne++;
			if ((size_t) (ne - name) != out->namelen || memcmp(name, out->name, out->namelen) != 0)
				return malformed(err, "mismatched end tag");
			while (ne < end && is_space(*ne))
				ne++;
			if (ne >= end || *ne != '>')
				return malformed(err, "unterminated end tag");
			out->len = (size_t) (q - out->content);
			*after = ne + 1;
			return 0;
		}
		rc = skip_special(&q, end, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
		{
			XmlNode		child;

			if (has_prefix(q, end, "<!"))
				return malformed(err, "unexpected declaration");
			if (parse_element(q, end, depth + 1, &child, &q, err) != 0)
				return -1;
		}
	}
}

int
xml_root(const char *doc, size_t len, XmlNode *root, PgbError *err)
{
	const char *p = doc;
	const char *end = doc + len;
	const char *after;

	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	for (;;)
	{
		int			rc;

		while (p < end && is_space(*p))
			p++;
		if (p >= end)
			return malformed(err, "no root element");
		if (has_prefix(p, end, "<![CDATA["))
			return malformed(err, "CDATA outside the root element");
		rc = skip_special(&p, end, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
	}
	if (*p != '<' || has_prefix(p, end, "<!"))
		return malformed(err, "no root element");
	/* the root is checked whole, so its views stay within the buffer */
	return parse_element(p, end, 0, root, &after, err);
}

bool
xml_is(const XmlNode *node, const char *name)
{
	const char *n = node->name;
	size_t		len = node->namelen;
	const char *colon = memchr(n, ':', len);

	if (colon != NULL)
	{
		len -= (size_t) (colon + 1 - n);
		n = colon + 1;
	}
	return strlen(name) == len && memcmp(n, name, len) == 0;
}

int
xml_next(const XmlNode *parent, const char *name, size_t *cursor, XmlNode *out, PgbError *err)
{
	const char *end = parent->content + parent->len;
	const char *p;

	if (*cursor > parent->len)
		return pgb_error(err, EXIT_INTERNAL, "XML cursor out of range");
	p = parent->content + *cursor;
	for (;;)
	{
		const char *lt = memchr(p, '<', (size_t) (end - p));
		int			rc;

		if (lt == NULL)
		{
			*cursor = parent->len;
			return 0;
		}
		p = lt;
		rc = skip_special(&p, end, err);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		if (has_prefix(p, end, "</") || has_prefix(p, end, "<!"))
			return malformed(err, "unexpected markup");
		if (parse_element(p, end, 1, out, &p, err) != 0)
			return -1;
		*cursor = (size_t) (p - parent->content);
		if (name == NULL || xml_is(out, name))
			return 1;
	}
}

int
xml_child(const XmlNode *parent, const char *name, XmlNode *out, PgbError *err)
{
	size_t		cursor = 0;

	return xml_next(parent, name, &cursor, out, err);
}

static int
append_utf8(MemBuf *b, uint32_t cp, PgbError *err)
{
	unsigned char u[4];
	size_t		n;

	if (cp < 0x80)
	{
		u[0] = (unsigned char) cp;
		n = 1;
	}
	else if (cp < 0x800)
	{
		u[0] = (unsigned char) (0xC0 | (cp >> 6));
		u[1] = (unsigned char) (0x80 | (cp & 0x3F));
		n = 2;
	}
	else if (cp < 0x10000)
	{
		u[0] = (unsigned char) (0xE0 | (cp >> 12));
		u[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char) (0x80 | (cp & 0x3F));
		n = 3;
	}
	else
	{
		u[0] = (unsigned char) (0xF0 | (cp >> 18));
		u[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char) (0x80 | (cp & 0x3F));
		n = 4;
	}
	return membuf_append(b, u, n, err);
}

/* Decode the reference "&...;" at *p (body between '&' and ';'). */
static int
decode_reference(MemBuf *b, const char *ref, size_t n, PgbError *err)
{
	static const struct
	{
		const char *name;
		char		c;
	}			named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
	uint32_t	cp = 0;
	size_t		i = 1;
	int			base = 10;

	for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
		if (strlen(named[k].name) == n && memcmp(ref, named[k].name, n) == 0)
			return membuf_append(b, &named[k].c, 1, err);
	if (n < 2 || ref[0] != '#')
		return malformed(err, "unknown entity");
	if (ref[1] == 'x')
	{
		base = 16;
		i = 2;
	}
	if (i >= n)
		return malformed(err, "empty character reference");
	for (; i < n; i++)
	{
		char		c = ref[i];
		int			d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return malformed(err, "bad character reference");
		cp = cp * (uint32_t) base + (uint32_t) d;
		if (cp > 0x10FFFF)
			return malformed(err, "character reference out of range");
	}
	if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
		return malformed(err, "character reference out of range");
	return append_utf8(b, cp, err);
}

int
xml_text(const XmlNode *node, size_t max, char **out, PgbError *err)
{
	MemBuf		b = {.max = max};
	const char *p = node->content;
	const char *end = p + node->len;

	*out = NULL;
	while (p < end)
	{
		const char *stop = p;

		while (stop < end && *stop != '<' && *stop != '&')
			stop++;
		if (stop > p && membuf_append(&b, p, (size_t) (stop - p), err) != 0)
			goto fail;
		p = stop;
		if (p >= end)
			break;
		if (*p == '&')
		{
			const char *semi = memchr(p, ';', (size_t) (end - p));

			if (semi == NULL || semi - p > 12)
			{
				malformed(err, "unterminated entity");
				goto fail;
			}
			if (decode_reference(&b, p + 1, (size_t) (semi - p - 1), err) != 0)
				goto fail;
			p = semi + 1;
		}
		else if (has_prefix(p, end, "<![CDATA["))
		{
			const char *start = p + 9;
			const char *close = find(start, end, "]]>");

			if (close == NULL)
			{
				malformed(err, "unterminated CDATA section");
				goto fail;
			}
			if (close > start && membuf_append(&b, start, (size_t) (close - start), err) != 0)
				goto fail;
			p = close + 3;
		}
		else if (has_prefix(p, end, "<!--"))
		{
			const char *close = find(p + 4, end, "-->");

			if (close == NULL)
			{
				malformed(err, "unterminated comment");
				goto fail;
			}
			p = close + 3;
		}
		else
		{
			malformed(err, "element where text was expected");
			goto fail;
		}
	}
	*out = membuf_take(&b, NULL, err);
	return *out ? 0 : -1;

fail:
	membuf_free(&b);
	return -1;
}

int
xml_child_text(const XmlNode *parent, const char *name, size_t max, char **out, PgbError *err)
{
	XmlNode		child;
	int			rc = xml_child(parent, name, &child, err);

	*out = NULL;
	if (rc <= 0)
		return rc;
	return xml_text(&child, max, out, err) == 0 ? 1 : -1;
}

int
xml_escape(MemBuf *b, const char *s, PgbError *err)
{
	for (; *s; s++)
	{
		const char *rep = NULL;

		switch (*s)
		{
			case '&':
				rep = "&amp;";
				break;
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			case '"':
				rep = "&quot;";
				break;
			case '\'':
				rep = "&apos;";
				break;
		}
		if (membuf_append(b, rep ? rep : s, rep ? strlen(rep) : 1, err) != 0)
			return -1;
	}
	return 0;
}
