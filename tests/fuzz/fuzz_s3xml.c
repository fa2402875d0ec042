/*
 * Fuzz target: the S3 XML reader (storage/s3/xml.c) that reads listings,
 * multipart answers, delete results and error bodies.  Whatever parses is
 * walked the way the S3 driver walks it: every element's name, each
 * element's text (with and without a cap), to the nesting limit.
 */
#include "fuzz.h"

#include "storage/s3/xml.h"

static void
walk(const XmlNode *node, int depth)
{
	XmlNode		child = {0};
	PgbError	err = {0};
	char		name[64];
	char	   *text = NULL;

	if (depth > XML_MAX_DEPTH + 1)
		fuzz_fail("a parsed document is deeper than XML_MAX_DEPTH", NULL);
	xml_name(node, name, sizeof(name));
	(void) xml_is(node, "Contents");
	if (xml_text(node, 0, &text, &err) == 0)
		free(text);
	text = NULL;
	if (xml_text(node, 8, &text, &err) == 0)
	{
		if (strlen(text) > 8)
			fuzz_fail("xml_text returned more than its cap", text);
		free(text);
	}
	text = NULL;
	if (xml_child_text(node, "Key", 1024, &text, &err) == 1)
		free(text);
	while (xml_next(node, NULL, &child))
		walk(&child, depth + 1);
}

static int
fuzz_one(const uint8_t *data, size_t size)
{
	PgbError	err = {0};
	XmlNode		root;
	XmlDoc	   *doc = xml_parse(data, size, &root, &err);

	if (doc != NULL)
	{
		walk(&root, 0);
		xml_free(doc);
	}
	return 0;
}
