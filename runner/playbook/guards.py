"""Whole-playbook guards on what a playbook could spend or leak: a cap that limits nothing
(it names a token no send moves), and a secret written into a daemon or webhook URL."""

from __future__ import annotations

from collections.abc import Iterator

from runner.playbook.amounts import AmountError
from runner.playbook.diagnostics import Diagnostic, KeyPath
from runner.playbook.evaluate import EvaluationError
from runner.playbook.expressions import Template
from runner.playbook.steps.base import Checker
from runner.secrets import url_secret

__all__ = ["idle_caps", "sent_symbols", "url_secrets"]

_RUNTIME = "\x00"  # stands for the parts of a text that only a run knows


def sent_symbols(checks: Checker) -> set[str] | None:
    """The tokens the playbook's sends move, when every one is known before a run."""
    playbook = checks.facts.playbook
    symbols: set[str] = set()
    for index, step in enumerate(playbook.steps):
        if not step.sends:
            continue
        path = ("steps", index, step.kind, "amount")
        amount = checks.static_amount(getattr(getattr(step, step.kind), "amount", None))
        kind = checks.amount_type(path)
        symbol = amount.symbol if amount else (kind.symbol if kind else None)
        if symbol is None:
            return None
        symbols.add(symbol)
    return symbols


def idle_caps(checks: Checker) -> Iterator[Diagnostic]:
    """A cap on a token that no send moves limits nothing: ``max_per_send: "0.5 SOL"``
    in a playbook that sends ETH quietly drops the per-send cap on ETH."""
    playbook = checks.facts.playbook
    sent = sent_symbols(checks)
    if not sent:
        return
    moved = ", ".join(sorted(sent))
    for name, literals in playbook.limits.caps().items():
        for index, literal in enumerate(literals):
            amount = checks.static_amount(literal)
            if amount is None or amount.symbol in sent:
                continue
            path = ("limits", name) + ((index,) if len(literals) > 1 else ())
            yield checks.diagnostic(
                path,
                f"caps {amount.symbol}, which no send of this playbook moves (they send "
                f"{moved}): it would limit nothing; write the cap in {moved}",
            )


def url_secrets(checks: Checker) -> Iterator[Diagnostic]:
    """Secrets come from the environment or a file, never from the YAML: a daemon or
    webhook URL that carries a credential (a password, a token in its query, a webhook
    service's key path) must be a reference, e.g. ``${{ env.ALERT_WEBHOOK }}``."""
    playbook = checks.facts.playbook
    urls: list[tuple[KeyPath, Template | None]] = [
        (("daemon", "url"), playbook.daemon.url),
        (
            ("notify", "webhook"),
            playbook.notify.webhook if playbook.notify else None,
        ),
    ]
    for index, step in enumerate(playbook.steps):
        webhook = getattr(getattr(step, "notify", None), "webhook", None)
        urls.append((("steps", index, "notify", "webhook"), webhook))
    for path, template in urls:
        if not isinstance(template, Template):
            continue
        try:
            known = checks.static_text(template)
        except (EvaluationError, AmountError):
            continue  # reported where the expression is checked
        written = "".join(p if isinstance(p, str) else _RUNTIME for p in template.parts)
        found = url_secret(known if known is not None else written, runtime=_RUNTIME)
        if found is not None:
            origin = "" if known is None or template.is_static else " (through a var)"
            yield checks.diagnostic(
                path,
                f"the URL carries a secret{origin}: {found}; secrets never belong in the "
                'playbook: write it as a reference, e.g. "${{ env.ALERT_WEBHOOK }}", and '
                "set the variable outside the file",
            )
