"""The floor of a fresh-connection HTTP request on this machine, for reading the MLflow ratios.

The shared MLflow benchmark sends ``Connection: close``: a new TCP connection per request. Part of
every figure is therefore the client's own work (connecting, writing, parsing the answer), which no
server can remove. This measures that part: the same client against a server
process that answers a fixed JSON body without looking at the request. MLflow's p50 divided by this
floor is the largest ratio any server could reach on a route.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

_SERVER = r"""
import asyncio, sys
BODY = b'{"models":[]}'
ANSWER = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
          b"content-length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
async def answer(reader, writer):
    await reader.readuntil(b"\r\n\r\n")
    writer.write(ANSWER)
    await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(answer, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_floor(requests: int = 300) -> dict[str, float]:
    """p50 and p99 in ms of ``GET`` with a fresh client and connection against a no-op server."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", _SERVER, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        samples = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Connection": "close"}) as client:
            for i in range(requests + 20):
                start = time.perf_counter()
                client.get("/v1/models", params={"namePrefix": "model-1", "limit": 1}).json()
                if i >= 20:  # warm-up excluded
                    samples.append((time.perf_counter() - start) * 1000)
    finally:
        server.terminate()
        server.wait(timeout=10)
    samples.sort()
    return {"p50_ms": samples[len(samples) // 2], "p99_ms": samples[int(len(samples) * 0.99) - 1]}
