"""``waiaas-run schema``: print the JSON Schema of playbooks (or of scenario test files)."""

from __future__ import annotations

import click

from runner.playbook.schema import schema_text


@click.command("schema")
@click.option(
    "--scenario",
    is_flag=True,
    help="The schema of scenario test files (*.test.yaml) instead; the source of "
    "playbooks/scenario.schema.json.",
)
def command(scenario: bool) -> None:
    """Print the JSON Schema of playbooks (the source of playbooks/playbook.schema.json).

    Editors use it through a first line like
    `# yaml-language-server: $schema=../playbooks/playbook.schema.json`.
    """
    if scenario:
        from runner.scenario.schema import scenario_schema_text  # only when asked for

        click.echo(scenario_schema_text(), nl=False)
        return
    click.echo(schema_text(), nl=False)
