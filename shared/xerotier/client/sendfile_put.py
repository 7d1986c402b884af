"""A file ``PUT`` whose body the kernel copies (``socket.sendfile``) while a thread hashes the
file through a memory map: no Python copy of the bytes on the way out, one read each for the
socket and the hash, overlapped. Plain ``http://`` only (TLS needs the bytes in user space);
``None`` tells the caller to send the ordinary way."""

from __future__ import annotations

import hashlib
import http.client
import json
import mmap
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from xerotier.client.http import ApiError

STEP = 4 << 20


def _hash_mapped(path: Path, digest: Any, failed: list[BaseException]) -> None:
    try:
        with path.open("rb") as src, mmap.mmap(src.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                for start in range(0, len(view), STEP):
                    digest.update(view[start : start + STEP])
            finally:
                view.release()
    except BaseException as exc:  # reported by the caller's thread
        failed.append(exc)


def put_file(
    base_url: str,
    headers: dict[str, str],
    target: str,
    source: Path,
    progress: Callable[[int], None] | None,
    timeout: float,
) -> tuple[dict[str, Any], str] | None:
    """PUT ``source`` to ``base_url + target``; (the answered JSON, the sha256 computed here)."""
    url = urlsplit(base_url)
    if url.scheme != "http" or not url.hostname:
        return None
    size = source.stat().st_size
    digest, failed = hashlib.sha256(), list[BaseException]()
    hasher = threading.Thread(target=_hash_mapped, args=(source, digest, failed), name="sha256", daemon=True)
    hasher.start()
    lines = [f"PUT {url.path.rstrip('/')}{target} HTTP/1.1", f"Host: {url.netloc}", f"Content-Length: {size}",
             "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    try:
        with socket.create_connection((url.hostname, url.port or 80), timeout=timeout) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            try:
                with source.open("rb") as src:
                    for offset in range(0, size, STEP):
                        sent = sock.sendfile(src, offset, min(STEP, size - offset))
                        if progress:
                            progress(sent)
            except OSError:
                pass  # the server answered early (an error) and closed: read what it said
            response = http.client.HTTPResponse(sock, method="PUT")
            response.begin()
            body = response.read()
    except OSError as exc:
        raise ApiError(0, f"Cannot reach the API at {base_url}: {exc}") from None
    finally:
        hasher.join()
    if failed:
        raise failed[0]
    try:
        answer = json.loads(body) if body else {}
    except ValueError:
        answer = {}
    if response.status >= 400:
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict) and "message" in error:
            raise ApiError(response.status, error["message"], error.get("type"))
        raise ApiError(response.status, body[:500].decode(errors="replace") or response.reason)
    return answer, digest.hexdigest()
