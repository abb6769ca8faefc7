"""Embedding the client: read a balance, simulate, send, and follow the transaction to the end.

Runs against the in-process sandbox, so it needs nothing else:

    .venv/bin/python examples/embed_client.py

Against a real daemon, replace the Sandbox block with your URL and session token.
"""

from __future__ import annotations

import asyncio

from runner.client import RetryPolicy, WAIaaSClient
from runner.sandbox import Sandbox


async def main() -> None:
    async with Sandbox(port=0) as sandbox:
        async with WAIaaSClient(sandbox.url, sandbox.token, retry_policy=RetryPolicy()) as client:
            info = await client.get_connect_info()
            treasury = info.wallet_named("treasury")
            agent = info.wallet_named("agent")
            assert treasury is not None and agent is not None
            balance = await client.get_balance("ethereum-sepolia", wallet_id=treasury.id)
            print(f"treasury holds {balance.amount} {balance.symbol} ({balance.raw} wei)")

            to, network = agent.address or "", "ethereum-sepolia"
            # the daemon's dry run first: policy verdict, tier and fee, nothing written
            dry_run = await client.simulate_transaction(
                to, 10**15, network=network, wallet_id=treasury.id
            )
            fee = (dry_run.fee or {}).get("estimatedFee")
            print(f"simulated: allowed={dry_run.success} tier={dry_run.tier} fee={fee} wei")
            if not dry_run.success:
                return
            sent = await client.send_token(to, 10**15, network=network, wallet_id=treasury.id)
            print(f"accepted {sent.id} ({sent.status}); following it:")
            while True:
                tx = await client.get_transaction(sent.id)
                print(f"  {tx.status} tier={tx.tier} hash={tx.tx_hash}")
                if tx.status.terminal:
                    break
                await asyncio.sleep(0.5)


if __name__ == "__main__":
    asyncio.run(main())
