"""A channel's real blueprint on a loopback port, in a thread with its own event loop, so sync HTTP
clients, hypothesis tests and Playwright's sync API can all drive it."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid


class ChannelServer:
    def __init__(self, channel, on_new_message, prefix: str):
        from sanic import Sanic

        Sanic.test_mode = True  # several apps in one process (as sanic-testing does)
        self.app = Sanic(f"channel_test_{uuid.uuid4().hex[:8]}")
        # As the launchers do (SANIC_KEEP_ALIVE_TIMEOUT=75): with Sanic's 5 s, a pooled client
        # connection left idle that long on a loaded machine is closed just as the client reuses
        # it, and the request fails with "connection reset by peer".
        self.app.config.KEEP_ALIVE_TIMEOUT = 75
        self.app.blueprint(channel.blueprint(on_new_message), url_prefix=prefix)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}{prefix}"
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def start():
            self.server = await self.app.create_server(host="127.0.0.1", port=self.port,
                                                       return_asyncio_server=True, access_log=False)
            await self.server.startup()
            await self.server.start_serving()
            ready.set()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(start())
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        if not ready.wait(15):
            raise RuntimeError(f"{prefix} server did not start")

    def stop(self) -> None:
        async def close():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
