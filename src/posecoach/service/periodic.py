"""The service's background rounds: a daemon thread calling `Periodic.run_once` every ``interval`` seconds until
`Periodic.stop` (the lease sweeper of `jobs`, the outbox dispatcher of `outbox`, the storage sweep of
`lifecycle`). Each round catches its own errors (the database or the queue may be away): the thread never dies."""

from __future__ import annotations

import threading


class Periodic:
    """``run_once`` every ``interval`` seconds on a daemon thread named ``name``; ``first_now``: the first round at
    start (else after one interval); an interval of 0 runs that first round only. `begin` (a hook) runs first on
    the thread and may wait for something; False ends the thread without a round."""

    def __init__(self, name: str, interval: float, *, first_now: bool) -> None:
        self.interval, self.first_now = interval, first_now
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def run_once(self) -> object:
        raise NotImplementedError

    def begin(self) -> bool:
        return True

    def _run(self) -> None:
        if not self.begin():
            return
        if self.first_now:
            self.run_once()
        while self.interval and not self._stop.wait(self.interval):
            self.run_once()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
