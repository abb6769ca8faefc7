"""The examples work: command lines run against a sandbox, units and manifests carry what
they need, the Python examples run."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.sandbox import Sandbox
from tests.examples.conftest import BIN, ROOT, Shell, needs_scheduled_for, replace_all

EXAMPLES = ROOT / "examples"
RECIPE = ROOT / "playbooks" / "keep-agent-usdc.yaml"
SLOT = "2026-01-05T09:15:00Z"


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(tmp_path)


def _fixed_date(folder: Path) -> Path:
    """A `date` that always answers the same slot, so two runs are sure to share it."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "date"
    fake.write_text(f"#!/bin/sh\necho {SLOT}\n", encoding="utf-8")
    fake.chmod(0o755)
    return folder


def test_every_example_directory_has_a_readme() -> None:
    folders = [p for p in EXAMPLES.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert {p.name for p in folders} >= {
        "crontab",
        "systemd",
        "kubernetes",
        "github-actions",
        "pytest-sandbox",
    }
    for folder in folders:
        assert (folder / "README.md").is_file(), folder


def test_the_date_format_of_the_examples_is_a_slot() -> None:
    out = subprocess.run(
        ["date", "-u", "+%Y-%m-%dT%H:%M:00Z"], capture_output=True, text=True, check=True
    ).stdout
    slot = datetime.fromisoformat(out.strip().replace("Z", "+00:00"))
    assert slot.second == 0 and slot.utcoffset() == timedelta(0)


def _crontab() -> tuple[dict[str, str], str, list[str]]:
    env: dict[str, str] = {}
    jobs: list[str] = []
    for line in (EXAMPLES / "crontab" / "crontab").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            name, value = line.split("=", 1)
            env[name] = value
        else:
            jobs.append(line)
    assert len(jobs) == 1
    fields = jobs[0].split(None, 5)
    return env, fields[5], fields[:5]


def test_crontab_line_is_well_formed() -> None:
    env, command, schedule = _crontab()
    assert schedule == ["*/15", "*", "*", "*", "*"]
    assert env["WAIAAS_RUNNER_STATE"].endswith(".sqlite3")
    assert "%" not in command.replace("\\%", "")  # cron would cut the line at a bare %
    assert "--scheduled-for" in command and "--token-file" in command


@needs_scheduled_for
async def test_crontab_line_runs_and_a_slot_started_twice_sends_once(
    shell: Shell, sandbox: Sandbox, tmp_path: Path
) -> None:
    env, command, _ = _crontab()
    (tmp_path / "token").write_text(sandbox.token + "\n", encoding="utf-8")
    shutil.copy(RECIPE, tmp_path / "keep-agent-usdc.yaml")
    command = replace_all(
        command.replace("\\%", "%"),
        {
            "/etc/waiaas-runner/token": str(tmp_path / "token"),
            "/srv/waiaas/playbooks/": f"{tmp_path}/",
            "/var/log/waiaas-runner.log": str(tmp_path / "cron.log"),
        },
    )
    env = {
        **env,
        "WAIAAS_URL": sandbox.url,
        "WAIAAS_RUNNER_STATE": str(tmp_path / "ledger.sqlite3"),
    }
    env["PATH"] = f"{_fixed_date(tmp_path / 'shim')}:{shell.environ()['PATH']}"
    for _ in range(2):
        code, out = await shell.run(command, env)
        assert code == 0, out + (tmp_path / "cron.log").read_text()
    log = (tmp_path / "cron.log").read_text(encoding="utf-8")
    assert log.count("keep-agent-usdc (run 20260105T091500Z-slot-") == 2, log
    assert log.count(": ok") == 2, log
    assert sandbox.transaction_count() == 1  # the second start continued the same run


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((EXAMPLES / "systemd" / name).read_text(encoding="utf-8"))
    return parser


def test_systemd_units_carry_what_they_need() -> None:
    oneshot = _unit("waiaas-runner@.service")["Service"]
    assert oneshot["Type"] == "oneshot"
    assert oneshot["StateDirectory"] == "waiaas-runner"
    assert oneshot["LoadCredential"].startswith("token:")
    assert "waiaas-run run" in oneshot["ExecStart"]
    assert '--token-file "$CREDENTIALS_DIRECTORY/token"' in oneshot["ExecStart"]
    assert "--scheduled-for" in oneshot["ExecStart"] and "%%Y" in oneshot["ExecStart"]
    timer = _unit("waiaas-runner@.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["Unit"] == "waiaas-runner@%i.service"
    assert timer["Install"]["WantedBy"] == "timers.target"
    serve = _unit("waiaas-serve.service")["Service"]
    assert serve["Restart"] == "on-failure"
    assert serve["StateDirectory"] == "waiaas-runner"
    assert "waiaas-run serve" in serve["ExecStart"]
    # the token file lives in the state directory: serve writes renewed tokens back to it
    assert "--token-file /var/lib/waiaas-runner/" in serve["ExecStart"]
    assert "--state /var/lib/waiaas-runner/" in serve["ExecStart"]


@needs_scheduled_for
async def test_systemd_oneshot_command_runs(shell: Shell, sandbox: Sandbox, tmp_path: Path) -> None:
    """ExecStart= as systemd would expand it: %i, %S and %% replaced, the credential given."""
    service = _unit("waiaas-runner@.service")["Service"]
    exec_start = replace_all(
        service["ExecStart"],
        {
            "/opt/waiaas-runner/bin/": f"{BIN}/",
            "/etc/waiaas-runner/playbooks/": f"{tmp_path}/",
            "%i": "keep-agent-usdc",
            "%%": "%",
        },
    )
    (tmp_path / "credentials").mkdir()
    (tmp_path / "credentials" / "token").write_text(sandbox.token, encoding="utf-8")
    shutil.copy(RECIPE, tmp_path / "keep-agent-usdc.yaml")
    env = {
        "WAIAAS_URL": sandbox.url,
        "WAIAAS_RUNNER_STATE": str(tmp_path / "ledger.sqlite3"),
        "CREDENTIALS_DIRECTORY": str(tmp_path / "credentials"),
    }
    code, out = await shell.run(exec_start, env)
    assert code == 0, out
    assert "keep-agent-usdc (run " in out and "-slot-" in out
    assert sandbox.transaction_count() == 1


def _manifests() -> list[dict[str, Any]]:
    text = (EXAMPLES / "kubernetes" / "cronjob.yaml").read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_kubernetes_cronjob_carries_what_it_needs() -> None:
    docs = {doc["kind"]: doc for doc in _manifests()}
    assert set(docs) == {"CronJob", "ServiceAccount", "Role", "RoleBinding"}
    cronjob = docs["CronJob"]
    assert cronjob["apiVersion"] == "batch/v1"
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["timeZone"]
    assert len(spec["schedule"].split()) == 5
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert "kubernetes.io/hostname" in pod["nodeSelector"]  # pinned to the daemon's node
    assert pod["hostNetwork"] is True
    assert pod["restartPolicy"] == "Never"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["ledger"]["hostPath"]["path"] == "/var/lib/waiaas-runner"
    init = pod["initContainers"][0]
    assert "batch\\.kubernetes\\.io/cronjob-scheduled-timestamp" in " ".join(init["command"])
    runner = pod["containers"][0]
    command = " ".join(runner["command"])
    assert '--scheduled-for "$(cat /slot/scheduled-for)"' in command
    env = {e["name"]: e.get("value") for e in runner["env"]}
    assert env["WAIAAS_RUNNER_STATE"].startswith("/var/lib/waiaas-runner/")
    mounts = {m["name"]: m["mountPath"] for m in runner["volumeMounts"]}
    assert mounts["ledger"] == "/var/lib/waiaas-runner"
    assert pod["serviceAccountName"] == docs["ServiceAccount"]["metadata"]["name"]
    rule = docs["Role"]["rules"][0]
    assert rule == {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get"]}


@needs_scheduled_for
async def test_kubernetes_runner_command_runs(
    shell: Shell, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The runner container's command, with the slot file the init container writes."""
    pod = _manifests()[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    runner = pod["containers"][0]
    (tmp_path / "slot").mkdir()
    (tmp_path / "slot" / "scheduled-for").write_text(SLOT, encoding="utf-8")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "token").write_text(sandbox.token, encoding="utf-8")
    shutil.copy(RECIPE, tmp_path / "keep-agent-usdc.yaml")
    command = replace_all(
        runner["command"][2],
        {
            "/slot/": f"{tmp_path}/slot/",
            "/var/run/secrets/waiaas/": f"{tmp_path}/secret/",
            "/etc/waiaas-runner/playbooks/": f"{tmp_path}/",
        },
    )
    env = {e["name"]: e["value"] for e in runner["env"]}
    env["WAIAAS_URL"] = sandbox.url
    env["WAIAAS_RUNNER_STATE"] = str(tmp_path / "ledger.sqlite3")
    code, out = await shell.run(command, env)
    assert code == 0, out
    assert "(run 20260105T091500Z-slot-" in out


def _workflow() -> dict[str, Any]:
    text = (EXAMPLES / "github-actions" / "playbooks.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return dict(data)


def test_github_workflow_carries_what_it_needs() -> None:
    workflow = _workflow()
    assert workflow["on"]["pull_request"]["paths"] == ["playbooks/**"]
    assert workflow["permissions"]["pull-requests"] == "write"
    steps = workflow["jobs"]["check"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "waiaas-run validate playbooks/" in runs
    assert "waiaas-run test playbooks/" in runs
    assert "waiaas-run plan --sandbox --output markdown" in runs
    assert "gh pr comment" in runs
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0


async def test_github_workflow_commands_run_on_a_changed_playbook(
    shell: Shell, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "playbooks").mkdir(parents=True)
    # two recipes with their scenario files keep the run short; the commands are the same
    for name in ("keep-agent-usdc", "low-balance-alert"):
        for suffix in (".yaml", ".test.yaml"):
            shutil.copy(ROOT / "playbooks" / f"{name}{suffix}", repo / "playbooks")
    git = "git -c user.name=ci -c user.email=ci@example.invalid"
    code, out = await shell.run(f"git init -q && {git} add -A && {git} commit -qm base", cwd=repo)
    assert code == 0, out
    base = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    recipe = repo / "playbooks" / "keep-agent-usdc.yaml"
    recipe.write_text(
        recipe.read_text(encoding="utf-8").replace('cron: "*/30 * * * *"', 'cron: "*/20 * * * *"'),
        encoding="utf-8",
    )
    code, out = await shell.run(f"{git} commit -qam 'every 20 minutes'", cwd=repo)
    assert code == 0, out
    steps = {s["name"]: s for s in _workflow()["jobs"]["check"]["steps"] if "name" in s}
    for name in ("Validate", "Scenario tests", "Plan the changed playbooks against the sandbox"):
        code, out = await shell.run(steps[name]["run"], {"BASE": base}, cwd=repo)
        assert code == 0, f"{name}: {out}"
    plan = (repo / "plan.md").read_text(encoding="utf-8")
    assert "#### `playbooks/keep-agent-usdc.yaml`" in plan
    assert "100 USDC" in plan and "|" in plan  # the plan's markdown table
    assert "low-balance-alert" not in plan  # only what changed


def test_embedding_the_client_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "embed_client.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "simulated: allowed=True tier=" in result.stdout  # simulate_transaction, by name
    assert "CONFIRMED" in result.stdout


def test_sandbox_in_your_own_pytest_runs() -> None:
    result = subprocess.run(
        [
            str(BIN / "pytest"),
            "-q",
            "-p",
            "no:cacheprovider",
            str(EXAMPLES / "pytest-sandbox"),
            "-k",
            "balance or clock or low-balance",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
