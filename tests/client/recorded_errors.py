# ruff: noqa: E501  (recorded texts are kept verbatim)
"""Every error answer the real daemon gave in waiaas-recorded.md: (where, status, body)."""

from __future__ import annotations

from typing import Any

RECORDED_ERRORS: list[tuple[str, int, dict[str, Any]]] = [
    (
        "A: GET /v1/wallet/balance",
        400,
        {
            "code": "NETWORK_REQUIRED",
            "message": "Network query parameter is required for ethereum wallets",
            "requestId": "01a2139f-e17a-7597-8b7a-2ef537643d48",
            "retryable": False,
        },
    ),
    (
        "A: ERROR: bad token",
        401,
        {
            "code": "INVALID_TOKEN",
            "message": "Invalid authentication token",
            "requestId": "01a2139f-e6a2-7f3a-95a7-8416506c276c",
            "retryable": False,
            "hint": "Create a new session via POST /v1/sessions with masterAuth credentials.",
        },
    ),
    (
        "A: ERROR: token without wai_sess_ prefix",
        401,
        {
            "code": "INVALID_TOKEN",
            "message": "Missing or invalid Authorization header. Expected: Bearer wai_sess_<token>",
            "requestId": "01a2139f-e735-7ce2-b43d-afd88fd5ae87",
            "retryable": False,
            "hint": "Create a new session via POST /v1/sessions with masterAuth credentials.",
        },
    ),
    (
        "A: ERROR: missing to / bad JSON schema",
        400,
        {
            "code": "ACTION_VALIDATION_FAILED",
            "message": "Validation error",
            "details": {"issues": [{"path": "to", "message": "Required"}]},
            "requestId": "01a2139f-e7b6-7512-af28-641c40e481ab",
            "retryable": False,
        },
    ),
    (
        "A: ERROR: amount and humanAmount both missing",
        400,
        {
            "code": "ACTION_VALIDATION_FAILED",
            "message": "Either amount or humanAmount must be provided.",
            "requestId": "01a2139f-e82a-7f5b-944d-60d66f31b1ad",
            "retryable": False,
        },
    ),
    (
        "A: ERROR: renew main session too early",
        403,
        {
            "code": "RENEWAL_TOO_EARLY",
            "message": "Session renewal attempted too early",
            "requestId": "01a2139f-e89b-77dd-ab5e-2b57c5b32a24",
            "retryable": True,
            "hint": "Wait until 50% of session TTL has elapsed before renewing.",
        },
    ),
    (
        "A: ERROR: wrong master password on POST /v1/sessions",
        401,
        {
            "code": "INVALID_MASTER_PASSWORD",
            "message": "Invalid master password",
            "requestId": "01a2139f-e91b-7b9c-ab6b-bf7691825a7f",
            "retryable": False,
            "hint": "Check the X-Master-Password header value.",
        },
    ),
    (
        "A: ERROR: session token used on masterAuth endpoint POST /v1/sessions",
        401,
        {
            "code": "INVALID_MASTER_PASSWORD",
            "message": "X-Master-Password header is required",
            "requestId": "01a2139f-e9a6-78a2-92f4-63ada13385d5",
            "retryable": False,
            "hint": "Check the X-Master-Password header value.",
        },
    ),
    (
        "A: ERROR: renew again with the OLD token",
        403,
        {
            "code": "SESSION_RENEWAL_MISMATCH",
            "message": "Session renewal count mismatch",
            "requestId": "01a213a2-0754-7430-836b-698e2a3d5b3e",
            "retryable": False,
        },
    ),
    (
        "A: ERROR: renew again with the NEW token right away",
        403,
        {
            "code": "RENEWAL_TOO_EARLY",
            "message": "Session renewal attempted too early",
            "requestId": "01a213a2-07dd-71d1-b7f3-cc1ba09af040",
            "retryable": True,
            "hint": "Wait until 50% of session TTL has elapsed before renewing.",
        },
    ),
    (
        "A: ERROR: renew an unlimited session",
        400,
        {
            "code": "RENEWAL_NOT_REQUIRED",
            "message": "Unlimited session does not require renewal",
            "requestId": "01a213a2-1eff-7485-bd1e-0258d6ec8c12",
            "retryable": False,
        },
    ),
    (
        "A: ERROR: use a revoked session token",
        401,
        {
            "code": "SESSION_REVOKED",
            "message": "Session has been revoked",
            "requestId": "01a213a2-1fec-7251-a216-53a62b43fc41",
            "retryable": False,
            "hint": "Create a new session via POST /v1/sessions with masterAuth credentials.",
        },
    ),
    (
        "A: ERROR: OLD",
        401,
        {
            "code": "TOKEN_EXPIRED",
            "message": "Authentication token has expired",
            "requestId": "01a213a4-59af-78f8-ae0f-43f31fb9a152",
            "retryable": False,
            "hint": "Renew the session via PUT /v1/sessions/{id}/renew, or create a new session.",
        },
    ),
    (
        "B.6: GET /v1/wallet/balance",
        400,
        {
            "code": "NETWORK_REQUIRED",
            "message": "Network query parameter is required for ethereum wallets",
            "requestId": "01a21398-0d41-7943-8f04-e92b1745eedf",
            "retryable": False,
        },
    ),
    (
        "B.7: GET /v1/wallet/assets",
        400,
        {
            "code": "NETWORK_REQUIRED",
            "message": "Network query parameter is required for ethereum wallets",
            "requestId": "01a21398-0db2-778e-861c-93aeabac8027",
            "retryable": False,
        },
    ),
    (
        "B.10: ERROR: POST /v1/transactions/send without `network`",
        400,
        {
            "code": "ENVIRONMENT_NETWORK_MISMATCH",
            "message": "Network is required for ethereum wallets in testnet environment",
            "requestId": "01a21398-3aba-7ee7-a6be-f92c782e6759",
            "retryable": False,
        },
    ),
    (
        "B.24: ERROR: bad token on GET /v1/wallet/address",
        401,
        {
            "code": "INVALID_TOKEN",
            "message": "Invalid authentication token",
            "requestId": "01a21399-1c09-7064-afad-71c0fa96d070",
            "retryable": False,
            "hint": "Create a new session via POST /v1/sessions with masterAuth credentials.",
        },
    ),
    (
        "B.25: ERROR: no Authorization header",
        401,
        {
            "code": "INVALID_TOKEN",
            "message": "Missing or invalid Authorization header. Expected: Bearer wai_sess_<token>",
            "requestId": "01a21399-1c74-74d8-800d-cc3d63a86578",
            "retryable": False,
            "hint": "Create a new session via POST /v1/sessions with masterAuth credentials.",
        },
    ),
    (
        "B.29: ERROR: amount as decimal string",
        400,
        {
            "code": "ACTION_VALIDATION_FAILED",
            "message": "Validation error",
            "details": {
                "issues": [
                    {"path": "amount", "message": "amount must be a numeric string (lamports/wei)"}
                ]
            },
            "requestId": "01a21399-6b4d-77ab-a784-b4be66044a92",
            "retryable": False,
        },
    ),
    (
        "B.30: ERROR: unknown network",
        400,
        {
            "code": "ENVIRONMENT_NETWORK_MISMATCH",
            "message": "Invalid network 'ethereum-mainnet' for chain 'ethereum' in environment 'testnet'. Valid: ethereum-sepolia, polygon-amoy, arbitrum-sepolia, optimism-sepolia, base-sepolia, hyperevm-testnet",
            "requestId": "01a21399-6bb8-7ac3-9326-2e8ea383af8b",
            "retryable": False,
        },
    ),
    (
        "B.31: ERROR: GET unknown tx id",
        404,
        {
            "code": "TX_NOT_FOUND",
            "message": "Transaction '00000000-0000-7000-8000-000000000000' not found",
            "requestId": "01a21399-6c22-7340-9b3b-a0630a5e4c66",
            "retryable": False,
            "hint": "Verify the transaction ID. List transactions via GET /v1/transactions.",
        },
    ),
    (
        "B.32: ERROR: PUT /v1/sessions/{id}/renew too early",
        403,
        {
            "code": "RENEWAL_TOO_EARLY",
            "message": "Session renewal attempted too early",
            "requestId": "01a21399-d8a7-788d-8915-9dc034d15182",
            "retryable": True,
            "hint": "Wait until 50% of session TTL has elapsed before renewing.",
        },
    ),
    (
        "B.33: ERROR: renew a different session than the token's",
        404,
        {
            "code": "SESSION_NOT_FOUND",
            "message": "Cannot renew a different session",
            "requestId": "01a21399-d926-7050-a085-30129b76afba",
            "retryable": False,
            "hint": "The session may have been revoked. Create a new session via POST /v1/sessions.",
        },
    ),
    (
        "B.37: ERROR: renew again immediately with new token",
        403,
        {
            "code": "RENEWAL_TOO_EARLY",
            "message": "Session renewal attempted too early",
            "requestId": "01a2139a-78c3-7de1-99a4-ecb5a29cee55",
            "retryable": True,
            "hint": "Wait until 50% of session TTL has elapsed before renewing.",
        },
    ),
    (
        "B.38: ERROR: renew with the pre-renewal",
        403,
        {
            "code": "SESSION_RENEWAL_MISMATCH",
            "message": "Session renewal count mismatch",
            "requestId": "01a2139a-896b-7e45-bf12-1dc2844390b8",
            "retryable": False,
        },
    ),
    (
        "B.39: ERROR: GET /v1/transactions rate limited",
        429,
        {"code": "RATE_LIMITED", "message": "Transaction rate limit exceeded", "retryable": True},
    ),
    (
        "B.46: ERROR: POST /v1/transactions/{id}/approve with owner SIWE header",
        401,
        {
            "code": "INVALID_TOKEN",
            "message": "Missing or invalid Authorization header. Expected: Bearer wai_sess_<token>",
            "requestId": "01a2139b-d53e-7e39-87ac-0e5e14e52234",
            "retryable": False,
            "hint": "Create a new session via POST /v1/sessions with masterAuth credentials.",
        },
    ),
]
