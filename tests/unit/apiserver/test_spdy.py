"""The SPDY/3.1 framer (apiserver/spdy.py): the bytes kubectl 1.37 sends in a port-forward, decoded; every frame
type written and read back; the layout of the frames spdystream writes, byte for byte; and the bytes it would
refuse, refused."""

from __future__ import annotations

import struct
import zlib

import pytest
from spdy_capture import KUBECTL_FRAMES, KUBECTL_TUNNEL_BYTES, KUBECTL_TUNNEL_MESSAGES, messages

from minikubelet.apiserver import spdy


def test_the_dictionary_is_spdy3s() -> None:
    assert len(spdy.DICTIONARY) == 1423
    assert zlib.adler32(spdy.DICTIONARY) == 0xE3C6A7C2  # what kubectl's first header block names as its DICTID
    assert KUBECTL_TUNNEL_BYTES[18:24] == bytes.fromhex("78f9e3c6a7c2")  # zlib header: level 9, that dictionary


def test_kubectls_bytes_decode_message_by_message_whole_and_byte_by_byte() -> None:
    reader = spdy.FrameReader()
    decoded = [frame for message in messages(KUBECTL_TUNNEL_BYTES, KUBECTL_TUNNEL_MESSAGES) for frame in reader.feed(message)]
    assert decoded == KUBECTL_FRAMES
    assert reader.pending == 0
    assert spdy.FrameReader().feed(KUBECTL_TUNNEL_BYTES) == KUBECTL_FRAMES
    one_at_a_time = spdy.FrameReader()
    assert [frame for i in range(len(KUBECTL_TUNNEL_BYTES)) for frame in one_at_a_time.feed(KUBECTL_TUNNEL_BYTES[i : i + 1])] == (
        KUBECTL_FRAMES
    )


def test_frames_without_header_blocks_are_spdystreams_bytes() -> None:
    writer = spdy.FrameWriter()
    # Those kubectl sent, as it sent them (after its two SYN_STREAMs, at 0 and 80).
    sent = KUBECTL_TUNNEL_BYTES
    assert writer.encode(spdy.DataFrame(1, b"", fin=True)) == sent[72:80]
    assert writer.encode(spdy.DataFrame(3, b"hello")) + writer.encode(spdy.DataFrame(3, b"", fin=True)) == sent[112:133]
    assert writer.encode(spdy.Ping(1)) + writer.encode(spdy.GoAway(0)) == sent[133:]
    assert writer.encode(spdy.DataFrame(3, b"hello")) == bytes.fromhex("00000003 00000005") + b"hello"
    assert writer.encode(spdy.DataFrame(1, b"", fin=True)) == bytes.fromhex("00000001 01000000")
    assert writer.encode(spdy.Ping(2)) == bytes.fromhex("80030006 00000004 00000002")
    assert writer.encode(spdy.RstStream(3, spdy.RstStatus.CANCEL)) == bytes.fromhex("80030003 00000008 00000003 00000005")
    assert writer.encode(spdy.GoAway(7, spdy.GoAwayStatus.PROTOCOL_ERROR)) == bytes.fromhex("80030007 00000008 00000007 00000001")
    assert writer.encode(spdy.WindowUpdate(5, 1024)) == bytes.fromhex("80030009 00000008 00000005 00000400")
    settings = spdy.Settings((spdy.Setting(7, 65536, flags=1),), clear=True)
    assert writer.encode(settings) == bytes.fromhex("80030004 0100000c 00000001 01000007 00010000")


def test_a_header_block_is_a_sync_flushed_zlib_stream_a_fresh_reader_can_follow() -> None:
    """What Go's zlib reader, with the dictionary, reads of our replies: the same pairs, each block whole."""
    writer = spdy.FrameWriter()
    first = writer.encode(spdy.SynReply(1, {}))
    second = writer.encode(spdy.SynReply(3, {"x-a": ["1", "2"]}))
    assert first[:4] == bytes.fromhex("80030002") and first[8:12] == struct.pack(">I", 1)
    assert struct.unpack(">I", first[4:8])[0] == len(first) - 8  # no flags, the length
    inflate = zlib.decompressobj(zdict=spdy.DICTIONARY)
    assert inflate.decompress(first[12:]) == bytes(4)  # no pairs
    assert (
        inflate.decompress(second[12:]) == struct.pack(">I", 1) + struct.pack(">I", 3) + b"x-a" + struct.pack(">I", 3) + b"1\x002"
    )
    assert first[12:14] == b"\x78\xf9"  # the zlib header kubectl's own blocks start with


@pytest.mark.parametrize(
    "frame",
    [
        spdy.DataFrame(5, b"x" * 70000),
        spdy.DataFrame(0x7FFFFFFF, b"", fin=True),
        spdy.SynStream(1, {"streamtype": ["data"], "port": ["80"], "requestid": ["12"]}, associated_to=0, priority=3, slot=2),
        spdy.SynStream(3, {"a": ["1", "2", ""]}, fin=True, unidirectional=True),
        spdy.SynReply(2, {}, fin=True),
        spdy.HeadersFrame(4, {"status": ["200 OK"]}, fin=False),
        spdy.RstStream(9, spdy.RstStatus.REFUSED_STREAM),
        spdy.Settings((spdy.Setting(4, 100), spdy.Setting(7, 1 << 20, flags=2))),
        spdy.Settings(),
        spdy.Ping(0xFFFFFFFF),
        spdy.GoAway(41, spdy.GoAwayStatus.INTERNAL_ERROR),
        spdy.WindowUpdate(0, 0x7FFFFFFF),
    ],
)
def test_every_frame_reads_back_as_written(frame: spdy.Frame) -> None:
    writer, reader = spdy.FrameWriter(), spdy.FrameReader()
    # twice: the second header block goes on from the first one's compression state
    data = writer.encode(frame) + writer.encode(frame)
    assert reader.feed(data) == [frame, frame]


def test_header_blocks_share_one_zlib_stream_per_direction() -> None:
    writer, reader = spdy.FrameWriter(), spdy.FrameReader()
    headers = {"streamtype": ["error"], "port": ["3000"], "requestid": ["0"]}
    first, second = writer.encode(spdy.SynStream(1, headers)), writer.encode(spdy.SynStream(3, headers))
    assert len(second) < len(first)  # the second block refers back to the first
    assert reader.feed(first + second) == [spdy.SynStream(1, headers), spdy.SynStream(3, headers)]
    with pytest.raises(spdy.SpdyError, match="undecodable header block"):
        spdy.FrameReader().feed(second)  # a reader that missed the first block cannot follow


def header_frame(block: bytes, *, stream_id: int = 1) -> bytes:
    compressor = zlib.compressobj(9, zdict=spdy.DICTIONARY)
    payload = struct.pack(">I", stream_id) + compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return struct.pack(">HHI", 0x8003, 2, len(payload)) + payload


def pairs(*items: tuple[bytes, bytes]) -> bytes:
    return struct.pack(">I", len(items)) + b"".join(
        struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v for n, v in items
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (bytes.fromhex("80020006 00000004 00000001"), "unsupported SPDY version 2"),
        (bytes.fromhex("8003000a 00000000"), "unknown control frame type 10"),
        (bytes.fromhex("00000000 00000000"), "stream id zero"),
        (bytes.fromhex("80030003 00000008 00000000 00000005"), "stream id zero"),
        (bytes.fromhex("80030003 00000008 00000001 00000000"), "needs a status"),
        (bytes.fromhex("80030006 00000004 00000000"), "invalid PING"),
        (bytes.fromhex("80030006 01000004 00000001"), "invalid PING"),
        (bytes.fromhex("80030007 00000004 00000001"), "a GOAWAY frame of 4 bytes"),
        (bytes.fromhex("80030004 00000008 00000002 00000000"), "a SETTINGS frame of 8 bytes"),
        (bytes.fromhex("80030001 00000004 00000001"), "a truncated SYN_STREAM frame"),
        (header_frame(pairs((b"Port", b"80"))), "not lower case"),
        (header_frame(pairs((b"port", b"80"), (b"port", b"81"))), "appears twice"),
        (header_frame(pairs((b"port", b"80"))[:-1]), "truncated header block"),
        (header_frame(pairs((b"port", b"80")) + b"!"), "bytes after its last pair"),
        (header_frame(pairs((b"port", bytes([0xFF])))), "not UTF-8"),
        (header_frame(pairs((b"big", b"x" * (spdy.MAX_HEADER_BLOCK + 1)))), "more than"),
        (struct.pack(">HHI", 0x8003, 2, 8) + bytes(4) + b"junk", "stream id zero"),
        (struct.pack(">HHI", 0x8003, 2, 8) + b"\x00\x00\x00\x01junk", "undecodable header block"),
    ],
)
def test_what_spdystream_would_not_read_is_refused(data: bytes, error: str) -> None:
    with pytest.raises(spdy.SpdyError, match=error):
        spdy.FrameReader().feed(data)


def test_what_cannot_be_written_is_refused() -> None:
    writer = spdy.FrameWriter()
    for frame in (spdy.DataFrame(0), spdy.SynReply(1 << 31, {}), spdy.RstStream(1, 0), spdy.Ping(0)):
        with pytest.raises(spdy.SpdyError):
            writer.encode(frame)
    with pytest.raises(spdy.SpdyError, match="at most"):
        writer.encode(spdy.DataFrame(1, bytes(spdy.MAX_DATA_LENGTH + 1)))
