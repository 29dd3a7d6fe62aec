"""The bench's SMTP server on loopback: `python smtp_sink.py PORT`.

It accepts every message and prints, for each, the moment it accepted it (CLOCK_MONOTONIC,
which every process of the machine reads alike, so the bench compares it with its own
clock) and the recipients. It prints `ready` once it listens and stops on SIGTERM. Run by
the rendered project's Python, where aiosmtpd is installed (a development dependency
there), in a process of its own: the bench's own HTTP client never delays its readings.
"""

import signal
import sys
import time
from typing import Any

from aiosmtpd.controller import Controller


class Recorder:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        accepted = time.monotonic()
        print(f"{accepted:.6f} {' '.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    # Blocked before the server's thread starts, so that it inherits the mask and this
    # thread alone takes them, in sigwait.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    controller = Controller(Recorder(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    signal.sigwait(stop_signals)
    controller.stop()


if __name__ == "__main__":
    main()
