"""Image references: the tag rule behind imagePullPolicy's default."""

from __future__ import annotations

__all__ = ["default_pull_policy", "split_image"]


def split_image(image: str) -> tuple[str, str, str]:
    """Split `repo[:tag][@digest]` into (repository, tag, digest); a registry port is not a tag."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest
    return name, "", digest


def default_pull_policy(image: str) -> str:
    """`Always` for `:latest` or an image with neither tag nor digest, else `IfNotPresent`."""
    _, tag, digest = split_image(image)
    if tag == "latest" or (not tag and not digest):
        return "Always"
    return "IfNotPresent"
