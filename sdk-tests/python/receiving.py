"""Reads received mail with the official Resend Python SDK, unchanged but for the
base URL (RESEND_API_URL, read at import). Exits non-zero on the first failed check.
Env: RESEND_API_URL, RESEND_API_KEY, RECEIVED_ID (the id of the message that
crates/postline/tests/sdk.rs delivers: "Order #42" from ada@example.org to
support@inbound.acme.dev, text + HTML with an inline PNG by cid + a PDF), and
FORWARD_FROM (an address on the verified receiving domain).

The Python SDK (2.52.0) has no `Emails.Receiving.forward` (only the Node SDK does),
so forwarding is not checked here; FORWARD_FROM is accepted and unused."""

import base64
import os
import sys
import urllib.request
from datetime import datetime

import resend

for name in ("RESEND_API_URL", "RESEND_API_KEY", "RECEIVED_ID", "FORWARD_FROM"):
    if not os.environ.get(name):
        sys.exit(f"python SDK receiving check failed: {name} must be set")
resend.api_key = os.environ["RESEND_API_KEY"]
RECEIVED_ID = os.environ["RECEIVED_ID"]

# The attachments of the delivered message, byte for byte (the same constants as sdk.rs).
PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
PDF_BASE64 = "JVBERi0xLjQKJeLjz9MKMSAwIG9iaiA8PD4+IGVuZG9iagp0cmFpbGVyIDw8Pj4KJSVFT0YK"
UNKNOWN_ID = "5f0c3b1e-2b7a-4c55-9d2e-1a2b3c4d5e6f"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def download(url, what):
    check(isinstance(url, str) and url.startswith(("http://", "https://")), f"{what}: not a download URL: {url!r}")
    with urllib.request.urlopen(url) as response:
        check(response.status == 200, f"{what}: GET {url} answered {response.status}")
        return response.read()


def same_bytes(actual, b64, what):
    expected = base64.b64decode(b64)
    check(actual == expected, f"{what}: {len(actual)} bytes differ from the original {len(expected)}")


def expect_404(what, call):
    try:
        call()
    except resend.exceptions.ResendError as error:
        check(str(error.code) == "404", f"{what}: code {error.code!r}, expected 404 ({error.message})")
        return error
    raise AssertionError(f"{what}: expected a 404 error")


def main():
    # list: the delivered message is there, without bodies
    listed = resend.Emails.Receiving.list()
    check(listed["object"] == "list", listed)
    items = [e for e in listed["data"] if e["id"] == RECEIVED_ID]
    check(items, f"Receiving.list does not contain {RECEIVED_ID}: {[e['id'] for e in listed['data']]}")
    check(items[0]["subject"] == "Order #42", items[0])
    check(len(resend.Emails.Receiving.list({"limit": 1})["data"]) == 1, "Receiving.list({'limit': 1})")

    # get: fields, inline image as a data: URI by default, the raw source
    got = resend.Emails.Receiving.get(RECEIVED_ID)
    check(got["object"] == "email" and got["id"] == RECEIVED_ID, got)
    check(got["subject"] == "Order #42", got["subject"])
    check(got["from"] == "Ada Lovelace <ada@example.org>", got["from"])
    check(got["to"] == ["Support <support@inbound.acme.dev>"], got["to"])
    check(got["received_for"] == ["support@inbound.acme.dev"], got["received_for"])
    check(got["message_id"] == "<order-42@example.org>", got["message_id"])
    check((got["text"] or "").strip() == "Your order is ready.", got["text"])
    check(f"data:image/png;base64,{PNG_BASE64}" in got["html"], f"html has no data: URI: {got['html']}")
    check("cid:" not in got["html"], f"html still has cid: {got['html']}")
    check(got["headers"]["X-Order"] == "42", got["headers"])
    check(len(got["attachments"]) == 2, got["attachments"])
    raw = download(got["raw"]["download_url"], "raw")
    check(b"Message-ID: <order-42@example.org>" in raw, "the raw source is the message")
    datetime.fromisoformat(got["raw"]["expires_at"].replace("Z", "+00:00"))  # raises if not a timestamp

    # get with html_format=cid keeps the references
    cid = resend.Emails.Receiving.get(RECEIVED_ID, {"html_format": "cid"})
    check('src="cid:logo@example.org"' in cid["html"], f"cid html: {cid['html']}")
    check("data:image/png" not in cid["html"], f"cid html has a data: URI: {cid['html']}")

    # attachments: list and get, each download equal to the original bytes
    files = resend.Emails.Receiving.Attachments.list(RECEIVED_ID)
    check(files["object"] == "list" and len(files["data"]) == 2, files)
    logo, pdf = files["data"]
    check((logo["filename"], logo["content_type"], logo["content_id"], logo["content_disposition"])
          == ("logo.png", "image/png", "logo@example.org", "inline"), logo)
    check((pdf["filename"], pdf["content_type"], pdf["content_disposition"])
          == ("invoice.pdf", "application/pdf", "attachment"), pdf)
    same_bytes(download(logo["download_url"], "listed logo.png"), PNG_BASE64, "listed logo.png")
    same_bytes(download(pdf["download_url"], "listed invoice.pdf"), PDF_BASE64, "listed invoice.pdf")
    for item, b64 in ((logo, PNG_BASE64), (pdf, PDF_BASE64)):
        one = resend.Emails.Receiving.Attachments.get(RECEIVED_ID, item["id"])
        check(one["object"] == "attachment" and one["id"] == item["id"], one)
        check(one["filename"] == item["filename"], one)
        check(one["size"] == len(base64.b64decode(b64)), one)
        same_bytes(download(one["download_url"], f"got {one['filename']}"), b64, f"got {one['filename']}")

    # (no forwarding: the Python SDK has no Emails.Receiving.forward)

    # an unknown id: a ResendError with code 404
    expect_404("Receiving.get(unknown)", lambda: resend.Emails.Receiving.get(UNKNOWN_ID))
    expect_404("Attachments.list(unknown)", lambda: resend.Emails.Receiving.Attachments.list(UNKNOWN_ID))
    expect_404("Attachments.get(unknown)", lambda: resend.Emails.Receiving.Attachments.get(RECEIVED_ID, UNKNOWN_ID))
    print("python SDK receiving: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # a clear one-line reason first, then the traceback
        print(f"python SDK receiving check failed: {error!r}", file=sys.stderr)
        raise
