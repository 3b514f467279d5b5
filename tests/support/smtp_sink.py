"""A real SMTP server for the tests (aiosmtpd): every message it accepts is written to
DIR/<n>.json as {"from", "to", "subject", "body"} (the body decoded from its transfer
encoding). Prints the port it listens on, then runs until stdin closes or it is killed.

    python smtp_sink.py DIR [--slow SECONDS] [--port PORT] [--reject ADDRESS]

With --slow, each MAIL FROM is answered only after that many seconds: a sender that
stops waiting (or exits) in between delivers nothing. With --port, it listens there
(a mail server coming back where the service expects it) instead of on a free port.
With --reject, mail for that address is refused for good (550), as for an unknown user.
"""
import asyncio
import email
import email.policy
import json
import socket
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder, slow=0.0, reject=None):
        self.folder = folder
        self.slow = slow
        self.reject = reject
        self.count = 0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await asyncio.sleep(self.slow)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.reject:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            name = self.folder / f"{self.count:04}.json"
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "body": message.get_content(),
        }
        tmp = name.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.rename(name)  # readers never see half a mail
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    slow = float(sys.argv[sys.argv.index("--slow") + 1]) if "--slow" in sys.argv else 0.0
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else free_port()
    reject = sys.argv[sys.argv.index("--reject") + 1] if "--reject" in sys.argv else None
    controller = Controller(Sink(folder, slow, reject), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    try:
        sys.stdin.read()  # the test holds our stdin; when it goes, so do we
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
