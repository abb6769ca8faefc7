"""Mutations of the shipped playbooks, generated from their text and YAML structure.

Every shipped playbook (``playbooks/*.yaml`` but the scenario files, and the playbooks
under ``examples/``) is composed with PyYAML to find its keys and values with their
positions; each rule below makes small edits a person could make by mistake — a typo in a
key or a value, a wrong unit, too many decimals, a removed required key, a duplicated key,
a reused step id, a reference to a later or missing step, an unknown wallet, YAML 1.1
spellings, a tab, a literal secret in a URL, a limit below a send — and says where the
error must be reported. New recipes are covered without touching this file.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.playbook.files import find_playbooks

ROOT = Path(__file__).resolve().parents[2]

Path_ = tuple[str | int, ...]

# keys whose children are names the playbook chooses (a typo there renames, it is not unknown)
NAMED_MAPS = {"env", "vars", "wallets", "tokens"}
# fields holding free text (any text is valid there)
FREE_TEXT = {"description", "message", "log", "memo", "name"}
# values that name one of a closed set: a typo must be refused where it is written
CLOSED_VALUES = {
    "until",
    "on_timeout",
    "missed",
    "overlap",
    "timezone",
    "network",
    "level",
    "wallet",
    "from",
    "token",
}
# YAML 1.1 spellings that are not what they look like; each must be refused wherever written
# (the two booleans first: every value gets them)
YAML11_TRAPS = ["yes", "off", "010", "1_000", "1:30", "0x10", "+1", ".5", "1e3", ".inf"]
DECIMALS = {"ETH": 18, "wei": 0, "gwei": 9, "SOL": 9, "USDC": 6}
AMOUNT = re.compile(r"^(?P<number>\d+(?:\.\d+)?) (?P<unit>[A-Za-z]+)$")
DURATION = re.compile(r"^\d+(ms|s|m|h|d)$")


def shipped_playbooks() -> list[Path]:
    """Every playbook the repository ships: the recipes and the examples."""
    found = find_playbooks([ROOT / "playbooks", ROOT / "examples"])
    return sorted(found.files)


@dataclass(frozen=True)
class Mutation:
    source: Path
    rule: str
    text: str
    lines: frozenset[int]  # where the error may be reported: the mutated line, or beside it
    note: str  # what was changed, for the test id and failure messages

    @property
    def id(self) -> str:
        return f"{self.source.stem}:{self.rule}:{self.note}"


@dataclass(frozen=True)
class Site:
    """A key or a value of the playbook, where it is written."""

    path: Path_
    node: Node
    key: ScalarNode | None  # the key node when this is a mapping value

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    @property
    def name(self) -> str | int:
        return self.path[-1] if self.path else ""

    @property
    def parent(self) -> str | int:
        return self.path[-2] if len(self.path) > 1 else ""


def _sites(node: Node, path: Path_ = (), key: ScalarNode | None = None) -> Iterator[Site]:
    yield Site(path, node, key)
    if isinstance(node, MappingNode):
        for k, v in node.value:
            yield from _sites(v, (*path, str(k.value)), k)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _sites(item, (*path, index))


def _replace(text: str, node: Node, new: str) -> str:
    start, end = node.start_mark.index, node.end_mark.index
    return text[:start] + new + text[end:]


def _typo(word: str) -> str:
    """A plausible typo: a letter dropped from the middle (or doubled, for short words)."""
    if len(word) <= 3:
        return word + word[-1]
    middle = len(word) // 2
    return word[:middle] + word[middle + 1 :]


def _too_precise(number: str, unit: str) -> str:
    """``number`` with one decimal place more than ``unit`` has: "0.2" ETH -> 0.2000…01."""
    whole, _, fraction = number.partition(".")
    return f"{whole}.{fraction.ljust(DECIMALS.get(unit, 18), '0')}1 {unit}"


def _lines(*numbers: int) -> frozenset[int]:
    return frozenset(n for number in numbers for n in (number - 1, number, number + 1))


class _Generator:
    def __init__(self, source: Path) -> None:
        self.source = source
        self.text = source.read_text(encoding="utf-8")
        self.root = yaml.compose(self.text)
        self.sites = list(_sites(self.root))
        self.step_ids = [
            (int(site.path[1]), str(site.node.value))
            for site in self.sites
            if len(site.path) == 3 and site.path[0] == "steps" and site.name == "id"
        ]

    def mutation(self, rule: str, text: str, lines: frozenset[int], note: str) -> Mutation:
        return Mutation(self.source, rule, text, lines, note)

    def scalars(self, where: Callable[[Site], bool]) -> Iterator[Site]:
        for site in self.sites:
            if isinstance(site.node, ScalarNode) and site.key is not None and where(site):
                yield site
        # items of lists (allow_to, on, status): no key node
        for site in self.sites:
            if isinstance(site.node, ScalarNode) and isinstance(site.name, int) and where(site):
                yield site

    def in_schema(self, site: Site) -> bool:
        """A key of the playbook format, not a name the playbook chose."""
        return not (len(site.path) >= 2 and site.path[-2] in NAMED_MAPS)

    # ---- the rules ----

    def key_typos(self) -> Iterator[Mutation]:
        for site in self.sites:
            if site.key is None or not self.in_schema(site):
                continue
            typo = _typo(str(site.key.value))
            text = _replace(self.text, site.key, typo)
            yield self.mutation("key-typo", text, _lines(site.key.start_mark.line + 1), typo)

    def value_typos(self) -> Iterator[Mutation]:
        def closed(site: Site) -> bool:
            return site.name in CLOSED_VALUES or site.parent in {"on", "status", "allow_to"}

        for site in self.scalars(closed):
            value = str(site.node.value)
            if "${{" in value or not value:
                continue
            typo = _typo(value)
            quoted = f'"{typo}"' if site.node.style else typo
            text = _replace(self.text, site.node, quoted)
            yield self.mutation("value-typo", text, _lines(site.line), f"{site.path}={typo}")

    def amounts(self) -> Iterator[Mutation]:
        def amount(site: Site) -> bool:
            return bool(AMOUNT.match(str(site.node.value)))

        for site in self.scalars(amount):
            found = AMOUNT.match(str(site.node.value))
            assert found is not None
            number, unit = found["number"], found["unit"]
            too_precise = _too_precise(number, unit)
            wrong = {"ETH": "SOL", "SOL": "ETH"}.get(unit, "ETH")
            variants = {
                "too-many-decimals": too_precise,
                "unit-case": f"{number} {unit.lower() if unit != unit.lower() else unit.upper()}",
                "unit-typo": f"{number} {_typo(unit)}",
                "no-unit": number,
                "unquoted-number": None,
                "wrong-token": f"{number} {wrong}",
            }
            for rule, new in variants.items():
                replacement = number if new is None else f'"{new}"'
                if rule == "wrong-token" and not self._token_matters(site):
                    continue
                text = _replace(self.text, site.node, replacement)
                yield self.mutation(rule, text, _lines(site.line), f"{site.path}={replacement}")

    def _token_matters(self, site: Site) -> bool:
        """A wrong token is an error only where the playbook pins the token (a comparison,
        a send, a cap); a var only printed may hold any amount."""
        if site.path[0] != "vars":
            return True
        return f"vars.{site.name}" in self.text

    def durations(self) -> Iterator[Mutation]:
        def duration(site: Site) -> bool:
            return bool(DURATION.match(str(site.node.value)))

        for site in self.scalars(duration):
            value = str(site.node.value)
            number = re.match(r"\d+", value)
            assert number is not None
            for rule, new in (("duration-no-unit", number[0]), ("duration-unit", value + "x")):
                text = _replace(self.text, site.node, new)
                yield self.mutation(rule, text, _lines(site.line), f"{site.path}={new}")

    def yaml11_traps(self) -> Iterator[Mutation]:
        def any_value(site: Site) -> bool:
            return site.key is not None and site.path[0] != "description"

        for index, site in enumerate(self.scalars(any_value)):
            if "\n" in self.text[site.node.start_mark.index : site.node.end_mark.index]:
                continue  # folded blocks: replaced by a plain scalar they would change layout
            # every value gets the booleans and two of the numbers, in turn, so each
            # spelling lands in many fields without trying all of them everywhere
            numbers = YAML11_TRAPS[2:]
            chosen = [*YAML11_TRAPS[:2], *(numbers[(2 * index + k) % len(numbers)] for k in (0, 1))]
            for trap in chosen:
                text = _replace(self.text, site.node, trap)
                yield self.mutation("yaml11", text, _lines(site.line), f"{site.path}={trap}")

    def type_swaps(self) -> Iterator[Mutation]:
        """A number where text belongs and text where a number belongs."""
        for site in self.scalars(lambda s: s.key is not None):
            value = str(site.node.value)
            if site.node.tag.endswith(":int") or (not site.node.style and value.isdigit()):
                if site.path[0] == "vars":
                    continue  # a var may be text or a number
                new = f'"{value}"' if site.name == "version" else '"many"'
                rule = "text-for-number"
            elif site.name in CLOSED_VALUES | {"cron", "url", "webhook", "to", "transaction"}:
                new, rule = "123", "number-for-text"
            else:
                continue
            text = _replace(self.text, site.node, new)
            yield self.mutation(rule, text, _lines(site.line), f"{site.path}={new}")

    def removed_required(self) -> Iterator[Mutation]:
        required = {
            ("version",),
            ("name",),
            ("daemon",),
            ("steps",),
            ("daemon", "url"),
            ("schedule", "cron"),
            ("schedule", "interval"),
            ("notify", "webhook"),
        }
        for site in self.sites:
            kind_key = len(site.path) == 4 and site.path[0] == "steps"
            wanted = site.path in required or (
                kind_key and site.path[2] == "send" and site.name in {"to", "amount"}
            )
            wanted = wanted or (kind_key and site.path[2] == "wait" and site.name == "transaction")
            if not wanted or site.key is None:
                continue
            text = self._remove_entry(site)
            if text is None:
                continue
            parent = self._parent_node(site)
            lines = _lines(site.line, parent.start_mark.line + 1) | {1}
            yield self.mutation("removed", text, lines, ".".join(map(str, site.path)))

    def _parent_node(self, site: Site) -> Node:
        for candidate in self.sites:
            if candidate.path == site.path[:-1]:
                return candidate.node
        raise AssertionError(site.path)

    def _remove_entry(self, site: Site) -> str | None:
        assert site.key is not None
        parent = self._parent_node(site)
        assert isinstance(parent, MappingNode)
        start = site.key.start_mark.index
        if parent.flow_style:
            end = site.node.end_mark.index
            after = self.text[end:]
            comma = re.match(r"\s*,\s*", after)
            if comma:
                return self.text[:start] + after[comma.end() :]
            before = self.text[:start]
            trimmed = re.sub(r",\s*$", "", before)
            return trimmed + after
        if len(parent.value) == 1:
            return None  # the mapping would be empty: another mutation
        line_start = self.text.rfind("\n", 0, start) + 1
        end = self._block_end(site)
        return self.text[:line_start] + self.text[end:]

    def _block_end(self, site: Site) -> int:
        """The end of an entry, its nested block and trailing comment lines included."""
        end = site.node.end_mark.index
        if isinstance(site.node, ScalarNode):
            newline = self.text.find("\n", end)
            return len(self.text) if newline < 0 else newline + 1
        return end

    def duplicated_keys(self) -> Iterator[Mutation]:
        for site in self.sites:
            if site.key is None or not isinstance(site.node, ScalarNode):
                continue
            start, end = site.key.start_mark.index, site.node.end_mark.index
            entry = self.text[start:end]
            if "\n" in entry:
                continue
            parent = self._parent_node(site)
            if parent.flow_style:
                text = self.text[:end] + ", " + entry + self.text[end:]
                lines = _lines(site.line)
            else:
                line_start = self.text.rfind("\n", 0, start) + 1
                indent = self.text[line_start:start]
                if indent.strip(" -"):
                    continue
                text = self.text[:end] + "\n" + " " * len(indent) + entry + self.text[end:]
                lines = _lines(site.line + 1)
            yield self.mutation("duplicate-key", text, lines, ".".join(map(str, site.path)))

    def step_references(self) -> Iterator[Mutation]:
        """A step id reused; an expression reading a later step or a step that does not exist."""
        ids = self.step_ids
        for (_, first), (index, later) in itertools.pairwise(ids):
            site = next(s for s in self.sites if s.path == ("steps", index, "id"))
            text = _replace(self.text, site.node, first)
            yield self.mutation("reused-id", text, _lines(site.line), f"{later}->{first}")
        for site in self.scalars(lambda s: "steps." in str(s.node.value)):
            if self.text[site.node.start_mark.index : site.node.end_mark.index].count("\n"):
                continue  # folded: the line of the reference inside is not the node's line
            value = str(site.node.value)
            here = int(site.path[1]) if site.path[0] == "steps" else -1
            later = [step_id for index, step_id in ids if index > here]
            used = re.search(r"steps\.(\w+)\.", value)
            assert used is not None
            written = self.text[site.node.start_mark.index : site.node.end_mark.index]
            other_ids = (("forward-ref", later[0] if later else None), ("unknown-ref", "nope"))
            for rule, other in other_ids:
                if other is None:
                    continue
                new = written.replace(f"steps.{used[1]}.", f"steps.{other}.", 1)
                text = _replace(self.text, site.node, new)
                yield self.mutation(rule, text, _lines(site.line), f"{site.path}:{other}")

    def wallet_aliases(self) -> Iterator[Mutation]:
        aliases = {str(site.name) for site in self.sites if site.path[:1] == ("wallets",)}

        def alias(site: Site) -> bool:
            named = site.name in {"wallet", "from", "to"} or site.parent == "allow_to"
            return named and str(site.node.value) in aliases

        for site in self.scalars(alias):
            new = str(site.node.value) + "_x"
            text = _replace(self.text, site.node, new)
            yield self.mutation("unknown-wallet", text, _lines(site.line), f"{site.path}={new}")

    def whitespace(self) -> Iterator[Mutation]:
        lines = self.text.split("\n")
        for number, line in enumerate(lines, 1):
            indent = len(line) - len(line.lstrip(" "))
            if indent >= 2 and line.strip() and not line.lstrip().startswith("#"):
                changed = [*lines]
                changed[number - 1] = "\t" + line[2:]
                yield self.mutation(
                    "tab-indent", "\n".join(changed), _lines(number), f"line {number}"
                )
                break  # one per file: the parser stops at the first

    def swallowed_keys(self) -> Iterator[Mutation]:
        """The key after a ``>``/``|`` block indented like the block's text: it becomes
        text, and the key is gone (a schedule, a webhook)."""
        lines = self.text.split("\n")
        for block in self.sites:
            if not (isinstance(block.node, ScalarNode) and block.node.style in ("|", ">")):
                continue
            content = [
                line for line in lines[block.line : block.node.end_mark.line] if line.strip()
            ]
            indent = min((len(line) - len(line.lstrip(" ")) for line in content), default=0)
            after = block.node.end_mark.line  # 0-based: the line the block ends before
            for number in range(after, len(lines)):
                line = lines[number]
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                is_key = re.match(r"\s*(- )?[A-Za-z_]\w*:", line) is not None
                if is_key and len(line) - len(line.lstrip()) < indent:
                    changed = [*lines]
                    changed[number] = " " * indent + line.lstrip()
                    note = f"{line.strip().split(':')[0]} into {block.path}"
                    text = "\n".join(changed)
                    # the parser may notice a line later, where the swallowed entry goes on
                    lines_near = _lines(number + 1, number + 2)
                    yield self.mutation("swallowed-key", text, lines_near, note)
                break

    def secrets_in_urls(self) -> Iterator[Mutation]:
        urls = [
            "https://hooks.slack.com/services/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",
            "https://ops:hunter2@alerts.example.com/hook",
            "https://alerts.example.com/hook?token=9f8e7d6c5b4a39281706",
            "https://discord.com/api/webhooks/123456789012345678/aBcD-EfGh_IjKlMnOpQr",
        ]
        for site in self.scalars(lambda s: s.name in {"webhook", "url"}):
            for url in urls:
                text = _replace(self.text, site.node, f'"{url}"')
                note = f"{site.path}={url.split('/')[2]}"
                yield self.mutation("secret-url", text, _lines(site.line), note)

    def bad_cron(self) -> Iterator[Mutation]:
        for site in self.scalars(lambda s: s.path == ("schedule", "cron")):
            fields = str(site.node.value).split()
            bad = [
                " ".join(fields[:4]),
                " ".join([*fields, "*"]),
                " ".join(["61", *fields[1:]]),
                " ".join([fields[0], "25", *fields[2:]]),
                " ".join([*fields[:4], "mon-fry"]),
            ]
            for line in bad:
                text = _replace(self.text, site.node, f'"{line}"')
                yield self.mutation("bad-cron", text, _lines(site.line), line)

    def never_true_conditions(self) -> Iterator[Mutation]:
        for site in self.scalars(lambda s: s.name == "if"):
            for condition in ("false", "1 > 2", "null", "not true"):
                text = _replace(self.text, site.node, condition)
                yield self.mutation("never-true-if", text, _lines(site.line), condition)

    def limits_below_sends(self) -> Iterator[Mutation]:
        """Each cap set below the sends whose amounts are written (or come from a written
        var), and max_sends_per_run below the sends without a condition. The problem is
        reported at the send, so its lines count (the cap's too)."""
        for site in self.scalars(lambda s: s.path[:1] == ("limits",) and s.name != "allow_to"):
            found = AMOUNT.match(str(site.node.value))
            lines = _lines(site.line) | self._send_lines()
            if found and any(unit == found["unit"] for unit in self._static_send_units()):
                tiny = '"1 wei"' if found["unit"] == "ETH" else f'"0.000001 {found["unit"]}"'
                text = _replace(self.text, site.node, tiny)
                yield self.mutation("limit-below-send", text, lines, str(site.path))
            elif site.name == "max_sends_per_run" and self.unconditional_sends():
                fewer = str(len(self.unconditional_sends()) - 1)
                text = _replace(self.text, site.node, fewer)
                yield self.mutation("limit-below-send", text, lines, str(site.path))

    def _sends(self) -> list[Site]:
        """The send steps (their whole mapping, ``- id: ...`` to the last setting)."""
        return [
            s
            for s in self.sites
            if len(s.path) == 2
            and s.path[0] == "steps"
            and isinstance(s.node, MappingNode)
            and any(k.value == "send" for k, _ in s.node.value)
        ]

    def _setting(self, step: Site, *keys: str) -> Node | None:
        node: Node | None = step.node
        for key in keys:
            if not isinstance(node, MappingNode):
                return None
            node = next((v for k, v in node.value if k.value == key), None)
        return node

    def conditional_sends(self) -> list[Site]:
        return [s for s in self._sends() if self._setting(s, "if") is not None]

    def unconditional_sends(self) -> list[Site]:
        return [s for s in self._sends() if self._setting(s, "if") is None]

    def _send_lines(self) -> frozenset[int]:
        lines = {
            line
            for s in self._sends()
            for line in range(s.node.start_mark.line + 1, s.node.end_mark.line + 2)
        }
        for s in self._sends():  # a var an amount reads is reported at the var too
            amount = self._setting(s, "send", "amount")
            for name in re.findall(r"vars\.(\w+)", str(getattr(amount, "value", ""))):
                lines |= {v.line for v in self.sites if v.path == ("vars", name)}
        return frozenset(lines)

    def _amount_text(self, step: Site) -> str:
        """The amount a send step moves as written: the var's text for ``${{ vars.x }}``."""
        amount = str(getattr(self._setting(step, "send", "amount"), "value", ""))
        whole = re.fullmatch(r"\$\{\{ vars\.(\w+) \}\}", amount)
        if whole:
            var = next((v for v in self.sites if v.path == ("vars", whole[1])), None)
            return str(getattr(var.node, "value", "")) if var else amount
        return amount

    def _static_send_units(self) -> list[str]:
        found = [AMOUNT.match(self._amount_text(s)) for s in self._sends()]
        return [match["unit"] for match in found if match]

    def computed_send_of(self, unit: str) -> bool:
        """A send whose amount is computed from something in ``unit`` (a var such as
        ``keep: "1 ETH"`` that the expression reads)."""
        for step in self._sends():
            text = self._amount_text(step)
            if AMOUNT.match(text):
                continue
            for name in re.findall(r"vars\.(\w+)", text):
                var = next((v for v in self.sites if v.path == ("vars", name)), None)
                found = AMOUNT.match(str(getattr(var.node, "value", ""))) if var else None
                if found and found["unit"] == unit:
                    return True
        return False

    def recipients_outside_allow_to(self) -> Iterator[Mutation]:
        outsider = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
        for site in self.scalars(lambda s: s.name == "to" and len(s.path) == 4):
            text = _replace(self.text, site.node, f'"{outsider}"')
            yield self.mutation("recipient-not-allowed", text, _lines(site.line), str(site.path))

    def unquoted_addresses(self) -> Iterator[Mutation]:
        def quoted_hex(site: Site) -> bool:
            return str(site.node.value).startswith("0x") and bool(site.node.style)

        for site in self.scalars(quoted_hex):
            text = _replace(self.text, site.node, str(site.node.value))
            yield self.mutation("unquoted-address", text, _lines(site.line), str(site.path))

    def all(self) -> Iterator[Mutation]:
        yield from self.key_typos()
        yield from self.value_typos()
        yield from self.amounts()
        yield from self.durations()
        yield from self.yaml11_traps()
        yield from self.type_swaps()
        yield from self.removed_required()
        yield from self.duplicated_keys()
        yield from self.step_references()
        yield from self.wallet_aliases()
        yield from self.whitespace()
        yield from self.swallowed_keys()
        yield from self.secrets_in_urls()
        yield from self.bad_cron()
        yield from self.never_true_conditions()
        yield from self.limits_below_sends()
        yield from self.recipients_outside_allow_to()
        yield from self.unquoted_addresses()


def invalid_mutations(source: Path) -> list[Mutation]:
    """Every mutation of ``source`` that ``validate`` must refuse, with where it must say so."""
    seen: set[str] = set()
    found = []
    original = source.read_text(encoding="utf-8")
    for mutation in _Generator(source).all():
        if mutation.text == original or mutation.text in seen:
            continue
        seen.add(mutation.text)
        found.append(mutation)
    return found


def same_meaning(source: Path) -> dict[str, bytes]:
    """Encodings of ``source`` that must load to the same playbook: a BOM, CRLF, CR."""
    text = source.read_text(encoding="utf-8")
    return {
        "bom": b"\xef\xbb\xbf" + text.encode(),
        "crlf": text.replace("\n", "\r\n").encode(),
        "bom-crlf": b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
        "cr": text.replace("\n", "\r").encode(),
    }


@dataclass(frozen=True)
class RunMutation:
    """A mutation that only shows when the playbook runs: the environment, ``--var``s, or a
    limit that a computed amount or a conditional send meets. The run must end with
    ``exit_code`` (1: a recorded failure; 2: refused before any run) and send nothing."""

    source: Path
    rule: str
    exit_code: int
    text: str | None = None  # the mutated playbook (None: the shipped one)
    env: tuple[tuple[str, str | None], ...] = ()  # None: unset
    variables: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        what = [f"{k}={v}" for k, v in (*self.env, *self.variables)]
        return f"{self.source.stem}:{self.rule}:{','.join(what)}"


def run_mutations(source: Path) -> list[RunMutation]:
    """Mistakes only a run can see, for one shipped playbook."""
    generator = _Generator(source)
    document = yaml.safe_load(generator.text)
    found: list[RunMutation] = []
    env = document.get("env") or {}
    token_env = re.findall(r"env\.(\w+)", str(document["daemon"].get("token", "")))
    for name in token_env:  # the token's variables missing at run time: refused, exit 2
        unset = ((name, None), ("WAIAAS_SESSION_TOKEN", None))
        found.append(RunMutation(source, "token-env-unset", 2, env=unset))
    wallets = document.get("wallets") or {}
    named_by = {
        alias: match[1]
        for alias, spec in wallets.items()
        if (match := re.fullmatch(r"\$\{\{ env\.(\w+) \}\}", str(spec.get("name", ""))))
    }
    for name in named_by.values():  # a wallet name that the daemon does not have
        found.append(RunMutation(source, "unknown-wallet-env", 1, env=((name, "nope"),)))
    for step in document["steps"]:
        send = step.get("send")
        sender = (send or {}).get("from") or document["daemon"].get("wallet")
        recipient = (send or {}).get("to")
        if sender in named_by and recipient in named_by:  # both names end up one wallet
            same = str(env.get(named_by[recipient]))
            found.append(
                RunMutation(source, "sender-is-recipient", 1, env=((named_by[sender], same),))
            )
    for name, value in (document.get("vars") or {}).items():
        literal = AMOUNT.match(str(value))
        if literal is None or f"vars.{name}" not in generator.text:
            continue
        number, unit = literal["number"], literal["unit"]
        wrong = {"ETH": "SOL"}.get(unit, "ETH")
        for bad in (
            f"{number} {wrong}",
            _too_precise(number, unit),
            number,
            f"{number} {unit}x",
        ):
            found.append(RunMutation(source, "bad-var", 2, variables=((name, bad),)))
    found += _limits_only_a_run_meets(generator)
    return found


def _limits_only_a_run_meets(generator: _Generator) -> list[RunMutation]:
    """Caps below sends whose amount is computed, and max_sends_per_run below sends that
    have a condition: only the engine can refuse them, before posting."""
    text = generator.text
    found = []
    for site in generator.scalars(lambda s: s.path[:1] == ("limits",)):
        literal = AMOUNT.match(str(site.node.value))
        if literal and generator.computed_send_of(literal["unit"]):
            tiny = '"1 wei"' if literal["unit"] == "ETH" else f'"0.000001 {literal["unit"]}"'
            mutated = _replace(text, site.node, tiny)
            found.append(RunMutation(generator.source, f"computed-over-{site.name}", 1, mutated))
        elif site.name == "max_sends_per_run" and generator.conditional_sends():
            fewer = str(int(str(site.node.value)) - 1)
            if int(fewer) >= 0 and not generator.unconditional_sends():
                mutated = _replace(text, site.node, fewer)
                found.append(
                    RunMutation(generator.source, "conditional-sends-over-count", 1, mutated)
                )
    return found


def scenario_files() -> list[Path]:
    """The shipped scenario files (``playbooks/*.test.yaml``), each beside its playbook."""
    return sorted((ROOT / "playbooks").glob("*.test.yaml"))


def scenario_mutations(source: Path) -> list[Mutation]:
    """Mutations of a scenario file that ``validate`` must refuse where they are made: the
    same rules as for playbooks, fewer YAML 1.1 spellings per value (a scenario file loads
    its playbook and fixture too, so each check costs more)."""
    generator = _Generator(source)
    original = generator.text
    kept = {"too-many-decimals", "unit-typo", "no-unit", "unquoted-number"}
    rules = [
        generator.key_typos(),
        generator.duplicated_keys(),
        generator.whitespace(),
        (m for m in generator.amounts() if m.rule in kept),
        generator.durations(),
        (m for m in generator.yaml11_traps() if m.note.endswith(("=yes", "=010", "=1:30"))),
    ]
    seen: set[str] = set()
    found = []
    for mutation in itertools.chain(*rules):
        if mutation.text != original and mutation.text not in seen:
            seen.add(mutation.text)
            found.append(mutation)
    return found[::4]  # every rule, every part of the file, in a quarter of the time
