"""The async WAIaaS client: one connection pool, typed answers, money-safe retries."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from runner.client.deadline import call_deadline
from runner.client.errors import (
    AmbiguousSendError,
    InvalidResponseError,
    SessionRenewalError,
    TransportError,
    WAIaaSError,
)
from runner.client.models import (
    AllBalances,
    CancelResult,
    ConnectInfo,
    Health,
    PendingTransactions,
    RenewedSession,
    SendResult,
    Simulation,
    TokenSpec,
    Transaction,
    TransactionList,
    WalletAddress,
    WalletAssets,
    WalletBalance,
)
from runner.client.retry import RetryPolicy, never_sent
from runner.client.session import decode_token_claims
from runner.client.transfer import TransferRequest, TransferType

__all__ = ["WAIaaSClient"]

log = logging.getLogger("runner.client")
M = TypeVar("M", bound=BaseModel)

_SESSION_CODES = frozenset(
    {
        "RENEWAL_TOO_EARLY",
        "RENEWAL_LIMIT_REACHED",
        "SESSION_ABSOLUTE_LIFETIME_EXCEEDED",
        "SESSION_RENEWAL_MISMATCH",
        "RENEWAL_NOT_REQUIRED",
        "TOKEN_EXPIRED",
        "SESSION_REVOKED",
        "SESSION_NOT_FOUND",
    }
)


class WAIaaSClient:
    """Async client for the WAIaaS daemon's session API.

    ``async with WAIaaSClient(url, token) as client: await client.get_balance(...)``.
    Wallet-scoped calls take ``wallet_id`` (needed when the session holds several
    wallets) and ``network`` (needed for EVM wallets). Sends take smallest-unit integer
    amounts only. A send is never repeated unless the first attempt provably created
    nothing; an unknowable outcome raises :class:`AmbiguousSendError`.
    """

    def __init__(
        self,
        base_url: str,
        session_token: str,
        *,
        retry_policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self.timeout = timeout  # how long one call may take before its answer counts as lost
        self._token = session_token
        self.retry_policy = retry_policy or RetryPolicy()
        self._owns_http = http_client is None
        # Every request goes to base_url + a fixed path and redirects are not followed, so a
        # plain-http daemon (the usual loopback one) never makes a TLS connection: skip
        # loading the CA bundle into an SSL context (~40 ms per process, on every cron tick).
        # An https:// daemon gets full certificate verification as before.
        verify = self._base_url.startswith("https://")
        self._http = http_client or httpx.AsyncClient(timeout=timeout, verify=verify)
        self._renew_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"WAIaaSClient(base_url={self._base_url!r}, session_token='***')"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def session_token(self) -> str:
        return self._token

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> WAIaaSClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- reads ---------------------------------------------------------------------------

    async def health(self) -> Health:
        return await self._call("GET", "/health", Health, auth=False)

    async def get_connect_info(self) -> ConnectInfo:
        return await self._call("GET", "/v1/connect-info", ConnectInfo)

    async def get_address(self, *, wallet_id: str | None = None) -> WalletAddress:
        params = _params(walletId=wallet_id)
        return await self._call("GET", "/v1/wallet/address", WalletAddress, params=params)

    async def get_balance(
        self, network: str | None = None, *, wallet_id: str | None = None
    ) -> WalletBalance:
        """The native balance on one network (``network="all"``: see ``get_all_balances``)."""
        if network == "all":
            raise ValueError("use get_all_balances() for network='all' (it has another shape)")
        params = _params(walletId=wallet_id, network=network)
        return await self._call("GET", "/v1/wallet/balance", WalletBalance, params=params)

    async def get_all_balances(self, *, wallet_id: str | None = None) -> AllBalances:
        params = _params(walletId=wallet_id, network="all")
        return await self._call("GET", "/v1/wallet/balance", AllBalances, params=params)

    async def get_assets(
        self, network: str | None = None, *, wallet_id: str | None = None
    ) -> WalletAssets:
        params = _params(walletId=wallet_id, network=network)
        return await self._call("GET", "/v1/wallet/assets", WalletAssets, params=params)

    async def get_transaction(self, tx_id: str) -> Transaction:
        return await self._call("GET", f"/v1/transactions/{_path_id(tx_id)}", Transaction)

    async def list_transactions(
        self, limit: int = 20, cursor: str | None = None, *, wallet_id: str | None = None
    ) -> TransactionList:
        """Newest first. The daemon allows this path only 10 calls a minute per session."""
        if not 1 <= limit <= 100:
            raise ValueError("limit must be between 1 and 100")
        params = _params(walletId=wallet_id, limit=str(limit), cursor=cursor)
        return await self._call("GET", "/v1/transactions", TransactionList, params=params)

    async def list_pending_transactions(
        self, *, wallet_id: str | None = None
    ) -> PendingTransactions:
        """Transactions still PENDING or QUEUED (not EXECUTING, SUBMITTED or GAS_WAITING)."""
        params = _params(walletId=wallet_id)
        path = "/v1/transactions/pending"
        return await self._call("GET", path, PendingTransactions, params=params)

    # -- writes --------------------------------------------------------------------------

    async def send(self, request: TransferRequest) -> SendResult:
        """Ask the daemon to carry out ``request``.

        The answer means *accepted* (status PENDING); the outcome shows up later in
        :meth:`get_transaction`. Raises :class:`AmbiguousSendError` when it cannot be
        known whether the daemon created the transaction.
        """
        return await self._call(
            "POST", "/v1/transactions/send", SendResult, json=request.body(), idempotent=False
        )

    async def simulate(self, request: TransferRequest) -> Simulation:
        """Dry run of ``request``: policy tier, fee, balance changes; nothing written."""
        return await self._call(
            "POST", "/v1/transactions/simulate", Simulation, json=request.body()
        )

    async def send_token(
        self,
        to: str,
        amount: int | str,
        *,
        type: TransferType | None = None,
        token: TokenSpec | dict[str, Any] | None = None,
        memo: str | None = None,
        network: str | None = None,
        wallet_id: str | None = None,
    ) -> SendResult:
        """:meth:`send` from keyword arguments (``amount`` in the smallest unit)."""
        request = TransferRequest.of(
            to, amount, type=type, token=token, memo=memo, network=network, wallet_id=wallet_id
        )
        return await self.send(request)

    async def simulate_transaction(
        self,
        to: str,
        amount: int | str,
        *,
        type: TransferType | None = None,
        token: TokenSpec | dict[str, Any] | None = None,
        memo: str | None = None,
        network: str | None = None,
        wallet_id: str | None = None,
    ) -> Simulation:
        """:meth:`simulate` from keyword arguments, as :meth:`send_token` takes them
        (``amount`` in the smallest unit): the dry run of exactly what that call would post."""
        request = TransferRequest.of(
            to, amount, type=type, token=token, memo=memo, network=network, wallet_id=wallet_id
        )
        return await self.simulate(request)

    async def cancel_transaction(self, tx_id: str) -> CancelResult:
        """Cancel a QUEUED transaction (409 ``TX_ALREADY_PROCESSED`` otherwise)."""
        path = f"/v1/transactions/{_path_id(tx_id)}/cancel"
        # Cancelling twice is harmless (the second gets 409), so it may be retried.
        return await self._call("POST", path, CancelResult)

    async def renew_session(self, session_id: str | None = None) -> RenewedSession:
        """Renew the session and switch this client to the new token.

        ``session_id`` defaults to the token's own session. Raises
        :class:`SessionRenewalError` whose message says what to do.
        """
        async with self._renew_lock:
            if session_id is None:
                session_id = decode_token_claims(self._token).session_id
            path = f"/v1/sessions/{_path_id(session_id)}/renew"
            try:
                # Not idempotent: a lost answer leaves the daemon on a token we never saw.
                renewed = await self._call("PUT", path, RenewedSession, idempotent=False)
            except WAIaaSError as exc:
                if exc.code in _SESSION_CODES:
                    raise SessionRenewalError(
                        exc.code,
                        exc.message,
                        exc.status_code,
                        exc.retryable,
                        exc.details,
                        exc.request_id,
                        exc.hint,
                    ) from None
                raise
            self._token = renewed.token.get_secret_value()
            return renewed

    # -- plumbing ------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        idempotent: bool = True,
        auth: bool = True,
    ) -> M:
        what = f"{method} {path}"
        try:
            # Most calls succeed at once; the retry machinery is built only when one fails.
            return await self._attempt(method, path, model, params, json, auth)
        except (WAIaaSError, httpx.TransportError) as exc:
            first_failure: BaseException | None = exc
        try:
            async for attempt in self.retry_policy.retrying(idempotent=idempotent, what=what):
                with attempt:
                    if first_failure is not None:  # replayed as attempt 1: same waits, logs
                        failure, first_failure = first_failure, None
                        raise failure
                    return await self._attempt(method, path, model, params, json, auth)
        except WAIaaSError as exc:
            if not idempotent and not exc.daemon_body and not isinstance(exc, TransportError):
                raise _ambiguous(what, json, exc.status_code, str(exc)) from None
            raise
        except httpx.TransportError as exc:
            if not idempotent and not never_sent(exc):
                said = str(exc).replace(self._token, "***")
                cause = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
                raise _ambiguous(what, json, None, cause) from None
            detail = str(exc).replace(self._token, "***") or "no detail"
            if isinstance(exc, httpx.LocalProtocolError):  # its text may quote our headers
                detail = "the request could not be built (is the session token one line?)"
            raise TransportError(
                f"{what}: could not reach the daemon at {self._base_url} "
                f"({type(exc).__name__}: {detail})"
            ) from None
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    async def _attempt(
        self,
        method: str,
        path: str,
        model: type[M],
        params: dict[str, str] | None,
        json: dict[str, Any] | None,
        auth: bool,
    ) -> M:
        headers = {"Authorization": f"Bearer {self._token}"} if auth else {}
        progress = _Progress()
        try:
            # The whole call — connect, write, every byte of the answer — has one deadline;
            # httpx's own timeouts apply per read, so a dribbling answer would outlive it.
            async with call_deadline(self.timeout):
                response = await self._http.request(
                    method,
                    self._base_url + path,
                    params=params,
                    json=json,
                    headers=headers,
                    extensions={"trace": progress.trace},
                )
        except TimeoutError:
            raise progress.timeout_error(self.timeout) from None
        log.debug("%s %s -> %d", method, path, response.status_code)
        if response.status_code >= 400:
            raise WAIaaSError.from_response(response)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors()[:3]
            )
            raise InvalidResponseError(
                f"{method} {path}: the daemon's answer (HTTP {response.status_code}) is not "
                f"a valid {model.__name__}: {problems}",
                response.status_code,
            ) from None


class _Progress:
    """How far one HTTP call got (from httpcore's trace events): whether any byte of the
    request may have been written when its deadline passed."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        self.events.append(event)

    def timeout_error(self, seconds: float) -> httpx.TimeoutException:
        text = f"no complete answer within the {seconds:g}s request timeout"
        # Only a transport that reports its progress can prove nothing was written;
        # without events (another transport, or waiting for a pooled connection) the
        # request may have left.
        if self.events and not any("send_request" in event for event in self.events):
            return httpx.ConnectTimeout(text)
        return httpx.ReadTimeout(text)


def _ambiguous(
    what: str, body: dict[str, Any] | None, status: int | None, cause: str
) -> AmbiguousSendError:
    return AmbiguousSendError(
        f"{what}: the outcome is unknown ({cause}); the daemon may have created it. "
        "Check the transaction list before sending again.",
        request=dict(body or {}),
        status_code=status,
    )


def _params(**values: str | None) -> dict[str, str]:
    return {key: value for key, value in values.items() if value is not None}


def _path_id(value: str) -> str:
    # Ids are UUIDs; refusing anything else keeps a caller's typo from building another path.
    if not value or not all(ch.isalnum() or ch == "-" for ch in value):
        raise ValueError(f"not a valid id: {value!r}")
    return value
