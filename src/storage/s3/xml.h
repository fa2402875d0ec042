/*
 * The XML reader of the S3 driver, for the responses it reads
 * (ListBucketResult, InitiateMultipartUploadResult, DeleteResult, Error):
 * a document is parsed whole by libxml2 into a tree, and the driver walks
 * it through the few functions below, so nothing outside xml.c sees
 * libxml2.  The input comes from the network and is not trusted: no
 * network access, no DTD (a document that declares one is refused before
 * its declarations are read, so no entity is ever defined, loaded or
 * expanded), at most XML_MAX_DOC bytes and XML_MAX_DEPTH levels, and
 * every text read is capped by its caller.  Element names are compared
 * without any "prefix:".  Malformed input is an error (EXIT_CORRUPT).
 */
#ifndef PGBKP_XML_H
#define PGBKP_XML_H

#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"
#include "io/membuf.h"

/* Deepest element nesting accepted (the root is at depth 0). */
#define XML_MAX_DEPTH 64
/* Largest document accepted. */
#define XML_MAX_DOC ((size_t) 16 * 1024 * 1024)

/* A parsed document; it owns every node of its tree. */
typedef struct XmlDoc XmlDoc;

/* One element of a document, valid while its XmlDoc is. */
typedef struct XmlNode
{
	const void *impl;
} XmlNode;

/* Parse len bytes at buf; *root is set to the root element.  NULL with err. */
XmlDoc	   *xml_parse(const void *buf, size_t len, XmlNode *root, PgbError *err);
/* Accepts NULL. */
void		xml_free(XmlDoc *doc);

/* Whether node's name, without any "prefix:", is name. */
bool		xml_is(const XmlNode *node, const char *name);

/* node's name as written ("prefix:name" or "name"), cut to fit out. */
void		xml_name(const XmlNode *node, char *out, size_t len);

/*
 * Iterate over the child elements of parent named name (NULL: any name):
 * *cursor starts as {0}; true with *cursor at the next one, false when
 * there are no more.
 */
bool		xml_next(const XmlNode *parent, const char *name, XmlNode *cursor);

/* The first child element named name: true with *out set, false if absent. */
bool		xml_child(const XmlNode *parent, const char *name, XmlNode *out);

/*
 * The text of node (text and CDATA sections; comments and processing
 * instructions dropped) into a malloc'd NUL-terminated string.  An element
 * with child elements is malformed here.  A text longer than max bytes (0:
 * no limit) is an error.
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
