"""Lifecycle hook handlers: postStart and preStop, as pkg/kubelet/lifecycle/handlers.go `handlerRunner.Run` runs them.

`run_handler` runs one handler against one container instance and returns None when it succeeded, else the
message upstream's Run returns with its error — the text kuberuntime_container.go's startContainer hands back
with ErrPostStartHook (it becomes the container's `PostStartHookError` waiting message), e.g. (one line each)

    Exec lifecycle hook ([sh -c exit 1]) for Container "app" in Pod "web_default(6f0c…)" failed
        - error: command 'sh -c exit 1' exited with 1: , message: ""
    HTTP lifecycle hook (/hook) for Container "app" in Pod "web_default(6f0c…)" failed
        - error: Get "http://10.88.0.7:8080/hook": dial tcp 10.88.0.7:8080: connect: connection refused
    Sleep lifecycle hook (30) for Container "app" in Pod "web_default(6f0c…)" failed
        - error: container terminated before sleep hook finished

The events are not this message: upstream records a Warning `FailedPostStartHook` "PostStartHook failed" or
`FailedPreStopHook` "PreStopHook failed" and keeps the details (which may hold secrets) out of the API.

- exec runs the command in the container (no shell, no `$(VAR)` expansion: hooks get neither); a non-zero exit
  is a failure whose error is remote_runtime.go's `command '<argv joined>' exited with <code>: <stderr>` and whose
  message is the output (our runtime interleaves stdout and stderr, so both carry the combined output).
- httpGet GETs `scheme://host:port/path` (host defaults to the pod's IP; a named port is looked up in the
  container's ports) with the probe's request rules and the `kube-lifecycle/<major>.<minor>` user agent. Any
  response is a success, whatever its status: the hook client checks none (handlers.go discards the body and
  returns the transport error only). An HTTPS hook answered in plain HTTP is retried over HTTP.
- sleep waits `seconds` (0 allowed).

`timeout` is the hook's deadline (the grace period for preStop; None, upstream's postStart, waits as long as the
hook takes): past it, an exec is `command "<argv>" timed out`, a sleep `container terminated before sleep hook
finished`, a GET `Get "<url>": context deadline exceeded`. Cancelling the call ends the hook at once
(CancelledError propagates).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import Any

from minikubelet import KUBERNETES_VERSION
from minikubelet.errors import ContainerRuntimeError, go_quote
from minikubelet.prober import handlers
from minikubelet.runtime.interface import ContainerID, ContainerRuntime

__all__ = ["LIFECYCLE_USER_AGENT", "format_pod", "run_handler"]

LIFECYCLE_USER_AGENT = "kube-lifecycle/" + ".".join(KUBERNETES_VERSION.lstrip("v").split(".")[:2])
_GO_POINTER = "0xc000010000"  # how %v prints a set *Action field; the address is not meaningful
_NO_DEADLINE = 365 * 24 * 3600.0  # what the runtime's exec gets for "no timeout"
_ATOI = re.compile(r"[+-]?[0-9]+")

Warn = Callable[[str, str], None]  # (reason, message) of a Warning event about the pod


def format_pod(pod: Mapping[str, Any]) -> str:
    """kubelet/util/format.Pod: `<name>_<namespace>(<uid>)`."""
    meta = pod.get("metadata") or {}
    return f"{meta.get('name', '')}_{meta.get('namespace', '')}({meta.get('uid', '')})"


async def run_handler(
    runtime: ContainerRuntime,
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    container_id: str,
    handler: Mapping[str, Any],
    *,
    timeout: float | None,
    pod_ip: str | None = None,
    warn: Warn | None = None,
) -> str | None:
    """Run one lifecycle handler; None on success, else upstream's message for the failure.

    `pod_ip` is the sandbox's IP (an httpGet without `host` goes there); by default the pod's `status.podIP`.
    `warn(reason, message)` receives the `LifecycleHTTPFallback` warning upstream records on the pod."""
    name, where = go_quote(container.get("name", "")), go_quote(format_pod(pod))
    if handler.get("exec") is not None:
        command = [str(arg) for arg in handler["exec"].get("command") or []]
        error, output = await _run_exec(runtime, container_id, command, timeout)
        if error is None:
            return None
        return (
            f"Exec lifecycle hook ([{' '.join(command)}]) for Container {name} in Pod {where} failed"
            f" - error: {error}, message: {go_quote(output)}"
        )
    if handler.get("httpGet") is not None:
        action = handler["httpGet"]
        ip = pod_ip if pod_ip is not None else str((pod.get("status") or {}).get("podIP") or "")
        error = await _run_http(pod, container, action, ip, timeout, warn)
        if error is None:
            return None
        return f"HTTP lifecycle hook ({action.get('path', '')}) for Container {name} in Pod {where} failed - error: {error}"
    if handler.get("sleep") is not None:
        seconds = int(handler["sleep"].get("seconds") or 0)
        if timeout is None or seconds <= timeout:
            await asyncio.sleep(max(seconds, 0))
            return None
        await asyncio.sleep(max(timeout, 0))
        return (
            f"Sleep lifecycle hook ({seconds}) for Container {name} in Pod {where} failed"
            " - error: container terminated before sleep hook finished"
        )
    fields = " ".join(
        _GO_POINTER if handler.get(key) is not None else "<nil>" for key in ("exec", "httpGet", "tcpSocket", "sleep")
    )
    return f"Cannot run handler: invalid handler: &{{{fields}}}"


async def _run_exec(
    runtime: ContainerRuntime, container_id: str, command: list[str], timeout: float | None
) -> tuple[str | None, str]:
    """RunInContainer: (error or None, combined output)."""
    try:
        result = await runtime.exec(ContainerID(container_id), command, timeout=_NO_DEADLINE if timeout is None else timeout)
    except ContainerRuntimeError as exc:
        return str(exc) or type(exc).__name__, ""
    output = result.output.decode("utf-8", errors="replace")
    if result.timed_out:
        return f"command {go_quote(' '.join(command))} timed out", output
    if result.exit_code != 0:
        return f"command '{' '.join(command)}' exited with {result.exit_code}: {output}", output
    return None, output


def _resolve_port(port: Any, container: Mapping[str, Any]) -> int:
    """probe.ResolveContainerPort with its Go errors: a name is looked up in the ports, then parsed as a number."""
    if isinstance(port, int):
        number = port
    else:
        text = str(port)
        found = next((p.get("containerPort") for p in container.get("ports") or () if p.get("name") == text), None)
        if found is not None:
            number = int(found)
        elif _ATOI.fullmatch(text):
            number = int(text)
        else:
            raise ValueError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    if not 0 < number < 65536:
        raise ValueError(f"invalid port number: {number}")
    return number


async def _run_http(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    action: Mapping[str, Any],
    pod_ip: str,
    timeout: float | None,
    warn: Warn | None,
) -> str | None:
    host = action.get("host") or pod_ip
    if not host:
        meta = pod.get("metadata") or {}
        status = f"{meta.get('uid', '')} {meta.get('name', '')} {meta.get('namespace', '')} []"
        return f"failed to find networking container: {{{status}}}"
    try:
        port = _resolve_port(action.get("port", 0), container)
    except ValueError as exc:
        return str(exc)
    answer = await handlers.send_hook_request(
        scheme=str(action.get("scheme") or "HTTP"),
        host=host,
        port=port,
        path=str(action.get("path") or ""),
        headers=[(h.get("name", ""), h.get("value", "")) for h in action.get("httpHeaders") or ()],
        timeout=timeout,
        user_agent=LIFECYCLE_USER_AGENT,
    )
    if answer.fell_back_to and warn is not None:
        warn(
            "LifecycleHTTPFallback",
            f"request to HTTPS lifecycle hook {answer.fell_back_to} got HTTP response, retry with HTTP succeeded",
        )
    return answer.error or None
