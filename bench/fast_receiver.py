#!/usr/bin/python3
"""A webhook receiver for bench/webhooks.sh: answers every request 200 at
once and logs it, as fast as one Python thread can (asyncio, HTTP/1.1 with
kept-alive connections).  test/notify/receiver.py, the tests' receiver,
takes about 300 requests a second here (a thread per connection, the
http.server parser): the benchmark would measure it instead of the worker.

    fast_receiver.py --log FILE [--port N]

Prints the port it got as the first line on stdout.  The log has one JSON
object a line, as receiver.py's (seq, time: arrival in Unix seconds,
method, path, headers with lower-case names, body), flushed per request.
No signature check, no scripted answers: the tests use receiver.py.
"""

import argparse
import asyncio
import json
import sys
import time


class Log:
    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")
        self.seq = 0

    def record(self, arrived, request_line, headers, body):
        self.seq += 1
        method, path, _ = request_line.split(" ", 2)
        self.file.write(json.dumps({"seq": self.seq, "time": arrived, "method": method,
                                    "path": path, "headers": headers,
                                    "body": body.decode("utf-8", "replace")}) + "\n")
        self.file.flush()


async def serve(reader, writer, log):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            arrived = time.time()
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            log.record(arrived, lines[0], headers, body)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n200")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    log = Log(args.log)
    server = await asyncio.start_server(lambda r, w: serve(r, w, log), "127.0.0.1", args.port)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
