#!/usr/bin/env python3
"""Reference peer: the Autobahn client loop on python `websockets` (Debian's python3-websockets 10.4).

    python3 packages/conformance/peers/python-autobahn-client.py --url ws://127.0.0.1:P --agent NAME

GET /getCaseCount, then /runCase?case=N&agent=NAME for each case (echoing every message), then
/updateReports?agent=NAME. Each connection is bounded in time.
"""
import argparse
import asyncio
import urllib.parse

import websockets

OPTIONS = dict(ping_interval=None, compression="deflate", max_size=64 * 2**20, max_queue=None, close_timeout=2)


async def run_case(url):
    try:
        async with websockets.connect(url, **OPTIONS) as ws:
            async for message in ws:
                await ws.send(message)
    except (websockets.ConnectionClosed, websockets.InvalidHandshake, OSError):
        pass


async def case_count(base):
    async with websockets.connect(f"{base}/getCaseCount", **OPTIONS) as ws:
        return int(await ws.recv())


async def update_reports(url):
    async with websockets.connect(url, **OPTIONS) as ws:
        try:
            await ws.recv()
        except websockets.ConnectionClosed:
            pass


async def main(base, agent):
    count = await asyncio.wait_for(case_count(base), timeout=30)
    quoted = urllib.parse.quote(agent)
    for case in range(1, count + 1):
        await asyncio.wait_for(run_case(f"{base}/runCase?case={case}&agent={quoted}"), timeout=120)
    await asyncio.wait_for(update_reports(f"{base}/updateReports?agent={quoted}"), timeout=30)
    print(f"ran {count} cases", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="ws://127.0.0.1:9001")
    parser.add_argument("--agent", default="python-websockets")
    args = parser.parse_args()
    asyncio.run(main(args.url.rstrip("/"), args.agent))
