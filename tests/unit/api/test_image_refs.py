"""Image references as distribution/reference parses them (the basis of the pull-policy default)."""

from __future__ import annotations

import pytest

from minikubelet.api.images import ImageRef, parse_image

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("busybox", ImageRef("", "busybox", "", "")),
        ("busybox:1.35", ImageRef("", "busybox", "1.35", "")),
        ("library/busybox:1.35", ImageRef("", "library/busybox", "1.35", "")),
        ("localhost/busybox", ImageRef("localhost", "busybox", "", "")),
        ("localhost:5000/busybox:1.0", ImageRef("localhost:5000", "busybox", "1.0", "")),
        ("ghcr.io/subicura/echo:v1", ImageRef("ghcr.io", "subicura/echo", "v1", "")),
        ("minikubelet.local/pause:3.10", ImageRef("minikubelet.local", "pause", "3.10", "")),
        (f"busybox@{DIGEST}", ImageRef("", "busybox", "", DIGEST)),
        (f"busybox:1.35@{DIGEST}", ImageRef("", "busybox", "1.35", DIGEST)),
        ("[::1]:5000/x:1", ImageRef("[::1]:5000", "x", "1", "")),
        ("a__b/c-d--e:tag_1.x-y", ImageRef("", "a__b/c-d--e", "tag_1.x-y", "")),
    ],
)
def test_valid_references(image: str, expected: ImageRef) -> None:
    assert parse_image(image) == expected


@pytest.mark.parametrize(
    "image",
    ["", "Busybox", "busybox:", "busybox:-x", "a/B", "busybox@sha256:abc", "bad tag", "a//b", "-a", "a" * 256, ":1"],
)
def test_invalid_references(image: str) -> None:
    assert parse_image(image) is None
