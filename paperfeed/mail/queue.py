"""Account emails (verify an address, reset a password, "you already have an account")
sent from one background thread, so a request never waits on an SMTP server.

Why: a form that mails only when an account exists answers later when it does (the
SMTP conversation took 9-10 ms against 2-3 ms), which tells anyone timing it who has
an account; and a slow mail server would hold one of the few web threads per request.
A job given to `put` does the account lookup, the rate limit and the composing as
well, so what the request itself does is the same whoever asked.

A job is a callable returning the message to send, or None for nothing to send. A job
that fails is logged and the next one runs. The queue lives in memory: what is waiting
when the process stops is lost, and the member asks again (these are one-off links,
not digests, which have the store's outbox).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from email.message import EmailMessage

from ..errors import MailError
from ..settings import Settings
from .smtp import Mailer

log = logging.getLogger(__name__)
MAX_WAITING = 1000  # beyond this a burst of requests is shed (logged), not queued forever
Job = Callable[[], EmailMessage | None]


class MailQueue:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._jobs: queue.Queue[tuple[str, Job]] = queue.Queue(MAX_WAITING)
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def put(self, what: str, job: Job) -> None:
        """Run `job` on the mail thread and send what it returns; `what` names it in logs."""
        self._start()
        with self._idle:
            self._pending += 1
        try:
            self._jobs.put_nowait((what, job))
        except queue.Full:
            log.warning("mail queue full: dropped %s", what)
            self._done()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every job put so far has run (shutdown, tests); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="paperfeed-mail",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            what, job = self._jobs.get()
            try:
                message = job()
                if message is not None:
                    Mailer(self.settings).send(message)
            except MailError as exc:
                log.warning("could not send %s: %s", what, exc)
            except Exception:  # one bad job must not stop the ones behind it
                log.exception("could not send %s", what)
            finally:
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()
