"""Virus scanning of stored files, behind one small interface so callers need not know which scanner runs.

Production points `scanner_from_address` at a clamd daemon (UNIX socket or TCP); without one, the
built-in `SignatureScanner` still recognises the EICAR test file, so the quarantine path can be
exercised end to end in development and tests. A scanner that cannot scan raises `ScanError`
rather than answering "clean": the caller decides whether to refuse the file or to retry later.

The clamd client is written by hand: INSTREAM is a few lines of framing, not worth a dependency.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

# The standard 68-byte antivirus test string, assembled from two halves so this source file
# is not itself reported by the scanners it is tested against.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE = "Eicar-Test-Signature"

DEFAULT_TIMEOUT = 30.0
DEFAULT_CLAMD_PORT = 3310
_CHUNK_SIZE = 64 * 1024
_LENGTH = struct.Struct(">I")
_MAX_REPLY = 4096


class ScanError(Exception):
    """The scanner could not scan the file (unreachable, timed out, protocol or scanner error)."""


@dataclass(frozen=True)
class Verdict:
    """Result of a scan: infected or not, and the name of what was found."""

    infected: bool
    signature: str | None = None


class Scanner(Protocol):
    """Something that scans a file on disk."""

    name: str

    def scan(self, path: Path) -> Verdict:
        """Scan the file at `path`; raise `ScanError` when that is not possible."""
        ...


class SignatureScanner:
    """Built-in scanner that knows only the EICAR test file, found anywhere in the file."""

    name = "signature"

    def __init__(self, chunk_size: int = _CHUNK_SIZE) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self._chunk_size = chunk_size

    def scan(self, path: Path) -> Verdict:
        """Read the file in chunks, keeping the end of the previous one so a string across the boundary is seen."""
        overlap = len(EICAR) - 1
        tail = b""
        with path.open("rb") as source:
            while chunk := source.read(self._chunk_size):
                window = tail + chunk
                if EICAR in window:
                    return Verdict(infected=True, signature=EICAR_SIGNATURE)
                tail = window[-overlap:]
        return Verdict(infected=False)


class ClamdScanner:
    """Client of a clamd daemon, streaming the file with the INSTREAM command.

    `address` is a UNIX socket path (optionally written "unix:///path") or "tcp://host:port".
    `timeout` bounds each socket operation, including the wait for clamd's verdict.
    """

    name = "clamd"

    def __init__(self, address: str, timeout: float = DEFAULT_TIMEOUT, chunk_size: int = _CHUNK_SIZE) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self.address = address
        self.timeout = timeout
        self._chunk_size = chunk_size
        self._tcp: tuple[str, int] | None = None
        self._unix_path = ""
        if address.startswith("tcp://"):
            parts = urlsplit(address)
            if not parts.hostname:
                raise ValueError(f"no host in clamd address {address!r}")
            self._tcp = (parts.hostname, parts.port or DEFAULT_CLAMD_PORT)  # .port raises ValueError if invalid
        else:
            self._unix_path = address.removeprefix("unix://")
            if not self._unix_path:
                raise ValueError("empty clamd socket path")

    def scan(self, path: Path) -> Verdict:
        """Stream the file to clamd and return its verdict; raise `ScanError` if it cannot give one."""
        with path.open("rb") as source:  # a missing file is the caller's error, not the scanner's
            try:
                with self._connect() as connection:
                    reply = self._instream(connection, source)
            except OSError as exc:  # includes refused connections and timeouts
                raise ScanError(f"clamd at {self.address}: {exc}") from exc
        return _parse_reply(reply)

    def _connect(self) -> socket.socket:
        if self._tcp is not None:
            return socket.create_connection(self._tcp, timeout=self.timeout)
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.settimeout(self.timeout)
            connection.connect(self._unix_path)
        except BaseException:
            connection.close()
            raise
        return connection

    def _instream(self, connection: socket.socket, source: BinaryIO) -> bytes:
        try:
            connection.sendall(b"zINSTREAM\0")
            while chunk := source.read(self._chunk_size):
                connection.sendall(_LENGTH.pack(len(chunk)) + chunk)
            connection.sendall(_LENGTH.pack(0))
        except ConnectionError:
            # clamd hangs up mid-stream when the file exceeds its StreamMaxLength, after saying so.
            try:
                reply = _read_reply(connection)
            except OSError:
                reply = b""
            if not reply:
                raise
            return reply
        return _read_reply(connection)


def _read_reply(connection: socket.socket) -> bytes:
    """clamd's NUL-terminated reply (or whatever came before it hung up)."""
    reply = b""
    while b"\0" not in reply and len(reply) < _MAX_REPLY:
        data = connection.recv(_MAX_REPLY)
        if not data:
            break
        reply += data
    return reply.split(b"\0", 1)[0]


def _parse_reply(reply: bytes) -> Verdict:
    """Turn "stream: OK" / "stream: <name> FOUND" into a verdict; anything else is a `ScanError`."""
    text = reply.decode("utf-8", "replace").strip()
    if not text:
        raise ScanError("clamd closed the connection without a verdict")
    if text.endswith("ERROR"):
        raise ScanError(f"clamd: {text}")
    _, separator, result = text.partition(": ")
    if separator and result == "OK":
        return Verdict(infected=False)
    if separator and result.endswith(" FOUND"):
        return Verdict(infected=True, signature=result.removesuffix(" FOUND").strip() or "unknown")
    raise ScanError(f"unexpected reply from clamd: {text!r}")


def scanner_from_address(clamd_address: str | None, *, timeout: float = DEFAULT_TIMEOUT) -> Scanner:
    """clamd at `clamd_address` ("tcp://host:port" or a socket path); the built-in scanner when there is none."""
    if not clamd_address or not clamd_address.strip():
        return SignatureScanner()
    return ClamdScanner(clamd_address.strip(), timeout=timeout)
