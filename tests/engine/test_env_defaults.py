"""A playbook's ``env:`` default is used when the variable is unset, for the daemon's URL
as for everything else; a set variable wins; a required one (null) must be set (issue 10)."""

from __future__ import annotations

import pytest

from runner.engine.launch import LaunchOptions, launch
from runner.engine.results import ExitCode, RunResult
from runner.errors import UsageError
from runner.playbook import load_playbook
from tests.engine.conftest import Collector, Engine
from tests.exactly_once.conftest import dead_port


def playbook(url_default: str, extra_env: str = "", steps: str = "") -> str:
    return f"""\
version: 1
name: env-defaults
env:
  WAIAAS_URL: "{url_default}"
  WAIAAS_SESSION_TOKEN: ~
  AGENT_WALLET: agent
  GREETING: "hello"
{extra_env}
daemon:
  url: "${{{{ env.WAIAAS_URL }}}}"
  token: "${{{{ env.WAIAAS_SESSION_TOKEN }}}}"
wallets:
  agent: {{ name: "${{{{ env.AGENT_WALLET }}}}", network: ethereum-sepolia }}
steps:
  - id: agent
    balance: {{ wallet: agent }}
  - log: "${{{{ env.GREETING }}}} from ${{{{ env.AGENT_WALLET }}}}"
{steps}"""


async def launch_with(
    engine: Engine, text: str, environ: dict[str, str]
) -> tuple[RunResult, Collector]:
    path = engine.tmp_path / "env-defaults.yaml"
    path.write_text(text, encoding="utf-8")
    reporter = Collector()
    options = LaunchOptions(
        state=engine.state,
        environ={"XDG_CONFIG_HOME": str(engine.tmp_path / "config"), **environ},
        retry_policy=engine.retry_policy,
    )
    return await launch(load_playbook(path), path, "run", options, reporter), reporter


async def test_the_daemon_url_default_is_used_when_unset(engine: Engine) -> None:
    result, reporter = await launch_with(
        engine, playbook(engine.sandbox.url), {"WAIAAS_SESSION_TOKEN": engine.sandbox.token}
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert ("info", "hello from agent") in reporter.logs


async def test_a_set_variable_wins_over_the_default(engine: Engine) -> None:
    dead = f"http://127.0.0.1:{dead_port()}"
    result, reporter = await launch_with(
        engine,
        playbook(dead),
        {
            "WAIAAS_URL": engine.sandbox.url,
            "WAIAAS_SESSION_TOKEN": engine.sandbox.token,
            "GREETING": "hi",
        },
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert ("info", "hi from agent") in reporter.logs


async def test_a_wallet_name_default_matches_the_sandbox(engine: Engine) -> None:
    result, _ = await launch_with(
        engine, playbook(engine.sandbox.url), {"WAIAAS_SESSION_TOKEN": engine.sandbox.token}
    )
    [agent] = [s for s in result.steps if s.step_id == "agent"]
    assert agent.output["amount"] == "0.02 ETH"


async def test_a_wallet_name_from_the_environment_overrides_it(engine: Engine) -> None:
    result, _ = await launch_with(
        engine,
        playbook(engine.sandbox.url),
        {"WAIAAS_SESSION_TOKEN": engine.sandbox.token, "AGENT_WALLET": "agent-7"},
    )
    assert result.exit_code is ExitCode.FAILED
    assert "no wallet named 'agent-7'" in (result.steps[0].reason or "")


async def test_a_required_variable_must_still_be_set(engine: Engine) -> None:
    text = playbook(engine.sandbox.url, extra_env="  PAGER: ~")
    with pytest.raises(UsageError, match="PAGER"):
        await launch_with(engine, text, {"WAIAAS_SESSION_TOKEN": engine.sandbox.token})


async def test_an_empty_default_counts_as_set(engine: Engine) -> None:
    text = playbook(
        engine.sandbox.url,
        extra_env='  SUFFIX: ""',
        steps='  - log: "[${{ env.SUFFIX }}]"\n',
    )
    result, reporter = await launch_with(
        engine, text, {"WAIAAS_SESSION_TOKEN": engine.sandbox.token}
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert ("info", "[]") in reporter.logs
