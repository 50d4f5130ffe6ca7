"""Reads a message file (RFC 5322 / MIME) with Python's standard `email` package, an
independent parser, and prints what it found as one JSON object: the decoded
subject, From and To, every part's content type, the text and HTML bodies decoded
from their transfer encodings and charsets, and the attachments' file names and
sizes. Exits 1 if the parser reported defects (malformed structure or encodings).

Usage: read_message.py FILE
"""

import json
import sys
from email import policy
from email.parser import BytesParser


def main(path):
    with open(path, "rb") as f:
        message = BytesParser(policy=policy.default).parse(f)
    found = {
        "subject": str(message["subject"]),
        "from": str(message["from"]),
        "to": str(message["to"]),
        "message_id": str(message["message-id"]),
        "content_types": [part.get_content_type() for part in message.walk()],
        "text": None,
        "html": None,
        "attachments": [],
        "defects": [],
    }
    for part in message.walk():
        found["defects"].extend(type(d).__name__ for d in part.defects)
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            found["attachments"].append({"filename": part.get_filename(), "size": len(part.get_content())})
        elif part.get_content_type() == "text/plain" and found["text"] is None:
            found["text"] = part.get_content()
        elif part.get_content_type() == "text/html" and found["html"] is None:
            found["html"] = part.get_content()
    print(json.dumps(found))
    return 1 if found["defects"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
