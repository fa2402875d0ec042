/*
 * Unit tests for src/storage/s3/xml.c: the S3 responses the driver reads
 * (ListBucketResult with common prefixes, a truncation token and entities;
 * InitiateMultipartUploadResult; DeleteResult with an Error; Error bodies),
 * and malformed or truncated input, which must fail cleanly.  Truncations
 * are copied into exactly-sized heap buffers so that a read past the end
 * shows under valgrind or ASan.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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

static XmlNode
root_of(const char *doc)
{
	XmlNode		root;
	PgbError	err = {0};

	ck_assert_msg(xml_root(doc, strlen(doc), &root, &err) == 0, "%s", err.msg);
	return root;
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
	XmlNode		node;
	PgbError	err = {0};
	size_t		cursor = 0;
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

	while (xml_next(&root, "Contents", &cursor, &node, &err) == 1)
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
	ck_assert_int_eq(xml_child(&root, "Contents", &node, &err), 1);
	text = child_text(&node, "ETag");
	ck_assert_str_eq(text, "\"fba9dede5f27731c9771645a39863328\"");
	free(text);
	text = child_text(&node, "Size");
	ck_assert_str_eq(text, "434234");
	free(text);
	ck_assert_int_eq(xml_child_text(&node, "Owner", 0, &text, &err), 0);
	ck_assert_ptr_null(text);

	cursor = 0;
	n = 0;
	while (xml_next(&root, "CommonPrefixes", &cursor, &node, &err) == 1)
	{
		text = child_text(&node, "Prefix");
		ck_assert_str_eq(text, prefixes[n]);
		free(text);
		n++;
	}
	ck_assert_int_eq(n, 2);

	/* any child, in order */
	cursor = 0;
	n = 0;
	while (xml_next(&root, NULL, &cursor, &node, &err) == 1)
		n++;
	ck_assert_int_eq(n, 11);
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
	PgbError	err = {0};
	char	   *text;

	ck_assert_int_eq(xml_child(&root, "Error", &e, &err), 1);
	text = child_text(&e, "Key");
	ck_assert_str_eq(text, "sample2.txt");
	free(text);
	text = child_text(&e, "Code");
	ck_assert_str_eq(text, "AccessDenied");
	free(text);

	root = root_of(ok);
	ck_assert(xml_is(&root, "DeleteResult"));
	ck_assert_int_eq(root.len, 0);
	ck_assert_int_eq(xml_child(&root, "Error", &e, &err), 0);
}
END_TEST

START_TEST(test_prefixed_names)
{
	XmlNode		root = root_of("<s3:Error xmlns:s3=\"x\"><s3:Code>SlowDown</s3:Code></s3:Error>");
	char	   *text;

	ck_assert(xml_is(&root, "Error"));
	text = child_text(&root, "Code");
	ck_assert_str_eq(text, "SlowDown");
	free(text);
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

		memcpy(copy, doc, n);
		if (xml_root(copy, n, &root, &err) == 0)
		{
			/* only possible when the cut falls after the root's end tag */
			ck_assert_msg(strspn(doc + n, " \r\n") == len - n, "truncation at %zu accepted", n);
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
	};
	PgbError	err = {0};
	XmlNode		root;

	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++)
	{
		memset(&err, 0, sizeof(err));
		ck_assert_msg(xml_root(bad_docs[i], strlen(bad_docs[i]), &root, &err) == -1,
					  "accepted: %s", bad_docs[i]);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
	}
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

	for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++)
	{
		XmlNode		root = root_of(bad_texts[i]);
		PgbError	err = {0};
		char	   *text = (char *) "unset";

		ck_assert_msg(xml_text(&root, 0, &text, &err) == -1, "decoded: %s", bad_texts[i]);
		ck_assert_ptr_null(text);
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
}
END_TEST

START_TEST(test_deep_nesting)
{
	size_t		depth = XML_MAX_DEPTH + 10;
	size_t		len = depth * 7 + 1;
	char	   *doc = malloc(len);
	char	   *p = doc;
	XmlNode		root;
	PgbError	err = {0};

	for (size_t i = 0; i < depth; i++, p += 3)
		memcpy(p, "<a>", 3);
	for (size_t i = 0; i < depth; i++, p += 4)
		memcpy(p, "</a>", 4);
	ck_assert_int_eq(xml_root(doc, (size_t) (p - doc), &root, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	free(doc);
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
	tcase_add_test(tc, test_bad_text);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_deep_nesting);
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
