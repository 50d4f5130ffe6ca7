// Drives a running Postline with the official Resend Node SDK, unchanged but for
// the base URL (RESEND_BASE_URL). Exits non-zero on the first failed check.
// Env: RESEND_BASE_URL, RESEND_API_KEY, FILES_URL (a server with /invoice.pdf).
import assert from "node:assert/strict";
import { Resend } from "resend";

const resend = new Resend(process.env.RESEND_API_KEY);
const filesUrl = process.env.FILES_URL;
const from = "Acme <onboarding@resend.dev>";

async function ok(promise) {
  const { data, error } = await promise;
  assert.equal(error, null, `unexpected error: ${JSON.stringify(error)}`);
  return data;
}

async function until(check, what) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function checks() {
  // send + get: the worker plays the sandbox scenario
  const sent = await ok(resend.emails.send({
    from, to: ["delivered@resend.dev"], subject: "Hello from Node", html: "<p>hi</p>",
    replyTo: "support@acme.dev", tags: [{ name: "sdk", value: "node" }],
  }));
  assert.match(sent.id, /^[0-9a-f-]{36}$/);
  await until(async () => (await ok(resend.emails.get(sent.id))).last_event === "delivered", "delivered");
  const email = await ok(resend.emails.get(sent.id));
  assert.equal(email.subject, "Hello from Node");
  assert.deepEqual(email.reply_to, ["support@acme.dev"]);

  // list with pagination
  await ok(resend.emails.send({ from, to: "bounced@resend.dev", subject: "second", text: "t" }));
  const page = await ok(resend.emails.list({ limit: 1 }));
  assert.equal(page.data.length, 1);
  assert.equal(page.has_more, true);
  const next = await ok(resend.emails.list({ limit: 1, after: page.data[0].id }));
  assert.equal(next.data[0].id, sent.id);

  // schedule, update, cancel
  const scheduled = await ok(resend.emails.send({ from, to: "delivered@resend.dev", subject: "later", text: "t", scheduledAt: "in 1 hour" }));
  assert.equal((await ok(resend.emails.get(scheduled.id))).last_event, "scheduled");
  const updated = await ok(resend.emails.update({ id: scheduled.id, scheduledAt: new Date(Date.now() + 7200e3).toISOString() }));
  assert.equal(updated.id, scheduled.id);
  const canceled = await ok(resend.emails.cancel(scheduled.id));
  assert.equal(canceled.id, scheduled.id);
  assert.equal((await ok(resend.emails.get(scheduled.id))).last_event, "canceled");

  // batch, strict and permissive
  const batch = await ok(resend.batch.send([
    { from, to: "delivered@resend.dev", subject: "b1", text: "t" },
    { from, to: "complained@resend.dev", subject: "b2", text: "t" },
  ]));
  assert.equal(batch.data.length, 2);
  const permissive = await ok(resend.batch.send([
    { from, to: "delivered@resend.dev", subject: "ok", text: "t" },
    { from, to: "nobody@example.com", subject: "refused", text: "t" },
  ], { batchValidation: "permissive" }));
  assert.equal(permissive.data.length, 1);
  assert.equal(permissive.errors[0].index, 1);

  // attachments: Buffer content, CID, remote path
  const withFiles = await ok(resend.emails.send({
    from, to: "delivered@resend.dev", subject: "files", html: '<img src="cid:logo">',
    attachments: [
      { filename: "hello.txt", content: Buffer.from("hello attachment") },
      { filename: "logo.png", content: Buffer.from([137, 80, 78, 71]).toString("base64"), contentId: "logo" },
      { filename: "invoice.pdf", path: `${filesUrl}/invoice.pdf` },
    ],
  }));
  const files = await ok(resend.emails.attachments.list({ emailId: withFiles.id }));
  assert.equal(files.data.length, 3);
  assert.equal(files.data[1].content_id, "logo");
  const one = await ok(resend.emails.attachments.get({ emailId: withFiles.id, id: files.data[0].id }));
  const downloaded = await (await fetch(one.download_url)).text();
  assert.equal(downloaded, "hello attachment");

  // share
  const shared = await ok(resend.emails.share(sent.id, { expiresIn: "1 hour" }));
  assert.equal((await fetch(shared.url)).status, 200);

  // idempotency
  const first = await ok(resend.emails.send({ from, to: "delivered@resend.dev", subject: "once", text: "t" }, { idempotencyKey: "node-once" }));
  const again = await ok(resend.emails.send({ from, to: "delivered@resend.dev", subject: "once", text: "t" }, { idempotencyKey: "node-once" }));
  assert.equal(first.id, again.id);
  const conflict = await resend.emails.send({ from, to: "delivered@resend.dev", subject: "changed", text: "t" }, { idempotencyKey: "node-once" });
  assert.equal(conflict.error.name, "invalid_idempotent_request");
  assert.equal(conflict.error.statusCode, 409);

  // errors come back as { name, message, statusCode }
  const missing = await resend.emails.send({ from, subject: "no to", text: "t" });
  assert.equal(missing.error.name, "missing_required_field");
  const reserved = await resend.emails.send({ from, to: "a@example.com", subject: "s", text: "t" });
  assert.equal(reserved.error.statusCode, 422);
  const badFrom = await resend.emails.send({ from: "nope", to: "delivered@resend.dev", subject: "s", text: "t" });
  assert.equal(badFrom.error.name, "invalid_from_address");
  const notFound = await resend.emails.get("5f0c3b1e-2b7a-4c55-9d2e-1a2b3c4d5e6f");
  assert.equal(notFound.error.name, "not_found");
  const badKey = await new Resend("re_not_a_real_key_at_all").emails.list();
  assert.equal(badKey.error.name, "invalid_api_key");

  // API keys
  const key = await ok(resend.apiKeys.create({ name: "node smoke", permission: "sending_access" }));
  assert.match(key.token, /^re_/);
  const keys = await ok(resend.apiKeys.list());
  assert.ok(keys.data.some((k) => k.id === key.id));
  const restricted = await new Resend(key.token).emails.list();
  assert.equal(restricted.error.name, "restricted_api_key");
  await ok(resend.apiKeys.update(key.id, { name: "renamed" }));
  await ok(resend.apiKeys.remove(key.id));
  const gone = await new Resend(key.token).emails.send({ from, to: "delivered@resend.dev", subject: "s", text: "t" });
  assert.equal(gone.error.name, "invalid_api_key");

  // audience: properties, segments, topics, contacts by id and by address
  const property = await ok(resend.contactProperties.create({ key: "company_name", type: "string", fallbackValue: "your company" }));
  assert.equal((await ok(resend.contactProperties.get(property.id))).key, "company_name");
  const segment = await ok(resend.segments.create({ name: "Node customers" }));
  assert.equal(segment.name, "Node customers");
  const topic = await ok(resend.topics.create({ name: "Product news", defaultSubscription: "opt_in" }));
  const contact = await ok(resend.contacts.create({
    email: "ann+node@example.com", firstName: "Ann", properties: { company_name: "Acme" },
    segments: [{ id: segment.id }], topics: [{ id: topic.id, subscription: "opt_out" }],
  }));
  const byEmail = await ok(resend.contacts.get({ email: "ann+node@example.com" }));
  assert.equal(byEmail.id, contact.id);
  assert.equal(byEmail.properties.company_name, "Acme");
  assert.equal((await ok(resend.contacts.get(contact.id))).first_name, "Ann");
  await ok(resend.contacts.update({ email: "ann+node@example.com", unsubscribed: true }));
  assert.equal((await ok(resend.contacts.get(contact.id))).unsubscribed, true);
  const members = await ok(resend.contacts.list({ segmentId: segment.id }));
  assert.deepEqual(members.data.map((c) => c.id), [contact.id]);
  const other = await ok(resend.segments.create({ name: "Node trial" }));
  await ok(resend.contacts.segments.add({ email: "ann+node@example.com", segmentId: other.id }));
  const inSegments = await ok(resend.contacts.segments.list({ contactId: contact.id }));
  assert.equal(inSegments.data.length, 2);
  await ok(resend.contacts.segments.remove({ contactId: contact.id, segmentId: other.id }));
  const topics = await ok(resend.contacts.topics.list({ id: contact.id }));
  assert.equal(topics.data[0].subscription, "opt_out");
  await ok(resend.contacts.topics.update({ email: "ann+node@example.com", topics: [{ id: topic.id, subscription: "opt_in" }] }));
  assert.equal((await ok(resend.contacts.topics.list({ email: "ann+node@example.com" }))).data[0].subscription, "opt_in");
  const audience = await ok(resend.audiences.get(segment.id));
  assert.equal(audience.id, segment.id);
  const unknown = await resend.contacts.create({ email: "bob@example.com", properties: { CompanyName: "x" } });
  assert.equal(unknown.error.name, "validation_error");
  await ok(resend.contacts.remove({ email: "ann+node@example.com" }));
  assert.equal((await resend.contacts.get(contact.id)).error.name, "not_found");
  await ok(resend.topics.remove(topic.id));
  await ok(resend.segments.remove(other.id));
  await ok(resend.contactProperties.remove(property.id));

  // contact imports: a multipart CSV (a Blob, the column map built from camelCase)
  const imported = await ok(resend.contacts.imports.create({
    file: new Blob(["E-mail,Given\nivy+node@example.com,Ivy\nnot-an-address,X\n"], { type: "text/csv" }),
    columnMap: { email: "E-mail", firstName: "Given" }, onConflict: "upsert",
  }));
  await until(async () => (await ok(resend.contacts.imports.get(imported.id))).status === "completed", "import completed");
  assert.deepEqual((await ok(resend.contacts.imports.get(imported.id))).counts,
    { total: 2, created: 1, updated: 0, skipped: 0, failed: 1 });
  assert.equal((await ok(resend.contacts.get({ email: "ivy+node@example.com" }))).first_name, "Ivy");
  assert.ok((await ok(resend.contacts.imports.list())).data.some((i) => i.id === imported.id));

  // broadcasts: draft, update, send, recipients, duplicate, schedule, cancel, remove
  const readers = await ok(resend.segments.create({ name: "Node readers" }));
  await ok(resend.contacts.create({ email: "delivered+reader@resend.dev", firstName: "Rae", segments: [{ id: readers.id }] }));
  const draft = await ok(resend.broadcasts.create({
    segmentId: readers.id, from, subject: "News for {{{FIRST_NAME|you}}}", html: "<p>Hi {{{FIRST_NAME|there}}}</p>",
    name: "Node news", replyTo: "support@acme.dev", previewText: "Inside",
  }));
  await ok(resend.broadcasts.update(draft.id, { subject: "News for {{{FIRST_NAME|you}}}!", text: "Hi {{{FIRST_NAME|there}}}" }));
  const shownDraft = await ok(resend.broadcasts.get(draft.id));
  assert.equal(shownDraft.status, "draft");
  assert.equal(shownDraft.subject, "News for {{{FIRST_NAME|you}}}!");
  await ok(resend.broadcasts.send(draft.id));
  await until(async () => (await ok(resend.broadcasts.get(draft.id))).status === "sent", "broadcast sent");
  await until(async () => (await ok(resend.broadcasts.recipients(draft.id, { type: "delivered" }))).data.length === 1,
    "broadcast delivered");
  const reached = await ok(resend.broadcasts.recipients(draft.id, { type: "delivered" }));
  assert.equal(reached.data[0].email, "delivered+reader@resend.dev");
  assert.deepEqual((await ok(resend.broadcasts.clickedLinks(draft.id))).data, []);
  const copy = await ok(resend.broadcasts.duplicate(draft.id));
  await ok(resend.broadcasts.send(copy.id, { scheduledAt: "in 1 hour" }));
  assert.equal((await ok(resend.broadcasts.get(copy.id))).status, "draft");
  await ok(resend.broadcasts.cancel(copy.id));
  assert.equal((await ok(resend.broadcasts.get(copy.id))).status, "canceled");
  const spare = await ok(resend.broadcasts.create({ audienceId: readers.id, from, subject: "Spare", text: "x" }));
  await ok(resend.broadcasts.remove(spare.id));
  assert.ok((await ok(resend.broadcasts.list())).data.some((b) => b.id === draft.id));

  // templates: create and publish in one chain, send by alias with variables, edit, duplicate
  const template = await ok(resend.templates.create({
    name: "Node welcome", alias: "node-welcome", from, subject: "Welcome, {{{NAME}}}",
    html: "<p>Hi {{{NAME}}}, {{{SEATS}}} seats</p>",
    variables: [{ key: "NAME", type: "string" }, { key: "SEATS", type: "number", fallbackValue: 1 }],
  }).publish());
  assert.equal((await ok(resend.templates.get("node-welcome"))).status, "published");
  const templated = await ok(resend.emails.send({
    to: "delivered@resend.dev", template: { id: "node-welcome", variables: { NAME: "Ann & Bo" } },
  }));
  const rendered = await ok(resend.emails.get(templated.id));
  assert.equal(rendered.subject, "Welcome, Ann & Bo");
  assert.equal(rendered.html, "<p>Hi Ann &amp; Bo, 1 seats</p>");
  const unfilled = await resend.emails.send({ to: "delivered@resend.dev", template: { id: template.id, variables: {} } });
  assert.equal(unfilled.error.name, "missing_required_field");
  await ok(resend.templates.update(template.id, { subject: "Hello, {{{NAME}}}" }));
  assert.equal((await ok(resend.templates.get(template.id))).has_unpublished_versions, true);
  const templateCopy = await ok(resend.templates.duplicate(template.id));
  assert.ok((await ok(resend.templates.list())).data.some((t) => t.id === templateCopy.id));
  await ok(resend.templates.remove(templateCopy.id));

  // suppressions: the list the MTA consults
  const suppressed = await ok(resend.suppressions.add({ email: "gone+node@example.com" }));
  assert.equal((await ok(resend.suppressions.get("gone+node@example.com"))).id, suppressed.id);
  assert.equal((await ok(resend.suppressions.list({ origin: "manual" }))).data[0].origin, "manual");
  const listed = await ok(resend.suppressions.batch.add({ emails: ["x1@example.com", "x2@example.com"] }));
  assert.equal(listed.data.length, 2);
  await ok(resend.suppressions.batch.remove({ ids: listed.data.map((d) => d.id) }));
  await ok(resend.suppressions.remove(suppressed.id));
  assert.equal((await resend.suppressions.get(suppressed.id)).error.name, "not_found");
}

checks().then(
  () => console.log("node SDK smoke: all checks passed"),
  (error) => { console.error(error); process.exit(1); },
);
