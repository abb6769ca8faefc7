"""Fault injection: per method + path, set at start and changed at run time.

A rule can add latency, answer with a status code (the daemon's JSON error body or a
bare proxy page), accept a request and then drop the connection without answering
(the transaction exists, the client never hears so), or hang until the client gives up.
``times`` limits a rule to the next N matching calls, after which the sandbox recovers.
Control paths (``/_sandbox/...``) are never faulted.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import math
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.client.errors import ERROR_CODES
from runner.sandbox.errors import error_body

# What the daemon body says for an injected status when the rule names no code.
_DEFAULT_CODES = {
    429: ("RATE_LIMITED", "Session rate limit exceeded"),
    500: ("INTERNAL_ERROR", "Internal server error (injected by the sandbox)"),
    502: ("CHAIN_ERROR", "RPC request failed (injected by the sandbox)"),
    503: ("ADAPTER_NOT_AVAILABLE", "Chain adapter not available (injected by the sandbox)"),
    504: ("TRANSACTION_TIMEOUT", "Transaction timed out (injected by the sandbox)"),
}
_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = "*"
    path: str  # exact path or a glob such as "/v1/transactions/*"
    latency: float = Field(default=0.0, ge=0)  # seconds before the request is handled
    hold: float = Field(default=0.0, ge=0)  # seconds the answer waits after it took effect
    status: int | None = Field(default=None, ge=400, le=599)
    body: Literal["daemon", "proxy"] = "daemon"
    code: str | None = None  # daemon error code for body="daemon"; default by status
    message: str | None = None
    retry_after: float | None = Field(default=None, ge=0)  # Retry-After header (429: 60)
    action: Literal["drop", "hang"] | None = None
    times: int | None = Field(default=None, ge=1)  # only the next N matching calls

    @model_validator(mode="after")
    def _check(self) -> FaultRule:
        if self.status is not None and self.action is not None:
            raise ValueError("a fault either answers with a status or drops/hangs, not both")
        if self.status is None and self.action is None and not (self.latency or self.hold):
            raise ValueError("a fault needs latency, hold, a status or an action (drop/hang)")
        if self.status is not None and self.body == "daemon":
            code = self.code or _DEFAULT_CODES.get(self.status, (None, ""))[0]
            if code is None:
                raise ValueError(f"status {self.status} needs a daemon error code (code=...)")
            if code not in ERROR_CODES or ERROR_CODES[code].status != self.status:
                raise ValueError(f"{code} is not a daemon error code with status {self.status}")
        return self

    def matches(self, method: str, path: str) -> bool:
        method_ok = self.method == "*" or self.method.upper() == method
        return method_ok and (self.path == path or fnmatch.fnmatchcase(path, self.path))


def parse_fault(spec: str) -> FaultRule:
    """``"POST /v1/transactions/send drop"``, ``"GET /v1/* status=503 times=2"``, ..."""
    words = spec.split()
    if len(words) < 3:
        raise ValueError(f"fault {spec!r}: expected 'METHOD PATH drop|hang|key=value ...'")
    fields: dict[str, Any] = {"method": words[0], "path": words[1]}
    for word in words[2:]:
        if word in ("drop", "hang"):
            fields["action"] = word
        elif "=" in word:
            key, value = word.split("=", 1)
            fields[key.replace("-", "_")] = value
        else:
            raise ValueError(f"fault {spec!r}: cannot read {word!r}")
    return FaultRule.model_validate(fields)


class FaultSet:
    """The active rules, in the order they were added; the first matching rule applies."""

    def __init__(self, rules: list[FaultRule] | None = None) -> None:
        self._ids = itertools.count(1)
        self._rules: dict[int, FaultRule] = {}
        self._remaining: dict[int, int] = {}
        for rule in rules or []:
            self.add(rule)

    def add(self, rule: FaultRule) -> int:
        rule_id = next(self._ids)
        self._rules[rule_id] = rule
        if rule.times is not None:
            self._remaining[rule_id] = rule.times
        return rule_id

    def remove(self, rule_id: int) -> bool:
        self._remaining.pop(rule_id, None)
        return self._rules.pop(rule_id, None) is not None

    def clear(self) -> None:
        self._rules.clear()
        self._remaining.clear()

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "id": rule_id,
                **rule.model_dump(exclude_none=True),
                **({"remaining": self._remaining[rule_id]} if rule_id in self._remaining else {}),
            }
            for rule_id, rule in self._rules.items()
        ]

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule for this call, counting it against the rule's ``times``."""
        for rule_id, rule in list(self._rules.items()):
            if not rule.matches(method, path):
                continue
            if rule_id in self._remaining:
                self._remaining[rule_id] -= 1
                if self._remaining[rule_id] <= 0:
                    self.remove(rule_id)
            return rule
        return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def apply_fault(
    rule: FaultRule,
    request: web.Request,
    handler: Handler,
    request_id: str,
    closing: asyncio.Event,
) -> web.StreamResponse:
    if rule.latency:
        await asyncio.sleep(rule.latency)  # real time: the client's own timeouts are real
    if rule.action == "hang":
        await closing.wait()  # until shutdown, or until the client leaves (handler cancelled)
        _drop(request)
        raise asyncio.CancelledError
    if rule.status is not None:
        return _fault_response(rule, request_id)
    response = await handler(request)
    if rule.hold:  # the request took effect; its answer is late (a client may give up)
        await asyncio.sleep(rule.hold)
    if rule.action == "drop":
        _drop(request)  # the request had its effect; the answer never leaves
    return response


def _drop(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()


def _fault_response(rule: FaultRule, request_id: str) -> web.Response:
    assert rule.status is not None
    headers = {"X-Request-Id": request_id}
    retry_after = (
        rule.retry_after if rule.retry_after is not None else (60 if rule.status == 429 else None)
    )
    if retry_after is not None:
        headers["Retry-After"] = str(math.ceil(retry_after))
    if rule.body == "proxy":
        reason = _REASONS.get(rule.status, "Error")
        page = (
            f"<html>\r\n<head><title>{rule.status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{rule.status} {reason}</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )
        return web.Response(
            status=rule.status, text=page, content_type="text/html", headers=headers
        )
    default_code, default_message = _DEFAULT_CODES.get(rule.status, ("", ""))
    code = rule.code or default_code
    if code != default_code:
        default_message = f"{code} (injected by the sandbox)"
    message = rule.message or default_message
    if code == "RATE_LIMITED":  # the limiter's 429 body: no requestId, no hint
        body = {"code": code, "message": message, "retryable": True}
    else:
        body = error_body(code, message, request_id)
    return web.json_response(body, status=rule.status, headers=headers)
