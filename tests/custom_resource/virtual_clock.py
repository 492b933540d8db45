"""The clock the custom resources' tests run on (a cfn_one_shot.time_budget clock).

Time moves only when the code under test sleeps on it (`sleep`) or when a test moves it
(`advance`, `run_next_timer`); a timer fires, in a thread of its own as threading.Timer does,
once the clock reaches its time. Real work (HTTP, SQL, the CPU) takes no time on it. So "the
answer arrived before the deadline" proves that the code's own waits fit the budget, on any
machine at any load, and a test of the timeout timer decides exactly when it fires.
"""

import threading
import time

# How long a test waits for a timer's thread to finish its answer before it calls it a hang.
HANG_S = 60.0
# How often (real seconds) a wait looks whether the clock has reached its end.
WAIT_POLL_S = 0.01
# The least real time a socket gets to connect and exchange one request on loopback.
IO_TIMEOUT_FLOOR_S = 5.0


class _Timer:
    def __init__(self, when: float, function, args: tuple) -> None:
        self.when, self.function, self.args = when, function, args
        self.cancelled = self.started = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._timers: list[_Timer] = []
        self._fired: list[threading.Thread] = []
        self.sleeps: list[float] = []  # every pause the code asked for, in order

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.advance(seconds)

    def wait(self, event: threading.Event, until: float) -> bool:
        """Wait for `event` until this clock reaches `until`, moved by a test or another thread's
        sleep: the wait itself moves no time (the work awaited takes none here); True if set."""
        hung_at = time.monotonic() + HANG_S
        while not event.wait(WAIT_POLL_S):
            if self.now() >= until:
                return False
            assert time.monotonic() < hung_at, "a wait on the virtual clock hung"
        return True

    def io_timeout(self, seconds: float) -> float:
        """A socket's timeout in real seconds for `seconds` on this clock: real I/O takes no time
        here, so a tiny budget (0.05 s) must not become a real timeout a busy machine misses."""
        return max(seconds, IO_TIMEOUT_FLOOR_S)

    def call_at(self, when: float, function, *args) -> _Timer:
        timer = _Timer(when, function, args)
        with self._lock:
            self._timers.append(timer)
        self._fire_due()
        return timer

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
        self._fire_due()

    def pending(self) -> list[float]:
        """When the timers that have neither fired nor been cancelled are due."""
        with self._lock:
            return sorted(t.when for t in self._timers if not (t.cancelled or t.started))

    def run_next_timer(self) -> None:
        """Move to the earliest pending timer's time, fire it and wait until it has finished."""
        (when, *_) = self.pending()
        with self._lock:
            self._now = max(self._now, when)
        self._fire_due()
        self.join_fired()

    def join_fired(self) -> None:
        """Wait for every timer that has fired to finish (what it answered has then arrived)."""
        with self._lock:
            fired = list(self._fired)
        for thread in fired:
            thread.join(HANG_S)
            assert not thread.is_alive(), "a timer's answer hung"

    def _fire_due(self) -> None:
        with self._lock:
            due = [t for t in self._timers if t.when <= self._now and not t.cancelled]
            for timer in due:
                timer.started = True
                self._timers.remove(timer)
            threads = [threading.Thread(target=t.function, args=t.args, daemon=True) for t in due]
            self._fired.extend(threads)
        for thread in threads:
            thread.start()
