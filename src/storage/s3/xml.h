/*
 * A small XML reader for S3 responses (ListBucketResult,
 * InitiateMultipartUploadResult, CompleteMultipartUploadResult, DeleteResult,
 * Error).  Not a general parser: no DTDs, no namespaces beyond ignoring a
 * "prefix:" in element names, attributes are skipped.  It works on a buffer
 * in place; an XmlNode is a view of one element of that buffer, valid while
 * the buffer is.  Every function checks bounds and reports malformed input
 * as an error (EXIT_CORRUPT), never reading outside [doc, doc + len).
 */
#ifndef PGBKP_XML_H
#define PGBKP_XML_H

#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"
#include "io/membuf.h"

/* Deepest element nesting accepted. */
#define XML_MAX_DEPTH 64

typedef struct XmlNode
{
	const char *name;			/* element name (not NUL-terminated) */
	size_t		namelen;
	const char *content;		/* between the start and the end tag */
	size_t		len;			/* 0 for <empty/> */
} XmlNode;

/* The document's root element (after the prolog, comments, whitespace). */
int			xml_root(const char *doc, size_t len, XmlNode *root, PgbError *err);

/* Whether node's name, without any "prefix:", is name. */
bool		xml_is(const XmlNode *node, const char *name);

/*
 * Iterate over the child elements of parent named name (NULL: any name).
 * *cursor starts at 0.  Returns 1 with *out set, 0 when there are no more,
 * -1 on malformed content.
 */
int			xml_next(const XmlNode *parent, const char *name, size_t *cursor,
					 XmlNode *out, PgbError *err);

/* The first child named name: 1 found, 0 absent, -1 malformed. */
int			xml_child(const XmlNode *parent, const char *name, XmlNode *out, PgbError *err);

/*
 * The decoded text of node (entities, character references and CDATA
 * resolved; comments dropped) into a malloc'd NUL-terminated string.  An
 * element with child elements is malformed here.  A text longer than max
 * bytes (0: no limit) is an error.
 */
int			xml_text(const XmlNode *node, size_t max, char **out, PgbError *err);

/*
 * The text of the first child named name into a malloc'd string: 1 found,
 * 0 absent (*out NULL), -1 on error.
 */
int			xml_child_text(const XmlNode *parent, const char *name, size_t max,
						   char **out, PgbError *err);

/* Append s escaped for XML character data (&, <, >, ", ') to a MemBuf. */
int			xml_escape(MemBuf *b, const char *s, PgbError *err);

#endif
