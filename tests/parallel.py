"""Real parallel clients for the tests of limits: a live server on a real socket, and threads sending at once.

`live_server_url()` runs the project (Django's threaded WSGI server: each request in its own thread with its own
database connection) on a free port of 127.0.0.1, with a listen queue long enough for every parallel client to
connect at once (Django's holds 10, and a connection beyond them could be reset). `at_once(count, send)` calls
`send()` from `count` threads released together and returns their answers.
"""

import contextlib
import threading
from collections.abc import Callable, Iterator

from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread, _StaticFilesHandler


class _Server(ThreadedWSGIServer):
    request_queue_size = 256


class _ServerThread(LiveServerThread):
    server_class = _Server


@contextlib.contextmanager
def live_server_url() -> Iterator[str]:
    thread = _ServerThread("127.0.0.1", _StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()


def at_once(
    count: int,
    send: Callable[[], object],
    *,
    after_each: Callable[[], None] | None = None,
    meanwhile: Callable[[list], None] | None = None,
) -> list:
    """Call `send()` from `count` threads released together; the answers (an exception's repr for a failed call),
    in order of arrival. `after_each()` runs in a thread after its answer is added; `meanwhile(answers)` runs in
    the calling thread while the others are under way (e.g. to wait for a condition, then release requests held on
    purpose); the threads are joined after it."""
    answers: list = []
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        try:
            answer = send()
        except Exception as error:  # noqa: BLE001 (a failed request is an answer too: the assertions show it)
            answer = repr(error)
        answers.append(answer)
        if after_each is not None:
            after_each()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    if meanwhile is not None:
        meanwhile(answers)
    for thread in threads:
        thread.join(timeout=120)
    return answers
