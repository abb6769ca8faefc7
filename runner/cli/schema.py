"""``waiaas-run schema``: print the playbook JSON Schema generated from the models."""

from __future__ import annotations

import click

from runner.playbook.schema import schema_text


@click.command("schema")
def command() -> None:
    """Print the JSON Schema of playbooks (the source of playbooks/playbook.schema.json).

    Editors use it through a first line like
    `# yaml-language-server: $schema=../playbooks/playbook.schema.json`.
    """
    click.echo(schema_text(), nl=False)
