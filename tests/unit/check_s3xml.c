/*
 * Unit tests for src/storage/s3/xml.c: the S3 responses the driver reads
 * (ListBucketResult with common prefixes, a truncation token and entities;
 * InitiateMultipartUploadResult; DeleteResult with an Error; Error bodies),
 * and malformed or truncated input, which must fail cleanly.  Truncations
 * are copied into exactly-sized heap buffers so that a read past the end
 * shows under valgrind or ASan.  Hostile input: DTDs, internal and external
 * entities (never defined, loaded or expanded), deep nesting, documents
 * over the size cap, parses from several threads at once.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/s3/xml.h"

static const char list_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>bucket</Name><Prefix>pg/archive/</Prefix><KeyCount>3</KeyCount>"
	"<MaxKeys>3</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
	"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
	"<Contents><Key>pg/archive/a&amp;b &lt;1&gt; &quot;q&quot; &apos;s&apos;</Key>"
	"<LastModified>2009-10-12T17:50:30.000Z</LastModified>"
	"<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
	"<StorageClass>STANDARD</StorageClass></Contents>\n"
	"<Contents><Key>pg/archive/caf&#xE9;&#233;&#x1F600;</Key><Size>0</Size></Contents>"
	"<!-- a comment <Contents> that is not one -->"
	"<CommonPrefixes><Prefix>pg/archive/15-1/</Prefix></CommonPrefixes>"
	"<CommonPrefixes><Prefix><![CDATA[pg/archive/<raw>&/]]></Prefix></CommonPrefixes>"
	"</ListBucketResult>";

/* The documents parsed by root_of, freed at the end of each test. */
static XmlDoc *docs[8];
static int	ndocs;

static XmlNode
root_of(const char *doc)
{
	XmlNode		root;
	PgbError	err = {0};
	XmlDoc	   *d = xml_parse(doc, strlen(doc), &root, &err);

	ck_assert_msg(d != NULL, "%s", err.msg);
	ck_assert_int_lt(ndocs, 8);
	docs[ndocs++] = d;
	return root;
}

static void
free_docs(void)
{
	for (int i = 0; i < ndocs; i++)
		xml_free(docs[i]);
	ndocs = 0;
}

/* Parsing doc fails with EXIT_CORRUPT. */
static void
refused(const char *doc, size_t len)
{
	XmlNode		root;
	PgbError	err = {0};
	XmlDoc	   *d = xml_parse(doc, len, &root, &err);

	ck_assert_msg(d == NULL, "accepted: %.200s", doc);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_ptr_null(root.impl);
}

static char *
child_text(const XmlNode *parent, const char *name)
{
	PgbError	err = {0};
	char	   *text = NULL;

	ck_assert_msg(xml_child_text(parent, name, 0, &text, &err) == 1, "<%s>: %s", name, err.msg);
	return text;
}

START_TEST(test_list_bucket_result)
{
	XmlNode		root = root_of(list_xml);
	XmlNode		node = {0};
	PgbError	err = {0};
	char	   *text;
	int			n = 0;
	const char *keys[] = {"pg/archive/a&b <1> \"q\" 's'", "pg/archive/caf\xc3\xa9\xc3\xa9\xf0\x9f\x98\x80"};
	const char *prefixes[] = {"pg/archive/15-1/", "pg/archive/<raw>&/"};

	ck_assert(xml_is(&root, "ListBucketResult"));
	text = child_text(&root, "IsTruncated");
	ck_assert_str_eq(text, "true");
	free(text);
	text = child_text(&root, "NextContinuationToken");
	ck_assert_str_eq(text, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	free(text);

	while (xml_next(&root, "Contents", &node))
	{
		ck_assert_int_lt(n, 2);
		text = child_text(&node, "Key");
		ck_assert_str_eq(text, keys[n]);
		free(text);
		n++;
	}
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(err.code, 0);

	/* the first Contents' other fields */
	ck_assert(xml_child(&root, "Contents", &node));
	text = child_text(&node, "ETag");
	ck_assert_str_eq(text, "\"fba9dede5f27731c9771645a39863328\"");
	free(text);
	text = child_text(&node, "Size");
	ck_assert_str_eq(text, "434234");
	free(text);
	ck_assert_int_eq(xml_child_text(&node, "Owner", 0, &text, &err), 0);
	ck_assert_ptr_null(text);

	node.impl = NULL;
	n = 0;
	while (xml_next(&root, "CommonPrefixes", &node))
	{
		text = child_text(&node, "Prefix");
		ck_assert_str_eq(text, prefixes[n]);
		free(text);
		n++;
	}
	ck_assert_int_eq(n, 2);

	/* any child, in order */
	node.impl = NULL;
	n = 0;
	while (xml_next(&root, NULL, &node))
		n++;
	ck_assert_int_eq(n, 11);
	free_docs();
}
END_TEST

START_TEST(test_initiate_and_error)
{
	const char *init =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		"<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\r\n"
		"  <Bucket>example-bucket</Bucket>\r\n  <Key>example-object</Key>\r\n"
		"  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\r\n"
		"</InitiateMultipartUploadResult>";
	const char *error =
		"<?xml version='1.0' encoding='UTF-8'?>\n"
		"<Error><Code>SignatureDoesNotMatch</Code>"
		"<Message>The request signature we calculated does not match the signature you provided.</Message>"
		"<AWSAccessKeyId>test:tester</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20240101T000000Z</StringToSign>"
		"<RequestId>tx1</RequestId></Error>";
	const char *empty_message = "<Error><Code>NoSuchKey</Code><Message/><Key>a/b</Key></Error>";
	XmlNode		root = root_of(init);
	char	   *text;
	PgbError	err = {0};

	ck_assert(xml_is(&root, "InitiateMultipartUploadResult"));
	text = child_text(&root, "UploadId");
	ck_assert_str_eq(text, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
	free(text);

	root = root_of(error);
	ck_assert(xml_is(&root, "Error"));
	text = child_text(&root, "Code");
	ck_assert_str_eq(text, "SignatureDoesNotMatch");
	free(text);
	text = child_text(&root, "StringToSign");
	ck_assert_str_eq(text, "AWS4-HMAC-SHA256\n20240101T000000Z");
	free(text);

	root = root_of(empty_message);
	text = child_text(&root, "Message");
	ck_assert_str_eq(text, "");
	free(text);
	/* a text cap */
	ck_assert_int_eq(xml_child_text(&root, "Code", 3, &text, &err), -1);
	ck_assert_ptr_null(text);
	free_docs();
}
END_TEST

START_TEST(test_delete_result)
{
	const char *doc =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Deleted><Key>sample1.txt</Key></Deleted>"
		"<Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
		"</DeleteResult>";
	const char *ok = "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>";
	XmlNode		root = root_of(doc);
	XmlNode		e;
	char	   *text;
	char		name[64];

	ck_assert(xml_child(&root, "Error", &e));
	text = child_text(&e, "Key");
	ck_assert_str_eq(text, "sample2.txt");
	free(text);
	text = child_text(&e, "Code");
	ck_assert_str_eq(text, "AccessDenied");
	free(text);

	root = root_of(ok);
	ck_assert(xml_is(&root, "DeleteResult"));
	xml_name(&root, name, sizeof(name));
	ck_assert_str_eq(name, "DeleteResult");
	ck_assert(!xml_child(&root, "Error", &e));
	ck_assert(!xml_next(&root, NULL, &e));
	free_docs();
}
END_TEST

START_TEST(test_prefixed_names)
{
	XmlNode		root = root_of("<s3:Error xmlns:s3=\"x\"><s3:Code>SlowDown</s3:Code></s3:Error>");
	char	   *text;
	char		name[64];

	ck_assert(xml_is(&root, "Error"));
	ck_assert(!xml_is(&root, "s3:Error"));
	xml_name(&root, name, sizeof(name));
	ck_assert_str_eq(name, "s3:Error");
	text = child_text(&root, "Code");
	ck_assert_str_eq(text, "SlowDown");
	free(text);

	/* a prefix that is never declared is ignored the same way */
	root = root_of("<p:Error><p:Code>SlowDown</p:Code></p:Error>");
	ck_assert(xml_is(&root, "Error"));
	text = child_text(&root, "Code");
	ck_assert_str_eq(text, "SlowDown");
	free(text);
	free_docs();
}
END_TEST

/* Parse doc whole, then every truncation of it: never a crash, and a
 * truncated document is an error. */
static void
check_truncations(const char *doc)
{
	size_t		len = strlen(doc);

	for (size_t n = 0; n < len; n++)
	{
		char	   *copy = malloc(n ? n : 1);
		XmlNode		root;
		PgbError	err = {0};
		XmlDoc	   *d;

		memcpy(copy, doc, n);
		if ((d = xml_parse(copy, n, &root, &err)) != NULL)
		{
			/* only possible when the cut falls after the root's end tag */
			ck_assert_msg(strspn(doc + n, " \r\n") == len - n, "truncation at %zu accepted", n);
			xml_free(d);
		}
		else
			ck_assert_int_eq(err.code, EXIT_CORRUPT);
		free(copy);
	}
}

START_TEST(test_truncated)
{
	check_truncations(list_xml);
	check_truncations("<Error><Code>X</Code><Message>a &amp; b</Message></Error>");
}
END_TEST

START_TEST(test_malformed)
{
	const char *bad_docs[] = {
		"",
		"   ",
		"text only",
		"<?xml version=\"1.0\"?>",
		"<a>",
		"<a></b>",
		"<a><b></a></b>",
		"<a x=1></a>",
		"<a x=\"1></a>",
		"<a><!-- never closed </a>",
		"<a><![CDATA[ never closed </a>",
		"</a>",
		"<>x</>",
		"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
		"<a/",
		"<a",
		"<a></a><b></b>",
		"<a>\xff\xfe</a>",
		"<a b=\"1\" b=\"2\"/>",
		"<a>]]></a>",
		"<1a/>",
	};

	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++)
		refused(bad_docs[i], strlen(bad_docs[i]));
	/* a NUL inside the document, and a NULL buffer of length 0 */
	refused("<a>x\0y</a>", 10);
	refused(NULL, 0);
}
END_TEST

/*
 * A UTF-16 document with a lone surrogate: libxml2's encoding converter
 * reports it through its generic error handler, which printed "encoding
 * error : input conversion failed" on stderr (found by fuzzing).  Refused,
 * and nothing printed, in this thread and in a new one.
 */
static const char utf16_bad[] = "\xfe\xff\x00<\x00" "a\x00>\xd8\x00</a>";

static void *
parse_utf16_bad(void *arg)
{
	refused(utf16_bad, sizeof(utf16_bad) - 1);
	return arg;
}

START_TEST(test_quiet_on_encoding_error)
{
	FILE	   *tmp = tmpfile();
	int			saved = dup(STDERR_FILENO);
	pthread_t	th;

	ck_assert(tmp != NULL && saved >= 0);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
	parse_utf16_bad(NULL);
	ck_assert_int_eq(pthread_create(&th, NULL, parse_utf16_bad, NULL), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert_int_eq(lseek(fileno(tmp), 0, SEEK_END), 0);	/* nothing printed */
	fclose(tmp);
}
END_TEST

START_TEST(test_bad_text)
{
	const char *bad_texts[] = {
		"<a>&unknown;</a>",
		"<a>&amp</a>",
		"<a>&#0;</a>",
		"<a>&#xD800;</a>",
		"<a>&#x110000;</a>",
		"<a>&#99999999999;</a>",
		"<a>&#;</a>",
		"<a>&#x;</a>",
		"<a>&#12a;</a>",
		"<a>x<b>y</b></a>",
		"<a>&verylongentityname;</a>",
	};

	/* each is refused, by the parse (a bad reference) or by xml_text */
	for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++)
	{
		XmlNode		root;
		PgbError	err = {0};
		char	   *text = (char *) "unset";
		XmlDoc	   *d = xml_parse(bad_texts[i], strlen(bad_texts[i]), &root, &err);

		if (d != NULL)
		{
			ck_assert_msg(xml_text(&root, 0, &text, &err) == -1, "decoded: %s", bad_texts[i]);
			ck_assert_ptr_null(text);
			xml_free(d);
		}
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
	}
}
END_TEST

START_TEST(test_escape)
{
	MemBuf		b = {0};
	PgbError	err = {0};
	XmlNode		root;
	char	   *text;
	const char *raw = "a&b<c>d\"e'f";

	ck_assert_int_eq(membuf_append(&b, "<Key>", 5, &err), 0);
	ck_assert_int_eq(xml_escape(&b, raw, &err), 0);
	ck_assert_int_eq(membuf_append(&b, "</Key>", 6, &err), 0);
	ck_assert_str_eq(b.buf, "<Key>a&amp;b&lt;c&gt;d&quot;e&apos;f</Key>");
	root = root_of(b.buf);
	ck_assert_int_eq(xml_text(&root, 0, &text, &err), 0);
	ck_assert_str_eq(text, raw);
	free(text);
	membuf_free(&b);
	free_docs();
}
END_TEST

/* depth elements <a> nested, and leaf text inside the innermost. */
static char *
nested(size_t depth, size_t *len)
{
	char	   *doc = malloc(depth * 7 + 2);
	char	   *p = doc;

	for (size_t i = 0; i < depth; i++, p += 3)
		memcpy(p, "<a>", 3);
	*p++ = 'x';
	for (size_t i = 0; i < depth; i++, p += 4)
		memcpy(p, "</a>", 4);
	*len = (size_t) (p - doc);
	return doc;
}

START_TEST(test_deep_nesting)
{
	/* past our cap, past libxml2's own (256), and far past it */
	size_t		depths[] = {XML_MAX_DEPTH + 2, XML_MAX_DEPTH + 10, 300, 100000};
	size_t		len;
	char	   *doc;
	XmlNode		root;
	PgbError	err = {0};
	XmlDoc	   *d;

	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++)
	{
		doc = nested(depths[i], &len);
		refused(doc, len);
		free(doc);
	}
	/* the deepest accepted: the root at depth 0, the innermost at XML_MAX_DEPTH */
	doc = nested(XML_MAX_DEPTH + 1, &len);
	ck_assert_ptr_nonnull(d = xml_parse(doc, len, &root, &err));
	xml_free(d);
	free(doc);
}
END_TEST

START_TEST(test_dtd_and_entities)
{
	const char *hostile[] = {
		/* an internal entity, used and unused */
		"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
		"<!DOCTYPE a [<!ENTITY x \"y\">]><a>z</a>",
		/* external entities: a file and a URL */
		"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
		"<!DOCTYPE a [<!ENTITY x SYSTEM \"http://127.0.0.1:1/x\">]><a>&x;</a>",
		/* external DTDs */
		"<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
		"<!DOCTYPE a PUBLIC \"-//x//y\" \"http://127.0.0.1:1/x.dtd\"><a/>",
		/* a parameter entity */
		"<!DOCTYPE a [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><a/>",
		/* exponential expansion ("billion laughs") */
		"<!DOCTYPE a [<!ENTITY l \"lol\"><!ENTITY l1 \"&l;&l;&l;&l;&l;&l;&l;&l;&l;&l;\">"
		"<!ENTITY l2 \"&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;\">"
		"<!ENTITY l3 \"&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;\">]><a>&l3;</a>",
		/* a DOCTYPE without declarations is refused too */
		"<!DOCTYPE a><a/>",
		/* an entity that no DTD defines */
		"<a>&x;</a>",
		/* a DOCTYPE after the root */
		"<a/><!DOCTYPE a>",
	};

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		refused(hostile[i], strlen(hostile[i]));
}
END_TEST

START_TEST(test_sizes)
{
	size_t		big = (size_t) 1024 * 1024;
	char	   *doc = malloc(XML_MAX_DOC + 1);
	XmlNode		root;
	PgbError	err = {0};
	char	   *text;
	XmlDoc	   *d;

	/* a 1 MiB text: read whole without a cap, refused with one */
	memcpy(doc, "<Key>", 5);
	memset(doc + 5, 'k', big);
	memcpy(doc + 5 + big, "</Key>", 6);
	ck_assert_ptr_nonnull(d = xml_parse(doc, big + 11, &root, &err));
	ck_assert_int_eq(xml_text(&root, 0, &text, &err), 0);
	ck_assert_uint_eq(strlen(text), big);
	free(text);
	ck_assert_int_eq(xml_text(&root, 4096, &text, &err), -1);
	ck_assert_ptr_null(text);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	xml_free(d);

	/* a document of exactly XML_MAX_DOC bytes is parsed, one more is refused unread */
	memset(doc, ' ', XML_MAX_DOC + 1);
	memcpy(doc, "<a>", 3);
	memcpy(doc + XML_MAX_DOC - 4, "</a>", 4);
	memset(&err, 0, sizeof(err));
	ck_assert_ptr_nonnull(d = xml_parse(doc, XML_MAX_DOC, &root, &err));
	xml_free(d);
	refused(doc, XML_MAX_DOC + 1);

	/* a name longer than libxml2 accepts */
	memset(doc, 'n', XML_MAX_DOC);
	doc[0] = '<';
	memcpy(doc + XML_MAX_DOC - 2, "/>", 2);
	refused(doc, XML_MAX_DOC);
	free(doc);
}
END_TEST

/* Many parses at once: libxml2 is initialised once, whichever thread comes first. */
static void *
parse_many(void *arg)
{
	for (int i = 0; i < 200; i++)
	{
		XmlNode		root;
		PgbError	err = {0};
		XmlDoc	   *d = xml_parse(list_xml, strlen(list_xml), &root, &err);
		char	   *text = NULL;

		if (d == NULL || xml_child_text(&root, "NextContinuationToken", 0, &text, &err) != 1 ||
			strcmp(text, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=") != 0)
			return (void *) 1;
		free(text);
		xml_free(d);
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t	threads[4];
	void	   *result;

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, parse_many, NULL), 0);
	for (int i = 0; i < 4; i++)
	{
		ck_assert_int_eq(pthread_join(threads[i], &result), 0);
		ck_assert_ptr_null(result);
	}
}
END_TEST

static Suite *
s3xml_suite(void)
{
	Suite	   *s = suite_create("s3xml");
	TCase	   *tc = tcase_create("core");

	tcase_add_test(tc, test_list_bucket_result);
	tcase_add_test(tc, test_initiate_and_error);
	tcase_add_test(tc, test_delete_result);
	tcase_add_test(tc, test_prefixed_names);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_quiet_on_encoding_error);
	tcase_add_test(tc, test_bad_text);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_dtd_and_entities);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner    *sr = srunner_create(s3xml_suite());
	int			failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
