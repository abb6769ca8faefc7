"""``GET /v1/connect-info``: what an agent learns about its session (waiaas-api.md §2)."""

from __future__ import annotations

from typing import Any

from runner.sandbox.core import SandboxCore
from runner.sandbox.fixture import WalletSpec
from runner.sandbox.state import SessionRow, WalletRow


def connect_info(core: SandboxCore, session: SessionRow, base_url: str) -> dict[str, Any]:
    """``GET /v1/connect-info``: the session, its wallets, their policies, the daemon."""
    linked = [core.wallets[w] for w in session.wallets if w in core.wallets]
    wallets = [
        {
            "id": w.id,
            "name": w.name,
            "chain": w.chain,
            "environment": w.environment,
            "address": w.address,
            "accountType": "eoa",
            "ownerState": _owner_state(core, w),
            "availableNetworks": [n.name for n in core.wallet_networks(w)],
            "provider": None,
        }
        for w in linked
    ]
    capabilities = ["transfer", "token_transfer", "balance", "assets"]
    return {
        "session": {"id": session.id, "expiresAt": session.token_exp or 0, "source": "api"},
        "wallets": wallets,
        "policies": {w.id: _policies(core, w) for w in linked},
        "capabilities": capabilities,
        "defaultDeny": {
            "tokenTransfers": False,
            "contractCalls": True,
            "tokenApprovals": True,
            "x402Domains": True,
        },
        "daemon": {"version": core.fixture.version, "baseUrl": base_url},
        "rpcProxy": None,
        "supportedChainIds": sorted({n.caip2 for w in linked for n in core.wallet_networks(w)}),
        "prompt": _prompt(wallets, capabilities, base_url, core.fixture.version),
    }


def _spec(core: SandboxCore, wallet: WalletRow) -> WalletSpec | None:
    return next((s for s in core.fixture.wallets if s.name == wallet.name), None)


def _owner_state(core: SandboxCore, wallet: WalletRow) -> str:
    # A registered, not yet verified owner is GRACE: enough for the APPROVAL tier.
    spec = _spec(core, wallet)
    return "GRACE" if spec is not None and spec.owner else "NONE"


def _policies(core: SandboxCore, wallet: WalletRow) -> list[dict[str, Any]]:
    spec = _spec(core, wallet)
    if spec is None or spec.policy is None:
        return []
    policy = spec.policy
    rules: dict[str, Any] = {
        key: str(value)
        for key, value in (
            ("instant_max", policy.instant_max),
            ("notify_max", policy.notify_max),
            ("delay_max", policy.delay_max),
        )
        if value is not None
    }
    found = []
    if rules:
        rules["delay_seconds"] = policy.delay_seconds
        found.append({"type": "SPENDING_LIMIT", "rules": rules, "priority": 0, "network": None})
    if policy.allowed_recipients is not None:
        found.append(
            {
                "type": "WHITELIST",
                "priority": 0,
                "network": None,
                "rules": {"allowed_addresses": policy.allowed_recipients},
            }
        )
    return found


def _prompt(
    wallets: list[dict[str, Any]], capabilities: list[str], base_url: str, version: str
) -> str:
    lines = [
        f"You are connected to a WAIaaS sandbox (a test double of daemon v{version}; "
        "no keys, no chain).",
        f"Base URL: {base_url}",
        "",
        f"You have access to {len(wallets)} wallet(s):",
        "",
    ]
    for number, wallet in enumerate(wallets, 1):
        lines += [
            f"{number}. {wallet['name']} ({wallet['chain']}/{wallet['environment']})",
            f"   ID: {wallet['id']}",
            f"   Address: {wallet['address']}",
            f"   Networks: {', '.join(wallet['availableNetworks'])}",
            "",
        ]
    lines.append(f"Available capabilities: {', '.join(capabilities)}")
    return "\n".join(lines)
