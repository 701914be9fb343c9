"""Body limits in the server process we ship (`python -m config.server`), over raw sockets against a real process.

Stock Daphne buffered a whole body (memory and a temporary file) before the application's 413, never size-checked a
chunked body, and let the login and the webhooks parse a 2 MB JSON body. Here each refusal comes while the body
streams in: the figures that prove it are resources of the server process, read from /proc/<pid> (the peak resident
memory `VmHWM` and the bytes it wrote, `wchar`), and the bytes the client managed to send before the server's answer
and close stopped it. Time is never measured.

The server runs on an SQLite file of its own, never migrated: every request here is refused (or answered) before
any query, whatever database the suite runs on.
"""

import json
import select
import socket
from pathlib import Path

import pytest

from tests.chat.daphne import DaphneProcess

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
# What a refused client may still push into the connection: the kernel's socket buffers on both sides plus the
# server's linger allowance (config.server.LINGER_BYTES), far below the bodies sent here.
SENT_BOUND = 48 * MiB
MEMORY_BOUND = 24 * MiB  # growth of the server's peak resident memory over a whole test
WRITTEN_BOUND = 4 * MiB  # bytes the server wrote (files, sockets, logs) over a whole test


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("body-limits")
    process = DaphneProcess(f"sqlite:///{folder / 'unmigrated.sqlite3'}", TMPDIR=str(folder))
    yield process
    process.stop()


def proc_figures(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    io = Path(f"/proc/{pid}/io").read_text()
    figures = {}
    for line in status.splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            name, value = line.split(":", 1)
            figures[name] = int(value.split()[0]) * 1024
    for line in io.splitlines():
        name, value = line.split(":", 1)
        if name == "wchar":
            figures["wchar"] = int(value)
    return figures


def head(method: str, path: str, headers: dict) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{key}: {value}" for key, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def push(server, request_head: bytes, chunks, *, total: int) -> tuple[int, bytes]:
    """Send the head, then body pieces until `total` bytes went out or the server answered or closed; returns the
    body bytes sent and everything the server sent back."""
    connection = socket.create_connection(("127.0.0.1", server.port))
    connection.sendall(request_head)
    connection.setblocking(False)
    sent, pending = 0, b""
    answered = False
    try:
        while sent < total:
            readable, writable, _ = select.select([connection], [connection], [], 30)
            if readable:
                answered = True
                break
            if not writable:
                continue
            if not pending:
                pending = next(chunks)
            try:
                count = connection.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            except BlockingIOError:
                continue
            sent += count
            pending = pending[count:]
        if not answered:
            select.select([connection], [], [], 30)
        connection.setblocking(True)
        connection.settimeout(30)
        answer = b""
        try:
            while not complete(answer) and (chunk := connection.recv(65536)):
                answer += chunk
        except ConnectionResetError:
            pass
        return sent, answer
    finally:
        connection.close()


def complete(answer: bytes) -> bool:
    """Whether `answer` holds a whole response with a `Content-Length` (stock Daphne keeps the connection open)."""
    head_bytes, separator, body = answer.partition(b"\r\n\r\n")
    for line in head_bytes.lower().split(b"\r\n"):
        if separator and line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False


def repeat(piece: bytes):
    while True:
        yield piece


def chunked(size: int):
    piece = b"%x\r\n" % size + b"x" * size + b"\r\n"
    while True:
        yield piece


def status_and_body(answer: bytes) -> tuple[int, dict]:
    head_bytes, _, body = answer.partition(b"\r\n\r\n")
    assert head_bytes.startswith(b"HTTP/1.1 "), answer[:200]
    status = int(head_bytes.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


def report(name: str, before: dict, after: dict, sent: int) -> dict:
    growth = {
        "peak_memory": after["VmHWM"] - before["VmHWM"],
        "written": after["wchar"] - before["wchar"],
        "client_sent": sent,
    }
    print(f"\n{name}: " + ", ".join(f"{key} {value / MiB:.1f} MiB" for key, value in growth.items()))
    return growth


def test_a_declared_400_mb_body_is_refused_at_once_and_the_server_stays_flat(server):
    before = proc_figures(server.pid)
    request_head = head(
        "POST", "/api/materials/", {"Content-Type": "application/octet-stream", "Content-Length": 400 * MiB}
    )
    sent, answer = push(server, request_head, repeat(b"x" * MiB), total=400 * MiB)
    assert status_and_body(answer) == (413, {"detail": "Request body is too large.", "code": "request_too_large"})
    assert b"connection: close" in answer.lower()
    growth = report("declared 400 MiB", before, proc_figures(server.pid), sent)
    assert growth["client_sent"] < SENT_BOUND
    assert growth["peak_memory"] < MEMORY_BOUND
    assert growth["written"] < WRITTEN_BOUND  # no temporary file of the body


def test_a_chunked_800_mb_stream_is_cut_off_after_the_limit(server):
    before = proc_figures(server.pid)
    request_head = head(
        "POST", "/api/scheduling/lessons/", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    )
    sent, answer = push(server, request_head, chunked(64 * 1024), total=800 * MiB)
    assert status_and_body(answer) == (413, {"detail": "Request body is too large.", "code": "request_too_large"})
    growth = report("chunked 800 MiB", before, proc_figures(server.pid), sent)
    assert growth["client_sent"] < SENT_BOUND
    assert growth["peak_memory"] < MEMORY_BOUND
    assert growth["written"] < WRITTEN_BOUND  # at most the route's 1 MiB was kept before the cut


@pytest.mark.parametrize("path", ["/api/auth/login/", "/api/invoices/payments/webhook/", "/api/telegram/webhook/"])
def test_a_2_mb_json_body_to_the_login_or_a_webhook_is_refused_without_being_parsed(server, path):
    before = proc_figures(server.pid)
    # Declared: answered on the headers alone, so there is no body to parse at all.
    request_head = head("POST", path, {"Content-Type": "application/json", "Content-Length": 2_000_000})
    sent, answer = push(server, request_head, repeat(b""), total=0)
    assert (sent, status_and_body(answer)[0]) == (0, 413)
    # Streamed without a length: a 2 MB JSON nested deeply enough that parsing it answers 400; cut off at 413 instead.
    nested = b"[" * 1_000_000 + b"]" * 1_000_000
    pieces = (nested[start : start + 65536] for start in range(0, len(nested), 65536))
    framed = (b"%x\r\n" % len(piece) + piece + b"\r\n" for piece in pieces)
    request_head = head("POST", path, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    sent, answer = push(server, request_head, framed, total=len(nested))
    assert status_and_body(answer) == (413, {"detail": "Request body is too large.", "code": "request_too_large"})
    growth = report(f"2 MB JSON to {path}", before, proc_figures(server.pid), sent)
    assert growth["peak_memory"] < MEMORY_BOUND


def test_a_body_under_the_limit_still_reaches_the_application(server):
    # Malformed JSON under the login's 4 KiB: parsed by the application, which answers its own 400.
    body = b'{"email": '
    headers = {"Content-Type": "application/json", "Content-Length": len(body), "Connection": "close"}
    request_head = head("POST", "/api/auth/login/", headers)
    _sent, answer = push(server, request_head + body, repeat(b""), total=0)
    status, payload = status_and_body(answer)
    assert (status, payload["code"]) == (400, "parse_error")
