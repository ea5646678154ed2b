"""Deliveries on worker threads, at most a few at once, so the sender formats while calls are in flight.

With one call at a time, a sender spends each round trip waiting (Firehose: 500 records per
``PutRecordBatch``, tens of milliseconds each). The workers are daemon threads of our own, not a
``concurrent.futures`` executor: an executor refuses work once the interpreter begins to exit,
which is exactly when ``close()`` sends what is still queued.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Optional


class InFlight:
    """Runs ``submit``ted deliveries on ``limit`` worker threads; ``submit`` waits while all are busy.

    A delivery returns whether it succeeded; :meth:`failed` tells (once) whether one did not since
    the last time asked, so the sender can back off.
    """

    def __init__(self, limit: int, name: str, on_start: Callable[[], None]) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._tasks: queue.SimpleQueue[Optional[Callable[[], bool]]] = queue.SimpleQueue()
        self._limit = limit
        self._idle = threading.Condition()
        self._running = 0
        self._failed = False
        for index in range(limit):
            threading.Thread(target=self._work, args=(on_start,), name=f"{name}-{index}", daemon=True).start()

    def submit(self, deliver: Callable[[], bool]) -> None:
        self._slots.acquire()
        with self._idle:
            self._running += 1
        self._tasks.put(deliver)

    @property
    def failing(self) -> bool:
        """Whether a delivery failed since :meth:`failed` was last asked (without resetting it)."""
        return self._failed

    def failed(self) -> bool:
        with self._idle:
            failed, self._failed = self._failed, False
        return failed

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Until no delivery is running (at most ``timeout`` seconds); whether none is."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._running, timeout)

    def stop(self) -> None:
        """Let the workers end once the deliveries already submitted are done."""
        for _ in range(self._limit):
            self._tasks.put(None)

    def _work(self, on_start: Callable[[], None]) -> None:
        on_start()
        while True:
            deliver = self._tasks.get()
            if deliver is None:
                return
            ok = False
            try:
                ok = deliver()
            except Exception:  # the delivery keeps its records itself; here it only counts as failed
                pass
            finally:
                with self._idle:
                    self._failed = self._failed or not ok
                    self._running -= 1
                    self._idle.notify_all()
                self._slots.release()
