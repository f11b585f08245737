"""A Redis outage for one process only: a TCP link to the shared Redis that a test cuts and restores.

The shared Redis is never stopped (other sessions use it); a service started with ``redis_url``
pointing at the link sees connection refusals while it is cut, and the real Redis once restored.
"""

import asyncio
import contextlib

from apps.stack.processes import free_port

CHUNK_BYTES = 65536


class RedisLink:
    """Forwards 127.0.0.1:<port> to the real Redis; ``cut`` refuses and drops every connection.

    ``failing`` (bytes): a connection sending a command that contains them is dropped instead,
    so one kind of write fails while every other command goes through.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.port = free_port()
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.failing: bytes | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            writer.close()
        self._open.clear()
        if server is not None:
            await server.wait_closed()

    async def _forward(self, client: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_writer.close()
            return
        self._open |= {client_writer, upstream_writer}
        await asyncio.gather(
            self._pipe(client, upstream_writer, client_writer),
            self._pipe(upstream_reader, client_writer, None),
            return_exceptions=True,
        )
        self._open -= {client_writer, upstream_writer}

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: asyncio.StreamWriter | None
    ) -> None:
        """Copy reader to writer; commands (``client`` given) holding ``failing`` drop the client."""
        try:
            while chunk := await reader.read(CHUNK_BYTES):
                if client is not None and self.failing is not None and self.failing in chunk:
                    client.close()
                    return
                writer.write(chunk)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()
