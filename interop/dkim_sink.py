"""An independent SMTP server (aiosmtpd) that receives one message and verifies
every DKIM signature on it with an independent verifier (dkimpy).

Usage: dkim_sink.py PORT DNS_JSON
  PORT      loopback port to listen on
  DNS_JSON  a JSON object mapping DNS names (e.g. "resend._domainkey.acme.dev.")
            to TXT record values, standing in for DNS.
Prints one JSON line per signature: {"algorithm", "domain", "selector",
"signed_headers" (the h= tag's names, lower-cased), "valid"},
then exits 0 if every signature verified, 1 otherwise.
"""

import asyncio
import json
import re
import sys

import dkim
from aiosmtpd.controller import Controller


class Capture:
    """Hands the first message to the main loop (aiosmtpd runs its own loop in a thread)."""

    def __init__(self, loop):
        self.loop = loop
        self.received = loop.create_future()

    def _deliver(self, content):
        if not self.received.done():
            self.received.set_result(content)

    async def handle_DATA(self, server, session, envelope):
        self.loop.call_soon_threadsafe(self._deliver, envelope.original_content)
        return "250 2.0.0 accepted by aiosmtpd"


async def main(port, records):
    capture = Capture(asyncio.get_running_loop())
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        message = await asyncio.wait_for(capture.received, timeout=60)
    finally:
        controller.stop()

    def dnsfunc(name, timeout=5):
        key = name.decode() if isinstance(name, bytes) else name
        value = records.get(key) or records.get(key.rstrip(".") + ".")
        return value.encode() if value else None

    verifier = dkim.DKIM(message)
    signatures = [h for h in verifier.headers if h[0].lower() == b"dkim-signature"]
    results = []
    for index, (_, value) in enumerate(signatures):
        tags = dict(re.findall(rb"\s*([a-z]+)=([^;]*)", value))
        valid = verifier.verify(idx=index, dnsfunc=dnsfunc)
        results.append({
            "algorithm": tags.get(b"a", b"").decode().strip(),
            "domain": tags.get(b"d", b"").decode().strip(),
            "selector": tags.get(b"s", b"").decode().strip(),
            "signed_headers": [
                name.strip().lower() for name in re.sub(rb"\s", b"", tags.get(b"h", b"")).decode().split(":")
            ],
            "valid": bool(valid),
        })
    for result in results:
        print(json.dumps(result), flush=True)
    return 0 if results and all(r["valid"] for r in results) else 1


if __name__ == "__main__":
    port = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        records = json.load(f)
    sys.exit(asyncio.run(main(port, records)))
