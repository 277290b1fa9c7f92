"""SPDY/3.1 framing, as moby/spdystream (the SPDY of client-go, so of kubectl and the kubelet) writes and reads it.

Written by hand: no maintained Python SPDY library exists, and kubectl's `port-forward` speaks nothing else
(also when it tunnels it through a WebSocket). Everything but the compressed header blocks matches spdystream's
frames byte for byte; the header blocks are zlib streams with SPDY/3's dictionary that decompress to the same
bytes (two deflate implementations need not pick the same compressed bytes, and no reader cares).

Sans-I/O: a `FrameWriter` turns frames into bytes and a `FrameReader` turns bytes, in chunks of any size, into
frames; each holds its direction's zlib stream, which goes on from one header block to the next (one
compressor per direction, flushed with Z_SYNC_FLUSH after each block, as the spec and spdystream do).

The frames (all integers big-endian; https://www.chromium.org/spdy/spdy-protocol/spdy-protocol-draft3-1/):

- data: `0|stream id (31)`, `flags (8)|length (24)`, the data. FLAG_FIN ends the sender's half of the stream.
- control: `1|version (15)|type (16)`, `flags (8)|length (24)`, then by type: SYN_STREAM (stream id,
  associated-to stream id, `priority (3)|unused (5)`, slot, header block), SYN_REPLY and HEADERS (stream id,
  header block), RST_STREAM (stream id, status), SETTINGS (count, then `flags (8)|id (24)` and value each),
  PING (id), GOAWAY (last good stream id, status), WINDOW_UPDATE (stream id, delta).
- a header block, before compression: the number of pairs, then each name and value preceded by its length
  (4 bytes each); names in lower case; several values of one name joined by NUL.

Neither spdystream nor this module does SPDY's flow control: spdystream never sends WINDOW_UPDATE, and
ignores those it gets.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "DICTIONARY",
    "FLAG_FIN",
    "FLAG_UNIDIRECTIONAL",
    "MAX_DATA_LENGTH",
    "VERSION",
    "DataFrame",
    "Frame",
    "FrameReader",
    "FrameWriter",
    "GoAway",
    "GoAwayStatus",
    "Headers",
    "HeadersFrame",
    "Ping",
    "RstStatus",
    "RstStream",
    "Setting",
    "Settings",
    "SpdyError",
    "SynReply",
    "SynStream",
    "WindowUpdate",
]

VERSION = 3
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02  # SYN_STREAM only
FLAG_CLEAR_SETTINGS = 0x01  # SETTINGS only
MAX_DATA_LENGTH = (1 << 24) - 1
MAX_HEADER_BLOCK = 256 * 1024  # decompressed; kubectl's are a few dozen bytes
_CONTROL = 0x8000
_SYN_STREAM, _SYN_REPLY, _RST_STREAM, _SETTINGS, _PING, _GOAWAY, _HEADERS, _WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
_STREAM_ID = 0x7FFFFFFF

# SPDY/3's zlib dictionary (section 2.6.10.1): these names, each preceded by its length in 4 bytes, then the
# status codes, reason phrases and common values run together. The zlib header names it by its Adler-32
# (0xe3c6a7c2), so a peer using another dictionary is caught at the first header block.
_DICTIONARY_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age allow "
    "authorization cache-control connection content-base content-encoding content-language content-length "
    "content-location content-md5 content-range content-type date etag expect expires from host if-match "
    "if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status|200 OK|version|HTTP/1.1|url public set-cookie "
    "keep-alive origin"
)  # words apart by spaces, "|" around those with a space of their own
_DICTIONARY_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)


def _dictionary() -> bytes:
    words = [word for i, part in enumerate(_DICTIONARY_WORDS.split("|")) for word in ([part] if i % 2 else part.split())]
    return b"".join(struct.pack(">I", len(word)) + word.encode() for word in words) + _DICTIONARY_TAIL.encode()


DICTIONARY = _dictionary()


class SpdyError(Exception):
    """Bytes that are not SPDY/3.1 as spdystream writes it: the connection cannot go on."""


class RstStatus(IntEnum):
    PROTOCOL_ERROR = 1
    INVALID_STREAM = 2
    REFUSED_STREAM = 3
    UNSUPPORTED_VERSION = 4
    CANCEL = 5
    INTERNAL_ERROR = 6
    FLOW_CONTROL_ERROR = 7
    STREAM_IN_USE = 8
    STREAM_ALREADY_CLOSED = 9
    INVALID_CREDENTIALS = 10
    FRAME_TOO_LARGE = 11


class GoAwayStatus(IntEnum):
    OK = 0
    PROTOCOL_ERROR = 1
    INTERNAL_ERROR = 2


Headers = Mapping[str, Sequence[str]]
"""A header block: lower-case names, each with its values (in order)."""


@dataclass(frozen=True, slots=True)
class DataFrame:
    stream_id: int
    data: bytes = b""
    fin: bool = False


@dataclass(frozen=True, slots=True)
class SynStream:
    stream_id: int
    headers: Headers
    associated_to: int = 0
    priority: int = 0
    slot: int = 0
    fin: bool = False
    unidirectional: bool = False


@dataclass(frozen=True, slots=True)
class SynReply:
    stream_id: int
    headers: Headers
    fin: bool = False


@dataclass(frozen=True, slots=True)
class RstStream:
    stream_id: int
    status: int


@dataclass(frozen=True, slots=True)
class Setting:
    id: int
    value: int
    flags: int = 0


@dataclass(frozen=True, slots=True)
class Settings:
    values: tuple[Setting, ...] = ()
    clear: bool = False


@dataclass(frozen=True, slots=True)
class Ping:
    id: int


@dataclass(frozen=True, slots=True)
class GoAway:
    last_good_stream_id: int
    status: int = GoAwayStatus.OK


@dataclass(frozen=True, slots=True)
class HeadersFrame:
    stream_id: int
    headers: Headers
    fin: bool = False


@dataclass(frozen=True, slots=True)
class WindowUpdate:
    stream_id: int
    delta: int


Frame = DataFrame | SynStream | SynReply | RstStream | Settings | Ping | GoAway | HeadersFrame | WindowUpdate


# --- writing ----------------------------------------------------------------------------------------------------


class FrameWriter:
    """Frames to bytes, for one direction of one connection (its header compressor carries on across frames)."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zdict=DICTIONARY)

    def encode(self, frame: Frame) -> bytes:
        match frame:
            case DataFrame(stream_id, data, fin):
                _check_stream_id(stream_id)
                if len(data) > MAX_DATA_LENGTH:
                    raise SpdyError(f"a data frame holds at most {MAX_DATA_LENGTH} bytes, not {len(data)}")
                return struct.pack(">II", stream_id, (FLAG_FIN if fin else 0) << 24 | len(data)) + data
            case SynStream(stream_id, headers, associated_to, priority, slot, fin, unidirectional):
                _check_stream_id(stream_id)
                flags = (FLAG_FIN if fin else 0) | (FLAG_UNIDIRECTIONAL if unidirectional else 0)
                body = struct.pack(">IIBB", stream_id, associated_to & _STREAM_ID, (priority & 7) << 5, slot)
                return _control(_SYN_STREAM, flags, body + self._header_block(headers))
            case SynReply(stream_id, headers, fin):
                _check_stream_id(stream_id)
                return _control(_SYN_REPLY, FLAG_FIN if fin else 0, struct.pack(">I", stream_id) + self._header_block(headers))
            case HeadersFrame(stream_id, headers, fin):
                _check_stream_id(stream_id)
                return _control(_HEADERS, FLAG_FIN if fin else 0, struct.pack(">I", stream_id) + self._header_block(headers))
            case RstStream(stream_id, status):
                _check_stream_id(stream_id)
                if not status:
                    raise SpdyError("a RST_STREAM needs a status")
                return _control(_RST_STREAM, 0, struct.pack(">II", stream_id, status))
            case Settings(values, clear):
                body = struct.pack(">I", len(values)) + b"".join(
                    struct.pack(">II", (s.flags & 0xFF) << 24 | (s.id & 0xFFFFFF), s.value) for s in values
                )
                return _control(_SETTINGS, FLAG_CLEAR_SETTINGS if clear else 0, body)
            case Ping(ping_id):
                if not ping_id:
                    raise SpdyError("a PING needs an id")
                return _control(_PING, 0, struct.pack(">I", ping_id))
            case GoAway(last_good, status):
                return _control(_GOAWAY, 0, struct.pack(">II", last_good & _STREAM_ID, status))
            case WindowUpdate(stream_id, delta):
                return _control(_WINDOW_UPDATE, 0, struct.pack(">II", stream_id & _STREAM_ID, delta & _STREAM_ID))
        raise TypeError(f"not a SPDY frame: {frame!r}")

    def _header_block(self, headers: Headers) -> bytes:
        block = [struct.pack(">I", len(headers))]
        for name, values in headers.items():
            key, value = name.lower().encode(), "\x00".join(values).encode()
            block += [struct.pack(">I", len(key)), key, struct.pack(">I", len(value)), value]
        return self._compressor.compress(b"".join(block)) + self._compressor.flush(zlib.Z_SYNC_FLUSH)


def _control(frame_type: int, flags: int, body: bytes) -> bytes:
    return struct.pack(">HHI", _CONTROL | VERSION, frame_type, flags << 24 | len(body)) + body


def _check_stream_id(stream_id: int) -> None:
    if not 0 < stream_id <= _STREAM_ID:
        raise SpdyError(f"stream id {stream_id} is out of range")


# --- reading ----------------------------------------------------------------------------------------------------


class FrameReader:
    """Bytes to frames, for one direction of one connection: `feed` what arrives, in pieces of any size, and get
    the frames it completes. A SpdyError means the connection is broken (spdystream closes it then)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._decompressor = zlib.decompressobj(zdict=DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head, body = bytes(self._buffer[:8]), bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            frames.append(self._frame(head, body))
        return frames

    @property
    def pending(self) -> int:
        """Bytes received that do not make a whole frame yet."""
        return len(self._buffer)

    def _frame(self, head: bytes, body: bytes) -> Frame:
        first, flags = struct.unpack(">I", head[:4])[0], head[4]
        if not first & 0x80000000:
            stream_id = first & _STREAM_ID
            if not stream_id:
                raise SpdyError("stream id zero is disallowed")
            return DataFrame(stream_id, body, bool(flags & FLAG_FIN))
        version, frame_type = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != VERSION:
            raise SpdyError(f"unsupported SPDY version {version}")
        match frame_type:
            case 1:  # SYN_STREAM
                stream_id, associated, priority, slot = struct.unpack(">IIBB", _at_least(body, 10, "SYN_STREAM"))
                headers = self._headers(body[10:])
                return SynStream(
                    _nonzero(stream_id & _STREAM_ID),
                    headers,
                    associated & _STREAM_ID,
                    priority >> 5,
                    slot,
                    fin=bool(flags & FLAG_FIN),
                    unidirectional=bool(flags & FLAG_UNIDIRECTIONAL),
                )
            case 2 | 8:  # SYN_REPLY, HEADERS
                stream_id = _nonzero(struct.unpack(">I", _at_least(body, 4, "SYN_REPLY"))[0] & _STREAM_ID)
                kind = SynReply if frame_type == _SYN_REPLY else HeadersFrame
                return kind(stream_id, self._headers(body[4:]), fin=bool(flags & FLAG_FIN))
            case 3:  # RST_STREAM
                stream_id, status = struct.unpack(">II", _exactly(body, 8, "RST_STREAM"))
                if not status:
                    raise SpdyError("a RST_STREAM needs a status")
                return RstStream(_nonzero(stream_id & _STREAM_ID), status)
            case 4:  # SETTINGS
                (count,) = struct.unpack(">I", _at_least(body, 4, "SETTINGS"))
                _exactly(body, 4 + 8 * count, "SETTINGS")
                values = []
                for offset in range(4, 4 + 8 * count, 8):
                    flag_id, value = struct.unpack(">II", body[offset : offset + 8])
                    values.append(Setting(flag_id & 0xFFFFFF, value, flag_id >> 24))
                return Settings(tuple(values), clear=bool(flags & FLAG_CLEAR_SETTINGS))
            case 6:  # PING
                (ping_id,) = struct.unpack(">I", _exactly(body, 4, "PING"))
                if not ping_id or flags:
                    raise SpdyError("invalid PING frame")
                return Ping(ping_id)
            case 7:  # GOAWAY
                last_good, status = struct.unpack(">II", _exactly(body, 8, "GOAWAY"))
                if flags:
                    raise SpdyError("invalid GOAWAY frame")
                return GoAway(last_good & _STREAM_ID, status)
            case 9:  # WINDOW_UPDATE
                stream_id, delta = struct.unpack(">II", _exactly(body, 8, "WINDOW_UPDATE"))
                if flags:
                    raise SpdyError("invalid WINDOW_UPDATE frame")
                return WindowUpdate(stream_id & _STREAM_ID, delta & _STREAM_ID)
        raise SpdyError(f"unknown control frame type {frame_type}")

    def _headers(self, compressed: bytes) -> dict[str, list[str]]:
        try:
            block = self._decompressor.decompress(compressed, MAX_HEADER_BLOCK)
        except zlib.error as exc:
            raise SpdyError(f"undecodable header block: {exc}") from None
        if self._decompressor.unconsumed_tail:
            raise SpdyError(f"a header block of more than {MAX_HEADER_BLOCK} bytes")
        return _parse_header_block(block)


def _parse_header_block(block: bytes) -> dict[str, list[str]]:
    """The pairs of a decompressed header block, checked as spdystream checks them."""
    view = memoryview(block)
    (count,) = struct.unpack(">I", _at_least(block, 4, "header block"))
    offset, headers = 4, {}
    for _ in range(count):
        name, offset = _string(view, offset)
        value, offset = _string(view, offset)
        if name != name.lower():
            raise SpdyError(f"header name {name!r} is not lower case")
        if name in headers:
            raise SpdyError(f"header {name!r} appears twice")
        headers[name] = value.split("\x00")
    if offset != len(block):
        raise SpdyError("a header block with bytes after its last pair")
    return headers


def _string(view: memoryview, offset: int) -> tuple[str, int]:
    if offset + 4 > len(view):
        raise SpdyError("a truncated header block")
    length = int.from_bytes(view[offset : offset + 4], "big")
    end = offset + 4 + length
    if end > len(view):
        raise SpdyError("a truncated header block")
    try:
        return bytes(view[offset + 4 : end]).decode(), end
    except UnicodeDecodeError:
        raise SpdyError("a header that is not UTF-8") from None


def _at_least(body: bytes, size: int, what: str) -> bytes:
    if len(body) < size:
        raise SpdyError(f"a truncated {what} frame")
    return body[:size]


def _exactly(body: bytes, size: int, what: str) -> bytes:
    if len(body) != size:
        raise SpdyError(f"a {what} frame of {len(body)} bytes")
    return body


def _nonzero(stream_id: int) -> int:
    if not stream_id:
        raise SpdyError("stream id zero is disallowed")
    return stream_id
