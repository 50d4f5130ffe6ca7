"""Drives a running Postline with the official Resend Python SDK, unchanged but
for the base URL (RESEND_API_URL, read at import). Exits non-zero on failure.
Env: RESEND_API_URL, RESEND_API_KEY, FILES_URL (a server with /invoice.pdf)."""

import base64
import os
import time
import urllib.request

import resend

resend.api_key = os.environ["RESEND_API_KEY"]
FILES_URL = os.environ["FILES_URL"]
FROM = "Acme <onboarding@resend.dev>"


def until(check, what):
    for _ in range(100):
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def expect_error(exception_type, name, call):
    try:
        call()
    except exception_type as error:
        assert error.error_type == name, (error.error_type, name)
        return error
    raise AssertionError(f"expected {exception_type.__name__} {name}")


def main():
    sent = resend.Emails.send({"from": FROM, "to": ["delivered@resend.dev"], "subject": "Hello from Python",
                               "html": "<p>hi</p>", "tags": [{"name": "sdk", "value": "python"}]})
    until(lambda: resend.Emails.get(sent["id"])["last_event"] == "delivered", "delivered")
    assert resend.Emails.get(sent["id"])["subject"] == "Hello from Python"

    resend.Emails.send({"from": FROM, "to": "bounced@resend.dev", "subject": "second", "text": "t"})
    page = resend.Emails.list({"limit": 1})
    assert len(page["data"]) == 1 and page["has_more"] is True
    assert resend.Emails.list({"limit": 1, "after": page["data"][0]["id"]})["data"][0]["id"] == sent["id"]

    scheduled = resend.Emails.send({"from": FROM, "to": "delivered@resend.dev", "subject": "later", "text": "t",
                                    "scheduled_at": "in 1 hour"})
    assert resend.Emails.get(scheduled["id"])["last_event"] == "scheduled"
    resend.Emails.update({"id": scheduled["id"], "scheduled_at": "in 2 hours"})
    resend.Emails.cancel(scheduled["id"])
    assert resend.Emails.get(scheduled["id"])["last_event"] == "canceled"

    batch = resend.Batch.send([{"from": FROM, "to": "delivered@resend.dev", "subject": "b1", "text": "t"},
                               {"from": FROM, "to": "complained@resend.dev", "subject": "b2", "text": "t"}])
    assert len(batch["data"]) == 2
    permissive = resend.Batch.send([{"from": FROM, "to": "delivered@resend.dev", "subject": "ok", "text": "t"},
                                    {"from": FROM, "to": "nobody@test.com", "subject": "no", "text": "t"}],
                                   {"batch_validation": "permissive"})
    assert len(permissive["data"]) == 1 and permissive["errors"][0]["index"] == 1

    with_files = resend.Emails.send({
        "from": FROM, "to": "delivered@resend.dev", "subject": "files", "html": '<img src="cid:logo">',
        "attachments": [
            {"filename": "hello.txt", "content": list(b"hello attachment")},
            {"filename": "logo.png", "content": base64.b64encode(b"\x89PNG").decode(), "content_id": "logo"},
            {"filename": "invoice.pdf", "path": f"{FILES_URL}/invoice.pdf"},
        ]})
    files = resend.Emails.Attachments.list(with_files["id"])
    assert len(files["data"]) == 3
    one = resend.Emails.Attachments.get(with_files["id"], files["data"][0]["id"])
    with urllib.request.urlopen(one["download_url"]) as response:
        assert response.read() == b"hello attachment"

    shared = resend.Emails.share(sent["id"], {"expires_in": "2 hours"})
    with urllib.request.urlopen(shared["url"]) as response:
        assert response.status == 200

    first = resend.Emails.send({"from": FROM, "to": "delivered@resend.dev", "subject": "once", "text": "t"},
                               {"idempotency_key": "python-once"})
    again = resend.Emails.send({"from": FROM, "to": "delivered@resend.dev", "subject": "once", "text": "t"},
                               {"idempotency_key": "python-once"})
    assert first["id"] == again["id"]
    conflict = expect_error(resend.exceptions.ResendError, "invalid_idempotent_request", lambda: resend.Emails.send(
        {"from": FROM, "to": "delivered@resend.dev", "subject": "changed", "text": "t"},
        {"idempotency_key": "python-once"}))
    assert str(conflict.code) == "409"

    expect_error(resend.exceptions.MissingRequiredFieldsError, "missing_required_field",
                 lambda: resend.Emails.send({"from": FROM, "subject": "no to", "text": "t"}))
    expect_error(resend.exceptions.ValidationError, "validation_error",
                 lambda: resend.Emails.send({"from": FROM, "to": "a@example.com", "subject": "s", "text": "t"}))
    expect_error(resend.exceptions.ValidationError, "validation_error",
                 lambda: resend.Emails.send({"from": FROM, "to": "not-an-address", "subject": "s", "text": "t"}))
    expect_error(resend.exceptions.ResendError, "not_found",
                 lambda: resend.Emails.get("5f0c3b1e-2b7a-4c55-9d2e-1a2b3c4d5e6f"))

    key = resend.ApiKeys.create({"name": "python smoke"})
    assert key["token"].startswith("re_")
    assert any(k["id"] == key["id"] for k in resend.ApiKeys.list()["data"])
    resend.ApiKeys.update({"id": key["id"], "name": "renamed"})
    resend.ApiKeys.remove(key["id"])
    saved = resend.api_key
    resend.api_key = key["token"]
    try:
        expect_error(resend.exceptions.InvalidApiKeyError, "invalid_api_key", lambda: resend.Emails.list())
        resend.api_key = "no-such-key"
        expect_error(resend.exceptions.InvalidApiKeyError, "invalid_api_key", lambda: resend.Emails.list())
    finally:
        resend.api_key = saved
    # audience: properties, segments, topics, contacts by id and by (percent-encoded) address
    prop = resend.ContactProperties.create({"key": "plan", "type": "number", "fallback_value": 0})
    assert resend.ContactProperties.get(prop["id"])["type"] == "number"
    resend.ContactProperties.update({"id": prop["id"], "fallback_value": 1})
    segment = resend.Segments.create({"name": "Python customers"})
    topic = resend.Topics.create({"name": "Releases", "default_subscription": "opt_out"})
    contact = resend.Contacts.create({
        "email": "bob+py@example.com", "first_name": "Bob", "properties": {"plan": 3},
        "segments": [{"id": segment["id"]}],
    })
    by_email = resend.Contacts.get(email="bob+py@example.com")
    assert by_email["id"] == contact["id"] and by_email["properties"]["plan"] == 3
    resend.Contacts.update({"email": "bob+py@example.com", "last_name": "Stone"})
    assert resend.Contacts.get(id=contact["id"])["last_name"] == "Stone"
    assert [c["id"] for c in resend.Contacts.list(segment_id=segment["id"])["data"]] == [contact["id"]]
    other = resend.Segments.create({"name": "Python trial"})
    resend.Contacts.Segments.add({"email": "bob+py@example.com", "segment_id": other["id"]})
    assert len(resend.Contacts.Segments.list({"contact_id": contact["id"]})["data"]) == 2
    resend.Contacts.Segments.remove({"contact_id": contact["id"], "segment_id": other["id"]})
    topics = resend.Contacts.Topics.list(contact_id=contact["id"])["data"]
    assert topics[0]["subscription"] == "opt_out", topics
    resend.Contacts.Topics.update({"email": "bob+py@example.com", "topics": [{"id": topic["id"], "subscription": "opt_in"}]})
    assert resend.Contacts.Topics.list(email="bob+py@example.com")["data"][0]["subscription"] == "opt_in"
    assert resend.Audiences.get(segment["id"])["id"] == segment["id"]
    expect_error(resend.exceptions.ValidationError, "validation_error",
                 lambda: resend.Contacts.create({"email": "eve@example.com", "properties": {"plan": "three"}}))
    resend.Contacts.remove(email="bob+py@example.com")
    expect_error(resend.exceptions.ResendError, "not_found", lambda: resend.Contacts.get(id=contact["id"]))
    resend.Topics.remove(topic["id"])
    resend.Segments.remove(other["id"])
    resend.ContactProperties.remove(prop["id"])

    imported = resend.Contacts.Imports.create({
        "file": b"Mail,First\nivy+py@example.com,Ivy\nnot-an-address,X\n",
        "column_map": {"email": "Mail", "first_name": "First"},
    })
    for _ in range(100):
        if resend.Contacts.Imports.get(imported["id"])["status"] == "completed":
            break
        time.sleep(0.1)
    counts = resend.Contacts.Imports.get(imported["id"])["counts"]
    assert counts == {"total": 2, "created": 1, "updated": 0, "skipped": 0, "failed": 1}, counts
    assert resend.Contacts.get(email="ivy+py@example.com")["first_name"] == "Ivy"

    # broadcasts: the SDK repeats the id in update and send bodies
    readers = resend.Segments.create({"name": "Python readers"})
    resend.Contacts.create({"email": "delivered+pyreader@resend.dev", "segments": [{"id": readers["id"]}]})
    draft = resend.Broadcasts.create({
        "segment_id": readers["id"], "from": "Acme <onboarding@resend.dev>", "subject": "Hi {{{FIRST_NAME|reader}}}",
        "html": "<p>Hello {{{FIRST_NAME|reader}}}</p>", "name": "Python news",
    })
    resend.Broadcasts.update({"broadcast_id": draft["id"], "text": "Hello {{{FIRST_NAME|reader}}}"})
    assert resend.Broadcasts.get(draft["id"])["text"] == "Hello {{{FIRST_NAME|reader}}}"
    resend.Broadcasts.send({"broadcast_id": draft["id"]})
    until(lambda: resend.Broadcasts.get(draft["id"])["status"] == "sent", "broadcast sent")
    until(lambda: len(resend.Broadcasts.recipients(draft["id"], {"type": "delivered"})["data"]) == 1,
          "broadcast delivered")
    assert resend.Broadcasts.clicked_links(draft["id"])["data"] == []
    copy = resend.Broadcasts.duplicate(draft["id"])
    resend.Broadcasts.send({"broadcast_id": copy["id"], "scheduled_at": "in 1 hour"})
    resend.Broadcasts.cancel(copy["id"])
    assert resend.Broadcasts.get(copy["id"])["status"] == "canceled"
    spare = resend.Broadcasts.create({"audience_id": readers["id"], "from": "a@resend.dev", "subject": "x", "text": "x"})
    assert resend.Broadcasts.remove(spare["id"])["deleted"] is True
    assert any(b["id"] == draft["id"] for b in resend.Broadcasts.list()["data"])

    # templates: update takes the id in its params; sends use the published version
    template = resend.Templates.create({
        "name": "Python welcome", "alias": "py-welcome", "from": "Acme <onboarding@resend.dev>",
        "subject": "Welcome, {{{NAME}}}", "html": "<p>Hi {{{NAME}}}</p>",
        "variables": [{"key": "NAME", "type": "string", "fallback_value": "friend"}],
    })
    resend.Templates.publish(template["id"])
    templated = resend.Emails.send({"to": "delivered@resend.dev", "template": {"id": "py-welcome", "variables": {}}})
    assert resend.Emails.get(templated["id"])["html"] == "<p>Hi friend</p>"
    resend.Templates.update({"id": template["id"], "name": "Python welcome v2"})
    assert resend.Templates.get(template["id"])["name"] == "Python welcome v2"
    template_copy = resend.Templates.duplicate(template["id"])
    assert resend.Templates.remove(template_copy["id"])["deleted"] is True

    suppressed = resend.Suppressions.add({"email": "gone+py@example.com"})
    assert resend.Suppressions.get("gone+py@example.com")["id"] == suppressed["id"]
    assert resend.Suppressions.list({"origin": "manual"})["data"][0]["email"] == "gone+py@example.com"
    resend.Suppressions.remove("gone+py@example.com")
    expect_error(resend.exceptions.ResendError, "not_found", lambda: resend.Suppressions.get(suppressed["id"]))
    print("python SDK smoke: all checks passed")


if __name__ == "__main__":
    main()
