#!/usr/bin/python3
"""A webhook receiver for the delivery tests: records every request,
verifies its Standard Webhooks signature, and answers as it is told.

    receiver.py --log FILE [--secret whsec_...] [--tolerance SECONDS]
                [--answer SPEC]... [--default SPEC] [--host ADDR] [--port N]

It listens on --host (127.0.0.1) and --port (0: the kernel picks one) and
prints the port it got as the first line on stdout, then serves until it is
killed.  Requests are served in threads, so a hanging answer does not hold
up the next request.

Answers: the n-th request gets the n-th --answer, and every request after
them gets --default (200).  A SPEC is one of
    200, 400, 500, ...     that status, with a short text body
    429:SECONDS            429 with "Retry-After: SECONDS"
    301:URL ... 308:URL    a redirect to URL (Location header)
    hang:SECONDS           answer nothing for SECONDS, then 200 (a client
                           with a shorter timeout gives up first)

Signatures: with --secret (the channel's "whsec_..." secret), a request
whose webhook-signature holds no "v1,<base64>" entry matching
HMAC-SHA256(key, webhook-id "." webhook-timestamp "." body) is answered 401
and does not use up an --answer: a receiver that checks signatures does
not process a forged request.  --tolerance also refuses timestamps further
than that from now (Standard Webhooks suggests 300); without it any
timestamp passes, so that fixed test vectors can be replayed.

The log gets one JSON object a line, written and flushed when the request
has been read (before a hang), in arrival order:
    seq (1, 2, ...), time (Unix seconds, float), method, path,
    headers (names in lower case), body (text; "body_base64" instead when
    it is not UTF-8), signature ("valid", "invalid", "missing", "stale";
    null without --secret), answer (the SPEC applied, or "401").

Python's standard library only (Debian's python3), no dependency.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time

MAX_BODY = 16 * 1024 * 1024


def parse_spec(spec):
    """Checks a SPEC at start-up, so that a typo fails the test at once."""
    head, _, rest = spec.partition(":")
    if head == "hang":
        float(rest)
        return spec
    code = int(head)
    if not 100 <= code <= 599:
        raise ValueError(f"status {code} out of range")
    if 300 <= code <= 399 and not rest:
        raise ValueError(f"redirect {code} needs a URL: {code}:URL")
    if code == 429 and rest:
        int(rest)
    return spec


def spec_arg(spec):
    try:
        return parse_spec(spec)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"bad answer {spec!r}: {e}")


def decode_secret(secret):
    if not secret.startswith("whsec_"):
        raise argparse.ArgumentTypeError("the secret must start with whsec_")
    body = secret[len("whsec_"):]
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error as e:
        raise argparse.ArgumentTypeError(f"the secret is not base64: {e}")


def check_signature(key, tolerance, headers, body):
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        return "missing"
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    valid = False
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except binascii.Error:
            continue
        if hmac.compare_digest(expected, given):
            valid = True
    if not valid:
        return "invalid"
    if tolerance is not None:
        try:
            if abs(time.time() - int(timestamp)) > tolerance:
                return "stale"
        except ValueError:
            return "invalid"
    return "valid"


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, args):
        super().__init__(address, Handler)
        self.args = args
        self.key = args.secret
        self.lock = threading.Lock()
        self.seq = 0
        self.used_answers = 0
        self.log = open(args.log, "a", encoding="utf-8")

    def next_answer(self, signature):
        """Numbers the request and picks its answer, under the lock so that
        concurrent requests take answers in arrival order."""
        with self.lock:
            self.seq += 1
            if signature not in (None, "valid"):
                return self.seq, "401"
            if self.used_answers < len(self.args.answer):
                answer = self.args.answer[self.used_answers]
                self.used_answers += 1
            else:
                answer = self.args.default
            return self.seq, answer

    def record(self, entry):
        with self.lock:
            self.log.write(json.dumps(entry, sort_keys=True) + "\n")
            self.log.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "learnloop-test-receiver"

    def log_message(self, format, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def handle_any(self):
        arrived = time.time()
        try:
            body = self.read_body()
        except ValueError:
            self.send_error(413)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        signature = None
        if self.server.key is not None:
            signature = check_signature(self.server.key, self.server.args.tolerance,
                                        headers, body)
        seq, answer = self.server.next_answer(signature)
        entry = {"seq": seq, "time": arrived, "method": self.command,
                 "path": self.path, "headers": headers,
                 "signature": signature, "answer": answer}
        try:
            entry["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            entry["body_base64"] = base64.b64encode(body).decode()
        self.server.record(entry)
        try:
            self.answer(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass                # the client gave up (a hang past its timeout)

    def answer(self, spec):
        head, _, rest = spec.partition(":")
        extra = {}
        if head == "hang":
            time.sleep(float(rest))
            code = 200
        else:
            code = int(head)
            if 300 <= code <= 399:
                extra["Location"] = rest
            elif code == 429 and rest:
                extra["Retry-After"] = rest
        text = f"{code}\n".encode()
        self.send_response(code)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = handle_any


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", required=True, help="JSON-lines file to append to")
    parser.add_argument("--secret", type=decode_secret,
                        help="the channel's whsec_ secret")
    parser.add_argument("--tolerance", type=int,
                        help="refuse timestamps further than this many seconds from now")
    parser.add_argument("--answer", type=spec_arg, action="append", default=[],
                        help="the answer to the next request, in order")
    parser.add_argument("--default", type=spec_arg, default="200",
                        help="the answer once the --answer list is used up")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    server = Receiver((args.host, args.port), args)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
