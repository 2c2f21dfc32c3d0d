"""``chatbot serve --workers N``: N server processes sharing one port, restarted if they die.

Every worker binds the same address with SO_REUSEPORT and the kernel spreads
new connections among them; Redis (``CHATBOT_REDIS_URL``) carries events
between them. Long-polling needs every request of a session on one process,
which the kernel does not promise: clients should use the websocket
transport, or a load balancer with sticky sessions should sit in front
(docs/deploy.md).

Tested in tests/test_cluster.py.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

log = logging.getLogger(__name__)

STOP_SECONDS = 10.0


class Supervisor:
    """Starts the workers, restarts any that exits unasked, and stops them all on SIGTERM/SIGINT."""

    def __init__(self, worker_args: Sequence[str], count: int) -> None:
        self.command = [sys.executable, "-m", "chatbot", "serve", *worker_args, "--workers", "1", "--reuse-port"]
        self.count = count
        self.workers: list[subprocess.Popen[bytes]] = []
        self.stopping = False

    def _spawn(self) -> subprocess.Popen[bytes]:
        worker = subprocess.Popen(self.command)
        log.info("worker %d started", worker.pid)
        return worker

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.workers = [self._spawn() for _ in range(self.count)]
        while not self.stopping:
            time.sleep(0.2)
            for index, worker in enumerate(self.workers):
                if worker.poll() is not None and not self.stopping:
                    log.warning("worker %d exited with %s; starting another", worker.pid, worker.returncode)
                    self.workers[index] = self._spawn()
        return self._shutdown()

    def _shutdown(self) -> int:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self.workers:
            try:
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop in time; killing it", worker.pid)
                worker.kill()
        return 0
