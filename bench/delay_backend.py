#!/usr/bin/env python3
"""An HTTP/1.1 keep-alive backend that answers every request `200 "ok\\n"` after a fixed delay
(used by bench/queue.sh, where the delay is what makes a limit of in-flight requests matter).

Usage: delay_backend.py PORT DELAY_MS

It serves any number of connections and requests at once (each request sleeps on its own), so the
only limit on what is in flight is the proxy's. It counts the most requests it held at once and
prints `MAX_IN_FLIGHT n` on SIGTERM, so that the script can check the proxy kept its limit.
Requests are GETs without a body (what wrk sends); anything else closes the connection.
"""
import asyncio
import signal
import sys

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n"
in_flight = 0
max_in_flight = 0


async def serve(reader, writer, delay):
    global in_flight, max_in_flight
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if b"content-length:" in head.lower() or b"transfer-encoding:" in head.lower():
                break  # a body this backend does not read
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
            await asyncio.sleep(delay)
            in_flight -= 1
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    port, delay = int(sys.argv[1]), int(sys.argv[2]) / 1000.0
    server = await asyncio.start_server(lambda r, w: serve(r, w, delay), "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    print(f"MAX_IN_FLIGHT {max_in_flight}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
