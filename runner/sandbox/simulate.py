"""``POST /v1/transactions/simulate``: the dry run's answer, shaped as in waiaas-api.md §3.6.

It asks the lifecycle the same questions a real send would meet (allow-list, tier,
balance with fee) without writing anything.
"""

from __future__ import annotations

from typing import Any

from runner.sandbox.bodies import SendRequest
from runner.sandbox.core import SandboxCore
from runner.sandbox.state import NATIVE


def dry_run(core: SandboxCore, send: SendRequest) -> dict[str, Any]:
    network = send.network
    probe = send.pending_row("00000000-0000-7000-8000-000000000000", core.clock(), None)
    lifecycle = core.lifecycle
    denial = lifecycle.denial(probe)
    decision = lifecycle.tier_for(probe)
    failure = lifecycle.execution_failure(probe)
    fee = core.fixture.fee(network.name)

    policy: dict[str, Any] = {"tier": decision.tier, "allowed": denial is None}
    warnings: list[dict[str, str]] = []
    if denial is not None:
        policy["reason"] = denial
    if decision.tier == "DELAY":
        policy["delaySeconds"] = int(decision.wait or 0)
        warnings.append(
            _warning(
                "DELAY_REQUIRED",
                "The transfer waits in the DELAY queue "
                f"for {int(decision.wait or 0)} s before it executes",
            )
        )
    if decision.tier == "APPROVAL":
        policy["approvalReason"] = "Amount exceeds the delay tier limit"
        warnings.append(_warning("APPROVAL_REQUIRED", "The owner must approve this transfer"))
    if decision.downgraded:
        policy["downgraded"] = True
        warnings.append(
            _warning("DOWNGRADED_NO_OWNER", "APPROVAL downgraded to DELAY: the wallet has no owner")
        )
    if failure is not None:
        code = (
            "INSUFFICIENT_BALANCE"
            if "enough funds" in failure or "exceeds" in failure or "insufficient" in failure
            else "SIMULATION_FAILED"
        )
        warnings.append(_warning(code, failure, "error"))

    asset = send.token.address.lower() if send.token else NATIVE
    current = lifecycle.available(send.wallet.id, network.name, asset)
    return {
        "success": denial is None,
        "policy": policy,
        "fee": {
            "estimatedFee": str(fee),
            "feeSymbol": network.native_symbol,
            "feeDecimals": network.native_decimals,
            "feeUsd": None,
        },
        "balanceChanges": [
            {
                "asset": send.token.address if send.token else "native",
                "symbol": send.token.symbol if send.token else network.native_symbol,
                "decimals": send.token.decimals if send.token else network.native_decimals,
                "currentBalance": str(current),
                "changeAmount": f"-{send.amount}",
                "afterBalance": str(current - send.amount),
            }
        ],
        "warnings": warnings,
        "simulation": {
            "success": failure is None,
            "logs": [],
            "unitsConsumed": None,
            "error": failure,
        },
        "meta": {
            "chain": send.wallet.chain,
            "network": network.name,
            "transactionType": send.type,
            "durationMs": 0,
        },
    }


def _warning(code: str, message: str, severity: str = "info") -> dict[str, str]:
    return {"code": code, "message": message, "severity": severity}
