#!/usr/bin/env python3
"""Reference peer: an echo server on python `websockets` (Debian's python3-websockets 10.4).

    python3 packages/conformance/peers/python-echo-server.py --port P

Prints `listening on ws://127.0.0.1:P`, echoes text and binary unchanged, exits on SIGTERM.
"""
import argparse
import asyncio
import signal

import websockets


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main(port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    # No keepalive pings (they would show up as events in a case), permessage-deflate on (sections 12, 13; as Autobahn runs expect), no size limit
    # below the suite's 16 MiB messages.
    async with websockets.serve(echo, "127.0.0.1", port, ping_interval=None, compression="deflate", max_size=64 * 2**20, max_queue=None) as server:
        bound = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{bound}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9001)
    asyncio.run(main(parser.parse_args().port))
