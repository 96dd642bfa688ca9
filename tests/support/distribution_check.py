#!/usr/bin/env python3
"""Independent checks for the distribution tests (tests/api/distribution.py callers).

  jsonfeed            stdin: a JSON Feed; validated against the JSON Feed 1.1
                      schema below (transcribed from https://jsonfeed.org/version/1.1).
  webhook SECRET      stdin: {"headers": {...}, "body": "..."}; verified with the
                      `standardwebhooks` reference library (PyPI).

Exit 0: valid. Exit 1: invalid (reason on stderr). Exit 3: a needed Python
package is missing (the Rust test skips locally, fails under CI=true).
"""
import json
import sys

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"

AUTHOR = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "avatar": {"type": "string", "format": "uri"},
    },
    "anyOf": [{"required": ["name"]}, {"required": ["url"]}, {"required": ["avatar"]}],
}

JSON_FEED_1_1 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string"},
        "home_page_url": {"type": "string", "format": "uri"},
        "feed_url": {"type": "string", "format": "uri"},
        "description": {"type": "string"},
        "user_comment": {"type": "string"},
        "next_url": {"type": "string", "format": "uri"},
        "icon": {"type": "string", "format": "uri"},
        "favicon": {"type": "string", "format": "uri"},
        "authors": {"type": "array", "items": AUTHOR},
        "language": {"type": "string"},
        "expired": {"type": "boolean"},
        "hubs": {"type": "array"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string", "format": "uri"},
                    "external_url": {"type": "string", "format": "uri"},
                    "title": {"type": "string"},
                    "content_html": {"type": "string"},
                    "content_text": {"type": "string"},
                    "summary": {"type": "string"},
                    "image": {"type": "string", "format": "uri"},
                    "banner_image": {"type": "string", "format": "uri"},
                    "date_published": {"type": "string", "pattern": RFC3339},
                    "date_modified": {"type": "string", "pattern": RFC3339},
                    "authors": {"type": "array", "items": AUTHOR},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "language": {"type": "string"},
                    "attachments": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["url", "mime_type"],
                            "properties": {
                                "url": {"type": "string", "format": "uri"},
                                "mime_type": {"type": "string"},
                                "title": {"type": "string"},
                                "size_in_bytes": {"type": "number"},
                                "duration_in_seconds": {"type": "number"},
                            },
                        },
                    },
                },
                # Unknown keys must start with "_" (extensions).
                "patternProperties": {"^_": {}},
                "additionalProperties": False,
            },
        },
    },
    "patternProperties": {"^_": {}},
    "additionalProperties": False,
}


def main() -> int:
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "jsonfeed":
        try:
            import jsonschema
        except ImportError:
            print("jsonschema is not installed", file=sys.stderr)
            return 3
        doc = json.load(sys.stdin)
        errors = sorted(jsonschema.Draft202012Validator(JSON_FEED_1_1).iter_errors(doc), key=str)
        for e in errors:
            print(f"{list(e.path)}: {e.message}", file=sys.stderr)
        return 1 if errors else 0
    if cmd == "webhook":
        try:
            from standardwebhooks.webhooks import Webhook
        except ImportError:
            print("standardwebhooks is not installed", file=sys.stderr)
            return 3
        msg = json.load(sys.stdin)
        try:
            Webhook(sys.argv[2]).verify(msg["body"], msg["headers"])
        except Exception as e:  # noqa: BLE001 - any failure is a verdict
            print(f"verification failed: {e!r}", file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
