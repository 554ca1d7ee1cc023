"""A load generator's HTTP client that costs the machine little.

The benches run the system and its load on the same two cores, so what the client burns is taken from
the system it measures: httpx spent 2.1–2.5 ms of CPU per hospital notice, a quarter of the whole
run's CPU, more than PostgreSQL and the broker together. This keeps a few HTTP/1.1 connections alive
and writes and reads them directly (about a tenth of that). For load only: it speaks exactly what our
services answer (a status line, headers, a body of Content-Length bytes or chunked) and nothing more.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit


class LoadClient:
    def __init__(self, base_url: str, connections: int, timeout: float = 30) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"plain http only: {base_url}")
        self.host, self.port = url.hostname, url.port or 80
        self.timeout = timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(connections)

    async def __aenter__(self) -> LoadClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()

    async def post_json(self, path: str, body: object, headers: dict[str, str]) -> tuple[int, bytes]:
        return await self.send("POST", path, headers, body)

    async def send(self, method: str, path: str, headers: dict[str, str], json_body: object = None) -> tuple[int, bytes]:
        """One request; the status and the body of its answer."""
        payload = b"" if json_body is None else json.dumps(json_body).encode()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        if json_body is not None:
            head += "Content-Type: application/json\r\n"
        request = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                   f"Content-Length: {len(payload)}\r\n{head}\r\n").encode() + payload
        async with self._slots:
            connection = self._idle.pop() if self._idle else await asyncio.open_connection(self.host, self.port)
            try:
                status, answer, keep = await asyncio.wait_for(self._exchange(*connection, request), self.timeout)
            except BaseException:
                connection[1].close()
                raise
            if keep:
                self._idle.append(connection)
            else:
                connection[1].close()
            return status, answer

    @staticmethod
    async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        request: bytes) -> tuple[int, bytes, bool]:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {name.strip().lower(): value.strip()
                  for name, _, value in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in fields:
            answer = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readuntil(b"\r\n")
            answer = b"".join(chunks)
        else:
            raise ValueError("an answer without Content-Length or chunked body")
        return status, answer, fields.get("connection", "").lower() != "close"
