"""``waiaas-run audit`` as a person runs it (another process, the sandbox over HTTP):
exit codes, ``--output json``, usage errors, and no secret in any output."""

from __future__ import annotations

from pathlib import Path

from runner.client import TransferRequest
from runner.ledger import Ledger
from tests.audit.conftest import STRANGER, Daemon, as_json, audit_command, send_body, wei
from tests.exactly_once.conftest import Harness

FINDING_KEYS = {
    "kind",
    "wallet",
    "wallet_id",
    "tx_id",
    "send_key",
    "status",
    "summary",
    "found_at",
    "queued",
    "cancelled",
}


def last_playbook(harness: Harness) -> str:
    return str(harness.tmp_path / f"playbook-{harness._count}.yaml")


async def test_clean_then_findings_as_text_and_json(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    code, out, err = await audit_command(harness, last_playbook(harness))
    assert code == 0, err
    assert "clean" in out and "2 wallet(s)" in out
    daemon = Daemon(harness)
    double = await daemon.post(daemon.address("agent"), wei("0.001"))
    foreign = await daemon.post(STRANGER, wei("0.002"))
    code, out, err = await audit_command(harness, last_playbook(harness))
    assert code == 1, err
    assert "LIKELY DOUBLE" in out and double.id in out and foreign.id in out
    code, out, err = await audit_command(harness, "--output", "json", last_playbook(harness))
    assert code == 1, err
    data = as_json(out)
    assert set(data) >= {"audited_at", "since", "complete", "exit_code", "wallets", "findings"}
    assert data["complete"] is True and data["exit_code"] == 1
    assert data["since"].endswith("Z") and data["audited_at"].endswith("Z")
    assert {(f["kind"], f["tx_id"]) for f in data["findings"]} == {
        ("likely_double", double.id),
        ("foreign", foreign.id),
    }
    for finding in data["findings"]:
        assert set(finding) >= FINDING_KEYS
        assert finding["wallet"] == "treasury" and finding["queued"] is False
    for text in (out, err):
        assert harness.sandbox.token not in text
        assert "wai_sess_" not in text


async def test_an_unsettled_send_exits_3(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    treasury = harness.sandbox.wallet("treasury")["id"]
    with Ledger(harness.state) as ledger:
        ledger.intend_send(
            key="exactly-once/lost/s",
            run_id="lost",
            playbook="exactly-once",
            step_id="s",
            request=TransferRequest(
                STRANGER, 7, network="ethereum-sepolia", wallet_id=treasury, symbol="ETH"
            ),
        )
        ledger.mark_unknown("exactly-once/lost/s", "the answer was lost")
    code, out, err = await audit_command(harness, last_playbook(harness))
    assert code == 3, err
    assert "UNSETTLED" in out and "waiaas-run resolve exactly-once/lost/s" in out


async def test_an_incomplete_audit_never_says_clean(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    code, out, err = await audit_command(harness, "--max-list-reads", "1", last_playbook(harness))
    assert code == 1, err
    assert "clean" not in out.replace("cannot say the wallets are clean", "")
    assert "INCOMPLETE" in out and "cannot say the wallets are clean" in out
    code, out, _ = await audit_command(
        harness, "--max-list-reads", "1", "--output", "json", last_playbook(harness)
    )
    assert as_json(out)["complete"] is False


async def test_every_wallet_of_the_session_without_playbooks(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    code, out, err = await audit_command(harness, "--output", "json")
    assert code == 0, err
    assert {w["wallet"] for w in as_json(out)["wallets"]} == {"treasury", "agent"}


async def test_usage_errors_exit_2(harness: Harness, tmp_path: Path) -> None:
    await harness.run(send_body("0.001 ETH"))
    code, _, err = await audit_command(harness, "--since", "5 fortnights", last_playbook(harness))
    assert code == 2 and "--since" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nname: x\nsteps: [oops]\n", encoding="utf-8")
    code, _, err = await audit_command(harness, str(broken))
    assert code == 2 and "broken.yaml" in err and "Traceback" not in err
    code, _, err = await audit_command(
        harness, "--state", str(tmp_path / "none.sqlite3"), last_playbook(harness)
    )
    assert code == 2 and "no ledger" in err
    code, _, err = await audit_command(harness, without=("WAIAAS_URL",))
    assert code == 2 and "name the playbooks to audit" in err


async def test_cancel_queued_names_what_it_cancelled(harness: Harness) -> None:
    await harness.run(send_body("0.2 ETH"))  # APPROVAL tier: QUEUED for the owner
    daemon = Daemon(harness)
    double = await daemon.post(daemon.address("agent"), wei("0.2"))
    for _ in range(200):
        if await daemon.status(double.id) == "QUEUED":
            break
    code, out, err = await audit_command(harness, "--cancel-queued", last_playbook(harness))
    assert code == 1, err
    assert f"cancelled {double.id} (likely double of send exactly-once/" in out
    assert "[CANCELLED]" in out
    assert await daemon.status(double.id) == "CANCELLED"


async def test_playbooks_of_two_sessions_each_read_with_its_own(harness: Harness) -> None:
    """Each playbook's wallets are read through its own session (a session reads only the
    wallets linked to it), each session with its own list reads."""
    await harness.run(send_body("0.001 ETH"))
    first = harness.tmp_path / "first.token"
    first.write_text(harness.sandbox.token + "\n")
    _, second_token = harness.sandbox.create_session(["solana-ops"])
    second = harness.tmp_path / "second.token"
    second.write_text(second_token + "\n")
    evm = Path(last_playbook(harness))
    evm.write_text(
        evm.read_text().replace('token: "${{ env.WAIAAS_SESSION_TOKEN }}"', f"token_file: {first}")
    )
    solana = harness.tmp_path / "solana.yaml"
    solana.write_text(
        "version: 1\nname: solana-look\n"
        'daemon: { url: "${{ env.WAIAAS_URL }}", token_file: ' + str(second) + " }\n"
        "wallets:\n  ops: { name: solana-ops, network: solana-devnet }\n"
        "steps:\n  - id: look\n    balance: { wallet: ops }\n"
    )
    code, out, err = await audit_command(
        harness,
        "--max-list-reads",
        "2",
        "--output",
        "json",
        str(evm),
        str(solana),
        without=("WAIAAS_SESSION_TOKEN",),
    )
    assert code == 0, err + out
    wallets = {w["wallet"]: w for w in as_json(out)["wallets"]}
    assert set(wallets) == {"treasury", "agent", "ops"}
    assert all(w["complete"] and w["list_reads"] == 1 for w in wallets.values())
    for text in (out, err):
        assert harness.sandbox.token not in text and second_token not in text
