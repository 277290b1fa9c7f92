"""The bytes of a real `kubectl port-forward` (kubectl 1.37.1, SPDY in its WebSocket tunnel), for the framer's and
the API server's tests (shared test data)."""

from __future__ import annotations

import itertools

from minikubelet.apiserver import spdy

# What kubectl 1.37.1 sent through its WebSocket tunnel (`kubectl port-forward pod/web :50017`, one local
# connection that sent `hello` and closed, then a PING after 10 s, then Ctrl-C), recorded at the API server:
# one binary message per spdystream write (it writes each field of a frame on its own).
KUBECTL_TUNNEL_BYTES = bytes.fromhex(
    "80030001000000400000000100000000000078f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45a024cc6a6a606068cec0c0"
    "c0590489c74c50fa663400000000ffff0000000101000000800300010000001800000003000000000000c2aa1b54102512a119000000ffff"
    "000000030000000568656c6c6f000000030100000080030006000000040000000180030007000000080000000000000000"
)
KUBECTL_TUNNEL_MESSAGES = [2, 2, 4, 4, 4, 1, 1, 54, 4, 4, 2, 2, 4, 4, 4, 1, 1, 14, 4, 4, 5, 4, 4, 2, 2, 4, 4, 2, 2, 4, 4, 4]
KUBECTL_FRAMES: list[spdy.Frame] = [
    spdy.SynStream(1, {"streamtype": ["error"], "port": ["50017"], "requestid": ["0"]}),
    spdy.DataFrame(1, b"", fin=True),  # kubectl writes nothing on the error stream
    spdy.SynStream(3, {"streamtype": ["data"], "port": ["50017"], "requestid": ["0"]}),
    spdy.DataFrame(3, b"hello"),
    spdy.DataFrame(3, b"", fin=True),  # the local connection's end
    spdy.Ping(1),
    spdy.GoAway(0, spdy.GoAwayStatus.OK),
]


def messages(data: bytes, sizes: list[int]) -> list[bytes]:
    assert sum(sizes) == len(data)
    offsets = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    return [data[a:b] for a, b in itertools.pairwise(offsets)]
