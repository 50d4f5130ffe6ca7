"""Python's smtplib as an independent SMTP client for the interop tests.

    submit HOST PORT starttls|tls PASSWORD FROM TO SUBJECT
        SMTP submission: STARTTLS (or implicit TLS), AUTH as `resend` with PASSWORD
        (an API key), one message with a text part, an HTML part and a PDF.
    deliver HOST PORT FROM TO SUBJECT
        What a sending MTA does on port 25: EHLO, STARTTLS when offered, no AUTH.

Prints `ok`, or `refused CODE TEXT` for the first refusal; certificates are not
checked (the test server's is self-signed, as opportunistic TLS between MTAs is).
"""

import smtplib
import ssl
import sys
from email.message import EmailMessage


def message(sender, recipient, subject):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["X-Interop"] = "smtplib"
    msg.set_content("Sent by Python's smtplib.")
    msg.add_alternative("<p>Sent by <b>Python's smtplib</b>.</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename="report.pdf")
    return msg


def context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def main():
    mode = sys.argv[1]
    try:
        if mode == "submit":
            host, port, tls, password, sender, recipient, subject = sys.argv[2:9]
            if tls == "tls":
                client = smtplib.SMTP_SSL(host, int(port), context=context(), timeout=30)
            else:
                client = smtplib.SMTP(host, int(port), timeout=30)
                client.starttls(context=context())
            client.login("resend", password)
        else:
            host, port, sender, recipient, subject = sys.argv[2:7]
            client = smtplib.SMTP(host, int(port), timeout=30)
            client.ehlo("mx.sender.example")
            if client.has_extn("starttls"):
                client.starttls(context=context())
        refused = client.send_message(message(sender, recipient, subject), from_addr=sender, to_addrs=[recipient])
        client.quit()
        print("ok" if not refused else f"refused {refused}")
    except smtplib.SMTPResponseException as error:
        text = error.smtp_error.decode() if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
        print(f"refused {error.smtp_code} {text}")
    except smtplib.SMTPRecipientsRefused as error:
        code, text = next(iter(error.recipients.values()))
        print(f"refused {code} {text.decode()}")


if __name__ == "__main__":
    main()
