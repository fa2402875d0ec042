/*
 * The XML reader of the S3 driver on libxml2 (see xml.h).  Each parse has
 * its own parser context whose error handler, with the thread's generic
 * one, keeps libxml2 quiet (the error is reported through PgbError
 * instead) and whose DOCTYPE handler stops the parser at once; the options
 * forbid network access and leave entity substitution, DTD loading and
 * XInclude off, and libxml2's own limits (XML_PARSE_HUGE is not set) bound
 * names and text nodes.  The tree is then checked for depth without
 * recursion.  libxml2 is initialised once per process, whichever thread
 * parses first.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/libxml.h"
#include <libxml/tree.h>

#include "io/membuf.h"
#include "storage/s3/xml.h"

#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

struct XmlDoc
{
	xmlDocPtr	doc;
};

/* What the handlers of one parse note (the context's _private). */
typedef struct ParseState
{
	bool		dtd;			/* a DOCTYPE was met */
	char		first[200];		/* the first fatal error's message */
} ParseState;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init_libxml(void)
{
	xmlInitParser();
}

static int
malformed(PgbError *err, const char *what)
{
	return pgb_error(err, EXIT_CORRUPT, "malformed XML in S3 response: %s", what);
}

/*
 * libxml2 reports some errors (a byte sequence its encoding converter
 * refuses, "encoding error : input conversion failed") not to the parser
 * context but through its generic handler, which prints to stderr: that one
 * is replaced, for the parsing thread, by this one, which drops them (the
 * parse fails, and says so through PgbError).
 */
static void
drop_generic_error(void *ctx, const char *msg,...)
{
}

/* Errors are noted, never printed: the first fatal one tells the most. */
static void
note_error(void *ctx, xmlErrorPtr error)
{
	xmlParserCtxtPtr ctxt = ctx;
	ParseState *st = ctxt ? ctxt->_private : NULL;
	size_t		n;

	if (st == NULL || st->first[0] != '\0' || error == NULL ||
		error->level != XML_ERR_FATAL || error->message == NULL)
		return;
	snprintf(st->first, sizeof(st->first), "%s", error->message);
	n = strlen(st->first);
	while (n > 0 && (st->first[n - 1] == '\n' || st->first[n - 1] == ' '))
		st->first[--n] = '\0';
}

/* A DOCTYPE: note it and stop before its declarations are read. */
static void
refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;

	((ParseState *) ctxt->_private)->dtd = true;
	xmlStopParser(ctxt);
}

/* Whether some element lies deeper than XML_MAX_DEPTH below root. */
static bool
too_deep(xmlNodePtr root)
{
	xmlNodePtr	n = root;
	int			depth = 0;

	while (n != NULL)
	{
		if (n->type == XML_ELEMENT_NODE && depth > XML_MAX_DEPTH)
			return true;
		if (n->children != NULL && n->type == XML_ELEMENT_NODE)
		{
			n = n->children;
			depth++;
			continue;
		}
		while (n != root && n->next == NULL)
		{
			n = n->parent;
			depth--;
		}
		n = n == root ? NULL : n->next;
	}
	return false;
}

XmlDoc *
xml_parse(const void *buf, size_t len, XmlNode *root, PgbError *err)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr	doc;
	xmlNodePtr	top;
	XmlDoc	   *out;
	ParseState	st = {0};

	root->impl = NULL;
	if (len == 0)
	{
		malformed(err, "no root element");
		return NULL;
	}
	if (len > XML_MAX_DOC)
	{
		pgb_error(err, EXIT_CORRUPT, "malformed XML in S3 response: larger than %zu bytes", XML_MAX_DOC);
		return NULL;
	}
	if (libxml_require(err) != 0)
		return NULL;
	pthread_once(&init_once, init_libxml);
	xmlSetGenericErrorFunc(NULL, drop_generic_error);	/* this thread's */
	if ((ctxt = xmlNewParserCtxt()) == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	ctxt->sax->serror = note_error;
	ctxt->sax->internalSubset = refuse_dtd;
	ctxt->sax->externalSubset = NULL;
	ctxt->_private = &st;
	doc = xmlCtxtReadMemory(ctxt, buf, (int) len, NULL, NULL, PARSE_OPTIONS);
	xmlFreeParserCtxt(ctxt);
	if (doc == NULL && !st.dtd)
	{
		malformed(err, st.first[0] ? st.first : "not well-formed");
		return NULL;
	}
	top = doc ? xmlDocGetRootElement(doc) : NULL;
	if (st.dtd || doc->intSubset != NULL || doc->extSubset != NULL)
		malformed(err, "document type declarations are not accepted");
	else if (top == NULL)
		malformed(err, "no root element");
	else if (too_deep(top))
		malformed(err, "elements nested too deeply");
	else if ((out = malloc(sizeof(XmlDoc))) == NULL)
		pgb_error(err, EXIT_INTERNAL, "out of memory");
	else
	{
		out->doc = doc;
		root->impl = top;
		return out;
	}
	xmlFreeDoc(doc);
	return NULL;
}

void
xml_free(XmlDoc *doc)
{
	if (doc == NULL)
		return;
	xmlFreeDoc(doc->doc);
	free(doc);
}

static const char *
local_name(xmlNodePtr n)
{
	const char *name = (const char *) n->name;
	const char *colon = strrchr(name, ':');

	/* a prefix libxml2 could not resolve stays in the name */
	return colon ? colon + 1 : name;
}

bool
xml_is(const XmlNode *node, const char *name)
{
	xmlNodePtr	n = (xmlNodePtr) node->impl;

	return n != NULL && strcmp(local_name(n), name) == 0;
}

void
xml_name(const XmlNode *node, char *out, size_t len)
{
	xmlNodePtr	n = (xmlNodePtr) node->impl;

	if (n->ns != NULL && n->ns->prefix != NULL)
		snprintf(out, len, "%s:%s", (const char *) n->ns->prefix, (const char *) n->name);
	else
		snprintf(out, len, "%s", (const char *) n->name);
}

bool
xml_next(const XmlNode *parent, const char *name, XmlNode *cursor)
{
	xmlNodePtr	n = cursor->impl ? ((xmlNodePtr) cursor->impl)->next
		: ((xmlNodePtr) parent->impl)->children;

	for (; n != NULL; n = n->next)
	{
		if (n->type != XML_ELEMENT_NODE || (name != NULL && strcmp(local_name(n), name) != 0))
			continue;
		cursor->impl = n;
		return true;
	}
	return false;
}

bool
xml_child(const XmlNode *parent, const char *name, XmlNode *out)
{
	out->impl = NULL;
	return xml_next(parent, name, out);
}

int
xml_text(const XmlNode *node, size_t max, char **out, PgbError *err)
{
	MemBuf		b = {.max = max};

	*out = NULL;
	for (xmlNodePtr n = ((xmlNodePtr) node->impl)->children; n != NULL; n = n->next)
	{
		const char *text = (const char *) n->content;

		switch (n->type)
		{
			case XML_TEXT_NODE:
			case XML_CDATA_SECTION_NODE:
				if (text != NULL && membuf_append(&b, text, strlen(text), err) != 0)
					goto fail;
				break;
			case XML_COMMENT_NODE:
			case XML_PI_NODE:
				break;
			case XML_ELEMENT_NODE:
				malformed(err, "element where text was expected");
				goto fail;
			default:
				malformed(err, "unexpected node where text was expected");
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

	*out = NULL;
	if (!xml_child(parent, name, &child))
		return 0;
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
