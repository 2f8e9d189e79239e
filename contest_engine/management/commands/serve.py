"""Serve the embedded default: one Daphne process plus one worker, stopped together.

Used by ``make demo``. Production runs the server processes and workers separately (docs/operations.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from django.core.management.base import BaseCommand

from realtime.protocol import SERVER_MAX_MESSAGE_BYTES


class Command(BaseCommand):
    help = "Run Daphne on 127.0.0.1:PORT and a task worker, for the one-process embedded default."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args, **options):
        python = sys.executable
        worker = subprocess.Popen([python, "manage.py", "run_worker"])  # noqa: S603
        server = subprocess.Popen(  # noqa: S603
            [python, "-m", "daphne", "-b", options["host"], "-p", str(options["port"]),
             # Frames up to this size get the exam socket's typed error; larger ones are closed with 1009.
             "--websocket-max-message-size", str(SERVER_MAX_MESSAGE_BYTES), "contest_engine.asgi:application"]
        )
        self.stdout.write(f"Serving on http://{options['host']}:{options['port']}/  (Ctrl+C to stop)")

        def stop(*_args):
            for proc in (server, worker):
                if proc.poll() is None:
                    proc.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for proc in (server, worker):
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
