"""What `kubectl auth can-i` and `kubectl auth whoami` ask: SelfSubjectAccessReview and SelfSubjectRulesReview
(authorization.k8s.io/v1), SelfSubjectReview (authentication.k8s.io/v1).

The node has one user: whoever holds its bearer token (the kubeconfig's user, `minikubelet`), with every
permission, as a cluster's `system:masters`. So every access review is allowed and the rules review lists
everything; a review names that user. The objects' shapes are the API server's: the request's spec comes back
with a `status` added, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from minikubelet.errors import BadRequestError

__all__ = ["USER", "access_review", "rules_review", "self_subject_review"]

#: Who holds the node's token (the kubeconfig's user name), and the groups a cluster admin has.
USER = {"username": "minikubelet", "groups": ["system:masters", "system:authenticated"]}
_REASON = "minikubelet: the holder of the node's token may do everything"


def _checked(body: Any, kind: str, api_version: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequestError(f"the request body must be a {kind} object")
    given_kind, given_version = body.get("kind", kind), body.get("apiVersion", api_version)
    if (given_kind, given_version) != (kind, api_version):
        raise BadRequestError(
            f"the API version in the data ({given_version}) does not match the expected API version ({api_version})"
            if given_version != api_version
            else f"{given_kind} in version {api_version!r} cannot be handled as a {kind}"
        )
    return {"kind": kind, "apiVersion": api_version, "metadata": {"creationTimestamp": None}, "spec": body.get("spec") or {}}


def access_review(body: Any) -> dict[str, Any]:
    """`kubectl auth can-i VERB RESOURCE`: allowed."""
    review = _checked(body, "SelfSubjectAccessReview", "authorization.k8s.io/v1")
    review["status"] = {"allowed": True, "reason": _REASON}
    return review


def rules_review(body: Any) -> dict[str, Any]:
    """`kubectl auth can-i --list`: every verb on every resource and URL."""
    review = _checked(body, "SelfSubjectRulesReview", "authorization.k8s.io/v1")
    review["status"] = {
        "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
        "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
        "incomplete": False,
    }
    return review


def self_subject_review(body: Any) -> dict[str, Any]:
    """`kubectl auth whoami`: the node's user."""
    review = _checked(body, "SelfSubjectReview", "authentication.k8s.io/v1")
    del review["spec"]
    review["status"] = {"userInfo": {"username": USER["username"], "groups": list(USER["groups"])}}
    return review
