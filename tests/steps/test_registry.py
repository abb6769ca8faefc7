"""Step kinds: one model per kind, registered once, with declared outputs."""

from __future__ import annotations

import pytest

from runner.playbook import Facts, load_playbook_text
from runner.playbook.exprtypes import amount_of
from runner.playbook.steps import COMMON_OUTPUTS, STEP_KINDS, StepModel, kind_of

PLAYBOOK = """\
version: 1
name: t
daemon: {url: "${{ env.URL }}", token: "${{ env.TOKEN }}", wallet: main}
wallets:
  main: {name: main, network: solana-devnet}
  evm: {name: evm, network: base-sepolia}
tokens:
  USDC: {network: base-sepolia, decimals: 6, address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e"}
steps:
  - id: sol
    balance: {}
  - id: usdc
    balance: {wallet: evm, token: USDC}
  - id: pay
    send: {from: evm, to: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", amount: "1.5 USDC"}
  - id: held
    assets: {wallet: evm}
  - id: tx
    wait: {transaction: "${{ steps.pay.id }}"}
  - id: queue
    pending: {}
  - id: check
    assert: steps.sol.amount > amount("1 SOL") and steps.usdc.amount >= steps.held.balances.USDC
  - id: tell
    notify: {message: "${{ steps.queue.count }} pending", webhook: "https://example.invalid/hook"}
  - id: note
    log: "${{ steps.tx.status }}"
"""


def test_every_kind_is_registered_under_its_key() -> None:
    assert list(STEP_KINDS) == [
        "balance",
        "assets",
        "send",
        "wait",
        "pending",
        "transactions",
        "assert",
        "notify",
        "log",
    ]
    for kind, model in STEP_KINDS.items():
        assert model.kind == kind
        assert issubclass(model, StepModel)
        assert kind in {field.alias or name for name, field in model.model_fields.items()}
        assert model.outputs, f"{kind} declares its outputs"


def test_each_step_validates_to_its_kinds_model() -> None:
    playbook = load_playbook_text(PLAYBOOK, "p.yaml")
    kinds = ["balance", "balance", "send", "assets", "wait", "pending", "assert", "notify", "log"]
    assert [type(step) for step in playbook.steps] == [STEP_KINDS[kind] for kind in kinds]
    assert [kind_of(step) for step in playbook.steps] == kinds


def test_output_types_follow_the_settings() -> None:
    playbook = load_playbook_text(PLAYBOOK, "p.yaml")
    facts = Facts(playbook)
    outputs = {step.id: step.declared_outputs(facts) for step in playbook.steps}
    assert outputs["sol"]["amount"] == amount_of("SOL")  # the default wallet's network
    assert outputs["usdc"]["amount"] == amount_of("USDC")
    assert outputs["pay"]["amount"] == amount_of("USDC")
    for declared in outputs.values():
        assert COMMON_OUTPUTS.items() <= declared.items()


@pytest.mark.parametrize("kind", list(STEP_KINDS))
def test_kind_key_alone_is_not_a_step(kind: str) -> None:
    assert kind_of({"id": "x"}) is None
    assert kind_of({kind: {}}) == kind


def test_the_two_registries_pair_each_kind_with_its_own_model() -> None:
    import inspect

    from runner.engine.steps import RUNNERS

    assert list(RUNNERS) == list(STEP_KINDS)
    for kind, run in RUNNERS.items():
        step_type = inspect.get_annotations(run, eval_str=True)["step"]
        assert step_type is STEP_KINDS[kind], kind


def test_what_the_checker_knows_about_a_kind_lives_on_the_kind() -> None:
    sends = {kind for kind, model in STEP_KINDS.items() if model.sends}
    wallets = {kind: model.wallet_key for kind, model in STEP_KINDS.items() if model.wallet_key}
    assert sends == {"send"}
    assert wallets == {
        "balance": "wallet",
        "assets": "wallet",
        "pending": "wallet",
        "transactions": "wallet",
        "send": "from",
    }
