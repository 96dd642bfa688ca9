#!/usr/bin/env python3
"""Writes a WordPress export (WXR 1.2) of N published posts to stdout.

Usage: gen_wxr.py N [--seed S]

Deterministic for a given N and seed: 5 authors, 20 categories, 200 tags
and the tag `lead`; each post has one author, one category, three tags
(every tenth post a fourth, `lead`: 100 posts at N=1,000, so that one tag's
first page holds 20 articles at every N the bench uses), a ~6 KB body, and a
publication date one hour after the previous one (ending in 2025), so the
newest-first list and the filters have the same shape at every N.
"""
import random
import sys
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et "
         "dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea "
         "commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur").split()


def main():
    n = int(sys.argv[1])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--seed" else 1
    rnd = random.Random(seed)
    out = sys.stdout
    w = out.write
    w('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
      'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
      'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
      '<title>Bench</title><link>https://bench.example</link><wp:wxr_version>1.2</wp:wxr_version>\n'
      '<wp:base_site_url>https://bench.example</wp:base_site_url>'
      '<wp:base_blog_url>https://bench.example</wp:base_blog_url>\n')
    for a in range(5):
        w(f'<wp:author><wp:author_login>writer{a}</wp:author_login><wp:author_email>writer{a}@bench.example'
          f'</wp:author_email><wp:author_display_name>Writer {a}</wp:author_display_name></wp:author>\n')
    for c in range(20):
        w(f'<wp:category><wp:term_id>{c + 1}</wp:term_id><wp:category_nicename>section-{c}</wp:category_nicename>'
          f'<wp:category_parent></wp:category_parent><wp:cat_name>Section {c}</wp:cat_name></wp:category>\n')
    for t in range(200):
        w(f'<wp:tag><wp:term_id>{1000 + t}</wp:term_id><wp:tag_slug>topic-{t}</wp:tag_slug>'
          f'<wp:tag_name>Topic {t}</wp:tag_name></wp:tag>\n')
    w('<wp:tag><wp:term_id>2000</wp:term_id><wp:tag_slug>lead</wp:tag_slug><wp:tag_name>Lead</wp:tag_name></wp:tag>\n')
    start = datetime(2025, 12, 31, 12, 0, 0) - timedelta(hours=n)
    for i in range(n):
        when = start + timedelta(hours=i)
        title = " ".join(rnd.choice(WORDS) for _ in range(6)).capitalize()
        paras = "\n\n".join(" ".join(rnd.choice(WORDS) for _ in range(120)) for _ in range(8))
        cat = i % 20
        tags = {(i * 7 + k * 13) % 200 for k in range(3)}
        d = when.strftime("%Y-%m-%d %H:%M:%S")
        w('<item>\n')
        w(f'<title>{escape(title)} {i}</title>\n<link>https://bench.example/?p={i + 1}</link>\n')
        w(f'<dc:creator>writer{i % 5}</dc:creator>\n')
        w(f'<content:encoded><![CDATA[{paras}]]></content:encoded>\n')
        w(f'<excerpt:encoded><![CDATA[{escape(title)}]]></excerpt:encoded>\n')
        w(f'<wp:post_id>{i + 1}</wp:post_id><wp:post_date>{d}</wp:post_date><wp:post_date_gmt>{d}</wp:post_date_gmt>\n')
        w(f'<wp:comment_status>open</wp:comment_status><wp:post_name>post-{i + 1}</wp:post_name>'
          '<wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:is_sticky>0</wp:is_sticky>\n')
        w(f'<category domain="category" nicename="section-{cat}"><![CDATA[Section {cat}]]></category>\n')
        for t in sorted(tags):
            w(f'<category domain="post_tag" nicename="topic-{t}"><![CDATA[Topic {t}]]></category>\n')
        if i % 10 == 0:
            w('<category domain="post_tag" nicename="lead"><![CDATA[Lead]]></category>\n')
        w('</item>\n')
    w('</channel>\n</rss>\n')


if __name__ == "__main__":
    main()
