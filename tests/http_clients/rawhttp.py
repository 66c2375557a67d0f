"""Raw HTTP/1.1 and RecordIO for the Mesos v1 API test clients (Python standard library only).

Nothing here knows meso: it speaks bytes on a socket, so the clients built on it test the
server the way any third-party framework would. Everything is incremental and bounded:

* ChunkedDecoder: HTTP/1.1 chunked transfer coding, fed arbitrary pieces.
* RecordIODecoder: Mesos RecordIO ("<decimal length>\\n<bytes>", nothing between records),
  fed arbitrary pieces; refuses non-digits, zero length, over-long records.
* Connection: one keep-alive connection for calls (POST, read status/headers/body).
* Stream: a streaming response (SUBSCRIBE) whose events are read with a deadline.
"""

import json
import socket
import time

MAX_HEAD_BYTES = 64 * 1024
MAX_RECORD_BYTES = 16 * 1024 * 1024
CLOSED_BEFORE_RESPONSE = "connection closed before a response"


class ProtocolError(Exception):
    """The peer broke HTTP or RecordIO framing."""


class ChunkedDecoder:
    """Incremental decoder of the chunked transfer coding (RFC 9112 §7.1)."""

    def __init__(self):
        self._buf = bytearray()
        self._state = "size"
        self._remaining = 0
        self.done = False

    def feed(self, data):
        """Returns the payload bytes that `data` completes."""
        self._buf += data
        out = bytearray()
        while True:
            if self._state == "size":
                end = self._buf.find(b"\r\n")
                if end < 0:
                    if len(self._buf) > 1024:
                        raise ProtocolError("chunk size line too long")
                    break
                line = bytes(self._buf[:end]).split(b";", 1)[0].strip()
                del self._buf[: end + 2]
                try:
                    size = int(line, 16)
                except ValueError:
                    raise ProtocolError("bad chunk size %r" % line)
                if size < 0:
                    raise ProtocolError("negative chunk size")
                if size == 0:
                    self._state = "trailers"
                else:
                    self._remaining = size
                    self._state = "data"
            elif self._state == "data":
                take = min(self._remaining, len(self._buf))
                if take == 0:
                    break
                out += self._buf[:take]
                del self._buf[:take]
                self._remaining -= take
                if self._remaining == 0:
                    self._state = "crlf"
            elif self._state == "crlf":
                if len(self._buf) < 2:
                    break
                if self._buf[:2] != b"\r\n":
                    raise ProtocolError("chunk not followed by CRLF")
                del self._buf[:2]
                self._state = "size"
            elif self._state == "trailers":
                end = self._buf.find(b"\r\n")
                if end < 0:
                    break
                line = self._buf[:end]
                del self._buf[: end + 2]
                if not line:
                    self._state = "done"
                    self.done = True
            else:
                break
        return bytes(out)


class RecordIODecoder:
    """Incremental RecordIO decoder with the rules of Mesos's docs/recordio.md."""

    def __init__(self, max_record_bytes=MAX_RECORD_BYTES):
        self._max = max_record_bytes
        self._digits = bytearray()
        self._record = bytearray()
        self._remaining = None  # None while reading a length

    def feed(self, data):
        """Returns the records (bytes) that `data` completes."""
        records = []
        i = 0
        n = len(data)
        while i < n:
            if self._remaining is None:
                b = data[i]
                i += 1
                if 48 <= b <= 57:
                    self._digits.append(b)
                    if len(self._digits) > 20:
                        raise ProtocolError("RecordIO length has more than 20 digits")
                elif b == 10:
                    if not self._digits:
                        raise ProtocolError("RecordIO: empty length (stray newline between records?)")
                    length = int(self._digits)
                    self._digits = bytearray()
                    if length == 0:
                        raise ProtocolError("RecordIO: zero-length record")
                    if length > self._max:
                        raise ProtocolError("RecordIO: record of %d bytes exceeds %d" % (length, self._max))
                    self._remaining = length
                else:
                    raise ProtocolError("RecordIO: expected a digit, got byte 0x%02x" % b)
            else:
                take = min(self._remaining, n - i)
                self._record += data[i : i + take]
                i += take
                self._remaining -= take
                if self._remaining == 0:
                    records.append(bytes(self._record))
                    self._record = bytearray()
                    self._remaining = None
        return records

    def idle(self):
        """True between records (a stream may end here)."""
        return self._remaining is None and not self._digits


def encode_record(data):
    return str(len(data)).encode() + b"\n" + data


def _split_host_port(endpoint):
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("expected HOST:PORT, got %r" % endpoint)
    return host.strip("[]"), int(port)


def _parse_head(head):
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError("bad status line %r" % lines[0])
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError("bad header line %r" % line)
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def _request_bytes(method, host, port, path, headers, body):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (host, port)]
    for name, value in headers.items():
        lines.append("%s: %s" % (name, value))
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Socket:
    """A socket with a receive buffer that survives timeouts."""

    def __init__(self, endpoint, timeout):
        self.host, self.port = _split_host_port(endpoint)
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        self.buf = bytearray()
        self.eof = False

    def recv_some(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline passed")
        self.sock.settimeout(remaining)
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
        self.buf += data
        return data

    def read_head(self, deadline):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buf[:end])
                del self.buf[: end + 4]
                return _parse_head(head)
            if len(self.buf) > MAX_HEAD_BYTES:
                raise ProtocolError("response head too large")
            if self.eof:
                raise ProtocolError(CLOSED_BEFORE_RESPONSE)
            try:
                self.recv_some(deadline)
            except socket.timeout:
                if time.monotonic() >= deadline:
                    raise

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Connection:
    """A keep-alive connection for calls; reconnects if the server closed it."""

    def __init__(self, endpoint, timeout=30.0):
        self.endpoint = endpoint
        self.timeout = timeout
        self._sock = None

    def post(self, path, body, headers):
        """POSTs `body`; returns (status, headers, body bytes)."""
        for attempt in (1, 2):
            if self._sock is None:
                self._sock = _Socket(self.endpoint, self.timeout)
            s = self._sock
            try:
                s.sock.sendall(_request_bytes("POST", s.host, s.port, path, headers, body))
                return self._read_response(time.monotonic() + self.timeout)
            except (ProtocolError, OSError) as e:
                self.close()
                # Only a keep-alive connection the server had closed before answering is
                # retried (once, on a fresh connection); anything else is the server's fault.
                stale = isinstance(e, ConnectionError) or str(e) == CLOSED_BEFORE_RESPONSE
                if attempt == 2 or not stale:
                    raise

    def _read_response(self, deadline):
        s = self._sock
        status, headers = s.read_head(deadline)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            decoder = ChunkedDecoder()
            body = bytearray(decoder.feed(bytes(s.buf)))
            s.buf.clear()
            while not decoder.done:
                if s.eof:
                    raise ProtocolError("connection closed inside a chunked body")
                data = s.recv_some(deadline)
                s.buf.clear()
                body += decoder.feed(data)
        else:
            length = int(headers.get("content-length", "0"))
            while len(s.buf) < length:
                if s.eof:
                    raise ProtocolError("connection closed inside a body")
                s.recv_some(deadline)
            body = bytes(s.buf[:length])
            del s.buf[:length]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, bytes(body)

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class Stream:
    """A streaming response: POST, check the head, then read RecordIO events."""

    def __init__(self, endpoint, path, body, headers, timeout=30.0):
        self._sock = _Socket(endpoint, timeout)
        self._sock.sock.sendall(
            _request_bytes("POST", self._sock.host, self._sock.port, path, headers, body)
        )
        self.status, self.headers = self._sock.read_head(time.monotonic() + timeout)
        self._chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self._chunks = ChunkedDecoder()
        self._records = RecordIODecoder()
        self._pending = []
        self.closed = False
        self._leftover = bytes(self._sock.buf)
        self._sock.buf.clear()

    def read_error_body(self):
        """For a refused stream: the whole body (Content-Length) as text."""
        length = int(self.headers.get("content-length", "0"))
        deadline = time.monotonic() + 10
        data = bytearray(self._leftover)
        while len(data) < length and not self._sock.eof:
            data += self._sock.recv_some(deadline)
            self._sock.buf.clear()
        return bytes(data[:length]).decode("utf-8", "replace")

    def _absorb(self, data):
        payload = self._chunks.feed(data) if self._chunked else data
        self._pending.extend(self._records.feed(payload))
        if self._chunked and self._chunks.done:
            self.closed = True

    def next_event(self, deadline):
        """The next event as a dict; None when the stream ended; socket.timeout past the deadline."""
        if self._leftover:
            data, self._leftover = self._leftover, b""
            self._absorb(data)
        while not self._pending:
            if self.closed or self._sock.eof:
                if not self._records.idle():
                    raise ProtocolError("stream ended inside a RecordIO record")
                return None
            try:
                data = self._sock.recv_some(deadline)
            except socket.timeout:
                if time.monotonic() >= deadline:
                    raise
                continue
            self._sock.buf.clear()
            if data:
                self._absorb(data)
        record = self._pending.pop(0)
        if b"\n" in record:
            raise ProtocolError("event JSON is not compact (has a newline): %r" % record[:200])
        return json.loads(record.decode("utf-8"))

    def close(self):
        self._sock.close()
