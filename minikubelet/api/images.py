"""Image references, parsed as Docker's distribution/reference grammar does, and the pull-policy rule.

Kubernetes defaults `imagePullPolicy` from the tag that `parsers.ParseImageName` reports: `latest` for an
image written with neither tag nor digest. An image it cannot parse (`Busybox`) reports no tag, so its
policy defaults to `IfNotPresent` (the kubelet later says InvalidImageName).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ImageRef", "default_pull_policy", "parse_image"]

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_DOMAIN_RE = re.compile(rf"^{_DOMAIN}$")
_REMAINDER = re.compile(rf"^(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")
_MAX_NAME_LENGTH = 255


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed image reference; `domain` and `path` are as written (not normalized to docker.io)."""

    domain: str
    path: str
    tag: str
    digest: str


def parse_image(image: str) -> ImageRef | None:
    """Parse `[domain/]path[:tag][@digest]`; None when the reference is not valid."""
    domain, remainder = "", image
    first, slash, rest = image.partition("/")
    # splitDockerDomain: the first component is a registry only if it looks like a host name.
    if slash and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        domain, remainder = first, rest
    match = _REMAINDER.match(remainder)
    if match is None or (domain and not _DOMAIN_RE.match(domain)):
        return None
    name = (f"{domain}/" if domain else "") + match.group("path")
    if len(name) > _MAX_NAME_LENGTH:
        return None
    return ImageRef(domain, match.group("path"), match.group("tag") or "", match.group("digest") or "")


def default_pull_policy(image: str) -> str:
    """`Always` for `:latest` or an image with neither tag nor digest, else `IfNotPresent`."""
    ref = parse_image(image)
    if ref is None:
        return "IfNotPresent"
    if ref.tag == "latest" or (not ref.tag and not ref.digest):
        return "Always"
    return "IfNotPresent"
