// Reads and forwards received mail with the official Resend Node SDK, unchanged but
// for the base URL (RESEND_BASE_URL). Exits non-zero on the first failed check.
// Env: RESEND_BASE_URL, RESEND_API_KEY, RECEIVED_ID (the id of the message that
// crates/postline/tests/sdk.rs delivers: "Order #42" from ada@example.org to
// support@inbound.acme.dev, text + HTML with an inline PNG by cid + a PDF), and
// FORWARD_FROM (an address on the verified receiving domain).
import assert from "node:assert/strict";
import { Resend } from "resend";

for (const name of ["RESEND_BASE_URL", "RESEND_API_KEY", "RECEIVED_ID", "FORWARD_FROM"]) {
  assert.ok(process.env[name], `${name} must be set`);
}
const resend = new Resend(process.env.RESEND_API_KEY);
const receivedId = process.env.RECEIVED_ID;
const forwardFrom = process.env.FORWARD_FROM;

// The attachments of the delivered message, byte for byte (the same constants as sdk.rs).
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const PDF_BASE64 = "JVBERi0xLjQKJeLjz9MKMSAwIG9iaiA8PD4+IGVuZG9iagp0cmFpbGVyIDw8Pj4KJSVFT0YK";
const UNKNOWN_ID = "5f0c3b1e-2b7a-4c55-9d2e-1a2b3c4d5e6f";

async function ok(promise, what) {
  const { data, error } = await promise;
  assert.equal(error, null, `${what}: unexpected error: ${JSON.stringify(error)}`);
  assert.ok(data, `${what}: no data`);
  return data;
}

async function download(url, what) {
  assert.match(url ?? "", /^https?:\/\//, `${what}: not a download URL: ${url}`);
  const response = await fetch(url);
  assert.equal(response.status, 200, `${what}: GET ${url} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

function sameBytes(actual, base64, what) {
  const expected = Buffer.from(base64, "base64");
  assert.ok(actual.equals(expected), `${what}: ${actual.length} bytes differ from the original ${expected.length}`);
}

async function checks() {
  // list: the delivered message is there, without bodies
  const list = await ok(resend.emails.receiving.list(), "receiving.list");
  assert.equal(list.object, "list");
  const item = list.data.find((e) => e.id === receivedId);
  assert.ok(item, `receiving.list does not contain ${receivedId}: ${JSON.stringify(list.data.map((e) => e.id))}`);
  assert.equal(item.subject, "Order #42");
  const limited = await ok(resend.emails.receiving.list({ limit: 1 }), "receiving.list({limit: 1})");
  assert.equal(limited.data.length, 1);

  // get: fields, inline image as a data: URI by default, the raw source
  const email = await ok(resend.emails.receiving.get(receivedId), "receiving.get");
  assert.equal(email.object, "email");
  assert.equal(email.id, receivedId);
  assert.equal(email.subject, "Order #42");
  assert.equal(email.from, "Ada Lovelace <ada@example.org>");
  assert.deepEqual(email.to, ["Support <support@inbound.acme.dev>"]);
  assert.deepEqual(email.received_for, ["support@inbound.acme.dev"]);
  assert.equal(email.message_id, "<order-42@example.org>");
  assert.equal(email.text?.trim(), "Your order is ready.");
  assert.ok(email.html.includes(`data:image/png;base64,${PNG_BASE64}`), `html has no data: URI: ${email.html}`);
  assert.ok(!email.html.includes("cid:"), `html still has cid: ${email.html}`);
  assert.equal(email.headers["X-Order"], "42");
  assert.equal(email.attachments.length, 2);
  const raw = (await download(email.raw?.download_url, "raw")).toString("latin1");
  assert.ok(raw.includes("Message-ID: <order-42@example.org>"), "the raw source is the message");
  assert.ok(!Number.isNaN(Date.parse(email.raw.expires_at)), `raw.expires_at: ${email.raw.expires_at}`);

  // get with html_format=cid keeps the references
  const cid = await ok(resend.emails.receiving.get(receivedId, { html_format: "cid" }), "receiving.get(cid)");
  assert.ok(cid.html.includes('src="cid:logo@example.org"'), `cid html: ${cid.html}`);
  assert.ok(!cid.html.includes("data:image/png"), `cid html has a data: URI: ${cid.html}`);

  // attachments: list and get, each download equal to the original bytes
  const files = await ok(resend.emails.receiving.attachments.list({ emailId: receivedId }), "attachments.list");
  assert.equal(files.object, "list");
  assert.equal(files.data.length, 2);
  const [logo, pdf] = files.data;
  assert.equal(logo.filename, "logo.png");
  assert.equal(logo.content_type, "image/png");
  assert.equal(logo.content_id, "logo@example.org");
  assert.equal(logo.content_disposition, "inline");
  assert.equal(pdf.filename, "invoice.pdf");
  assert.equal(pdf.content_type, "application/pdf");
  assert.equal(pdf.content_disposition, "attachment");
  sameBytes(await download(logo.download_url, "listed logo.png"), PNG_BASE64, "listed logo.png");
  sameBytes(await download(pdf.download_url, "listed invoice.pdf"), PDF_BASE64, "listed invoice.pdf");
  for (const [listed, base64] of [[logo, PNG_BASE64], [pdf, PDF_BASE64]]) {
    const one = await ok(resend.emails.receiving.attachments.get({ emailId: receivedId, id: listed.id }), "attachments.get");
    assert.equal(one.object, "attachment");
    assert.equal(one.id, listed.id);
    assert.equal(one.filename, listed.filename);
    assert.equal(one.size, Buffer.from(base64, "base64").length);
    sameBytes(await download(one.download_url, `got ${one.filename}`), base64, `got ${one.filename}`);
  }

  // forward, passthrough (the default): the SDK downloads the raw source, parses it
  // and sends its text, HTML and attachments as a new email
  const passthrough = await ok(resend.emails.receiving.forward({
    emailId: receivedId, to: "delivered@resend.dev", from: forwardFrom,
  }), "forward (passthrough)");
  assert.match(passthrough.id, /^[0-9a-f-]{36}$/);
  const copy = await ok(resend.emails.get(passthrough.id), "emails.get(passthrough)");
  assert.equal(copy.subject, "Order #42");
  assert.equal(copy.from, forwardFrom);
  assert.ok(copy.html.includes("cid:logo@example.org"), `forwarded html: ${copy.html}`);
  const copied = await ok(resend.emails.attachments.list({ emailId: passthrough.id }), "forwarded attachments");
  assert.deepEqual(copied.data.map((a) => a.filename), ["logo.png", "invoice.pdf"]);
  assert.equal(copied.data[0].content_id, "logo@example.org");
  sameBytes(await download(copied.data[1].download_url, "forwarded invoice.pdf"), PDF_BASE64, "forwarded invoice.pdf");

  // forward wrapped: a note, the original attached as message/rfc822
  const wrapped = await ok(resend.emails.receiving.forward({
    emailId: receivedId, to: "delivered@resend.dev", from: forwardFrom, passthrough: false, text: "FYI",
  }), "forward (wrapped)");
  assert.match(wrapped.id, /^[0-9a-f-]{36}$/);
  const note = await ok(resend.emails.get(wrapped.id), "emails.get(wrapped)");
  assert.equal(note.subject, "Fwd: Order #42");
  assert.equal(note.text, "FYI");
  const enclosed = await ok(resend.emails.attachments.list({ emailId: wrapped.id }), "wrapped attachments");
  assert.equal(enclosed.data.length, 1);
  assert.equal(enclosed.data[0].filename, "forwarded_message.eml");
  assert.equal(enclosed.data[0].content_type, "message/rfc822");
  const eml = await download(enclosed.data[0].download_url, "forwarded_message.eml");
  assert.equal(eml.toString("latin1"), raw, "the original travels unchanged");

  // an unknown id: an error object with a 404 status, for get, attachments and forward
  const missing = await resend.emails.receiving.get(UNKNOWN_ID);
  assert.equal(missing.data, null);
  assert.equal(missing.error?.statusCode, 404, `receiving.get(unknown): ${JSON.stringify(missing.error)}`);
  assert.equal(missing.error.name, "not_found");
  const noFiles = await resend.emails.receiving.attachments.list({ emailId: UNKNOWN_ID });
  assert.equal(noFiles.error?.statusCode, 404, `attachments.list(unknown): ${JSON.stringify(noFiles.error)}`);
  const noFile = await resend.emails.receiving.attachments.get({ emailId: receivedId, id: UNKNOWN_ID });
  assert.equal(noFile.error?.statusCode, 404, `attachments.get(unknown): ${JSON.stringify(noFile.error)}`);
  const noForward = await resend.emails.receiving.forward({ emailId: UNKNOWN_ID, to: "delivered@resend.dev", from: forwardFrom });
  assert.equal(noForward.error?.statusCode, 404, `forward(unknown): ${JSON.stringify(noForward.error)}`);
}

checks().then(
  () => console.log("node SDK receiving: all checks passed"),
  (error) => {
    console.error(`node SDK receiving check failed: ${error.message}`);
    console.error(error);
    process.exit(1);
  },
);
