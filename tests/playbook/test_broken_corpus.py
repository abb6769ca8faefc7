# ruff: noqa: E501 - expected messages are compared whole, so they stay on one line
"""The broken-playbook corpus: each case is a small playbook and the exact problems it has.

Unless a case starts with FULL, its YAML is appended to HEAD (6 lines), so its first line is
line 7. Each expectation is the complete text line `waiaas-run validate` prints.
"""

from __future__ import annotations

import pytest

from runner.playbook import PlaybookError, load_playbook_text

HEAD = """\
version: 1
name: t
daemon: {url: "${{ env.URL }}", token: "${{ env.TOKEN }}", wallet: main}
wallets:
  main: {name: main, network: ethereum-sepolia}
  other: {name: other, network: ethereum-sepolia}
"""
FULL = "!full\n"

CASES: list[tuple[str, str, list[str]]] = [
    (
        "yaml_syntax_unclosed_flow",
        "steps:\n  - balance: {wallet: main\n",
        [
            "p.yaml:9:1: invalid YAML: expected ',' or '}', but got '<stream end>' (while parsing a flow mapping at line 8)"
        ],
    ),
    (
        "yaml_syntax_bad_indent",
        "steps:\n  - log: hi\n   level: info\n",
        [
            "p.yaml:9:4: invalid YAML: expected <block end>, but found '<block mapping start>' (while parsing a block collection at line 8)"
        ],
    ),
    (
        "yaml_tab_indent",
        "steps:\n\t- log: hi\n",
        ["p.yaml:8:1: invalid YAML: found character '\\t' that cannot start any token"],
    ),
    (
        "duplicate_top_level_key",
        "steps:\n  - log: hi\nsteps:\n  - log: again\n",
        ["p.yaml:9:1: steps: duplicate key 'steps' (first defined at line 7, column 1)"],
    ),
    (
        "duplicate_nested_key",
        'steps:\n  - send: {to: other, amount: "1 ETH", to: main}\n',
        ["p.yaml:8:40: steps[0].send.to: duplicate key 'to' (first defined at line 8, column 12)"],
    ),
    (
        "custom_tag",
        "steps:\n  - log: !!python/object/apply:os.system [ls]\n",
        [
            "p.yaml:8:10: tag '!!python/object/apply:os.system' is not allowed: playbooks use plain YAML only"
        ],
    ),
    (
        "recursive_alias",
        "vars: &v {x: *v}\nsteps:\n  - log: hi\n",
        ["p.yaml:7:7: recursive alias: a node cannot contain itself"],
    ),
    (
        "multiple_documents",
        "steps:\n  - log: hi\n---\nname: other\n",
        [
            "p.yaml:9:1: invalid YAML: but found another document (expected a single document in the stream at line 1)"
        ],
    ),
    (
        "unknown_top_level_key",
        "step:\n  - log: hi\n",
        [
            "p.yaml:1:1: steps: missing required key 'steps'",
            "p.yaml:7:1: step: unknown key 'step' (did you mean 'steps'?)",
        ],
    ),
    (
        "unknown_step_key",
        "steps:\n  - log: hi\n    contine_on_error: true\n",
        [
            "p.yaml:9:5: steps[0].contine_on_error: unknown key 'contine_on_error' (did you mean 'continue_on_error'?)"
        ],
    ),
    (
        "unknown_settings_key",
        "steps:\n  - balance: {walet: main}\n",
        ["p.yaml:8:15: steps[0].balance.walet: unknown key 'walet' (did you mean 'wallet'?)"],
    ),
    (
        "unknown_step_kind",
        "steps:\n  - balence: {wallet: main}\n",
        ["p.yaml:8:5: steps[0]: unknown step kind 'balence' (did you mean 'balance'?)"],
    ),
    (
        "two_step_kinds",
        "steps:\n  - balance: {}\n    log: hi\n",
        ["p.yaml:9:5: steps[0].log: a step has exactly one kind; 'log' is a second one"],
    ),
    (
        "missing_required_key",
        "steps:\n  - send: {to: other}\n",
        ["p.yaml:8:5: steps[0].send.amount: missing required key 'amount'"],
    ),
    (
        "float_amount",
        "steps:\n  - send: {to: other, amount: 0.1}\n",
        [
            'p.yaml:8:31: steps[0].send.amount: amount 0.1 is a YAML number; amounts need a unit and quotes, e.g. "0.1 ETH"'
        ],
    ),
    (
        "int_amount",
        "steps:\n  - send: {to: other, amount: 5}\n",
        [
            'p.yaml:8:31: steps[0].send.amount: amount 5 has no unit: write "5 ETH", "5 wei" or {raw: 5, token: ETH}'
        ],
    ),
    (
        "over_precise_amount",
        'steps:\n  - send: {to: other, amount: "0.1000000000000000001 ETH"}\n',
        [
            "p.yaml:8:31: steps[0].send.amount: '0.1000000000000000001 ETH' has 19 decimal places but ETH allows only 18; amounts are never rounded"
        ],
    ),
    (
        "fractional_wei",
        'steps:\n  - send: {to: other, amount: "1.5 wei"}\n',
        [
            "p.yaml:8:31: steps[0].send.amount: '1.5 wei' has 1 decimal place but wei allows only 0; amounts are never rounded"
        ],
    ),
    (
        "unknown_unit",
        'steps:\n  - send: {to: other, amount: "1 DOGE"}\n',
        [
            "p.yaml:8:31: steps[0].send.amount: unknown unit 'DOGE'; known units: ETH, HYPE, POL, SOL, XRP, drop, drops, gwei, lamport, lamports, wei (declare other tokens under tokens:)"
        ],
    ),
    (
        "unit_wrong_case",
        'steps:\n  - send: {to: other, amount: "1 eth"}\n',
        [
            "p.yaml:8:31: steps[0].send.amount: unknown unit 'eth' (did you mean 'ETH'?); known units: ETH, HYPE, POL, SOL, XRP, drop, drops, gwei, lamport, lamports, wei (declare other tokens under tokens:)"
        ],
    ),
    (
        "negative_amount",
        'steps:\n  - send: {to: other, amount: "-1 ETH"}\n',
        [
            'p.yaml:8:31: steps[0].send.amount: expected an amount like "0.05 ETH" or "1500 wei": a number, a space, a unit (negative amounts are not allowed)'
        ],
    ),
    (
        "raw_amount_missing_token",
        "steps:\n  - send: {to: other, amount: {raw: 1500}}\n",
        [
            "p.yaml:8:31: steps[0].send.amount: a smallest-unit amount is written {raw: <whole number>, token: <symbol>}"
        ],
    ),
    (
        "wrong_native_coin",
        'steps:\n  - send: {to: other, amount: "2 SOL"}\n',
        ["p.yaml:8:31: steps[0].send.amount: SOL is not the native coin of ethereum-sepolia (ETH)"],
    ),
    (
        "token_redefines_native",
        "tokens:\n  ETH: {network: ethereum-sepolia, decimals: 18, address: x}\nsteps:\n  - log: hi\n",
        ["p.yaml:8:3: tokens.ETH: ETH is a built-in unit; tokens: cannot redefine it"],
    ),
    (
        "unknown_step_reference",
        'steps:\n  - send: {to: other, amount: "${{ steps.x.amount }}"}\n',
        ["p.yaml:8:36: steps[0].send.amount: unknown step 'x'"],
    ),
    (
        "forward_reference",
        'steps:\n  - if: steps.later.amount < amount("1 ETH")\n    log: hi\n  - id: later\n    balance: {}\n',
        ["p.yaml:8:9: steps[0].if: step 'later' is used before it runs (it is steps[1])"],
    ),
    (
        "self_reference",
        "steps:\n  - id: b\n    if: steps.b.skipped\n    balance: {}\n",
        ["p.yaml:9:9: steps[0].if: step 'b' cannot use its own outputs"],
    ),
    (
        "unknown_output_field",
        'steps:\n  - id: b\n    balance: {}\n  - if: steps.b.amont > amount("1 ETH")\n    log: hi\n',
        ["p.yaml:10:9: steps[1].if: step 'b' has no output 'amont' (did you mean 'amount'?)"],
    ),
    (
        "unknown_function",
        "steps:\n  - id: b\n    balance: {}\n  - if: maximum(1, 2) > 1\n    log: hi\n",
        ["p.yaml:10:9: steps[1].if: unknown function 'maximum' (did you mean 'max'?)"],
    ),
    (
        "expression_syntax_error",
        "steps:\n  - id: b\n    balance: {}\n  - if: steps.b.amount <\n    log: hi\n",
        ["p.yaml:10:25: steps[1].if: expression syntax error: unexpected end"],
    ),
    (
        "template_syntax_error",
        'steps:\n  - log: "total ${{ 1 + }} units"\n',
        ["p.yaml:8:24: steps[0].log: expression syntax error: unexpected end"],
    ),
    (
        "unterminated_template",
        'steps:\n  - log: "total ${{ 1 + 2"\n',
        ["p.yaml:8:17: steps[0].log: unterminated '${{': close it with '}}'"],
    ),
    (
        "unknown_variable",
        'vars: {floor: "1 ETH"}\nsteps:\n  - log: "${{ vars.flor }}"\n',
        ["p.yaml:9:15: steps[0].log: unknown variable vars.flor (did you mean 'floor'?)"],
    ),
    (
        "undeclared_env",
        'steps:\n  - log: "${{ env.HOME }}"\n',
        ["p.yaml:8:15: steps[0].log: env.HOME is not declared: list it under env:"],
    ),
    (
        "dunder_in_template",
        'steps:\n  - log: "${{ vars.x.__class__ }}"\n',
        ["p.yaml:8:15: steps[0].log: names starting with '_' are not allowed: '__class__'"],
    ),
    (
        "lambda_in_condition",
        'steps:\n  - if: "(lambda: true)()"\n    log: hi\n',
        ["p.yaml:8:11: steps[0].if: lambda not allowed in expressions"],
    ),
    (
        "mixed_tokens_compare",
        'tokens:\n  USDC: {network: ethereum-sepolia, decimals: 6, address: "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238"}\nsteps:\n  - id: b\n    balance: {}\n  - if: steps.b.amount > amount("5 USDC")\n    log: hi\n',
        ["p.yaml:12:9: steps[1].if: cannot compare an amount of ETH and an amount of USDC"],
    ),
    (
        "amount_vs_bare_number",
        "steps:\n  - id: b\n    balance: {}\n  - if: steps.b.amount < 5\n    log: hi\n",
        [
            'p.yaml:10:9: steps[1].if: cannot compare an amount (ETH) with a number: write the number with its unit, e.g. amount("0.05 ETH"), or compare units(x) with a number'
        ],
    ),
    (
        "condition_not_bool",
        "steps:\n  - id: b\n    balance: {}\n  - if: steps.b.raw + 1\n    log: hi\n",
        ["p.yaml:10:9: steps[1].if: a condition needs true/false, not a number"],
    ),
    (
        "amount_field_gets_number",
        'steps:\n  - send: {to: other, amount: "${{ 5 }}"}\n',
        [
            'p.yaml:8:36: steps[0].send.amount: expected an amount, the expression gives a number: use amount(x, "ETH")'
        ],
    ),
    (
        "literal_token_daemon",
        FULL
        + 'version: 1\nname: t\ndaemon: {url: "http://127.0.0.1:3100", token: wai_sess_eyJhbGciOi.abc}\nsteps:\n  - log: hi\n',
        [
            "p.yaml:3:47: daemon.token: literal session token in the playbook: reference it instead, e.g. token: ${{ env.WAIAAS_SESSION_TOKEN }} or token_file:"
        ],
    ),
    (
        "literal_token_in_vars",
        'vars:\n  session: "Bearer wai_sess_eyJhbGciOi.abc"\nsteps:\n  - log: hi\n',
        [
            "p.yaml:8:12: vars.session: literal session token in the playbook: reference it instead, e.g. token: ${{ env.WAIAAS_SESSION_TOKEN }} or token_file:"
        ],
    ),
    (
        "token_read_outside_daemon",
        'steps:\n  - log: "token ${{ env.TOKEN }}"\n',
        [
            "p.yaml:8:21: steps[0].log: env.TOKEN holds the session token; it can only be used in daemon.token, so it never reaches a log, a memo or a message"
        ],
    ),
    (
        "token_not_a_reference",
        FULL
        + 'version: 1\nname: t\ndaemon: {url: "http://127.0.0.1:3100", token: my-token}\nsteps:\n  - log: hi\n',
        [
            "p.yaml:3:47: daemon.token: token must be a reference such as ${{ env.WAIAAS_SESSION_TOKEN }}, or use token_file:"
        ],
    ),
    (
        "bad_cron",
        'schedule: {cron: "61 * * * *"}\nsteps:\n  - log: hi\n',
        [
            "p.yaml:7:18: schedule.cron: invalid cron line '61 * * * *': Error validating expression '61': the last value (61) is higher than the maximum value (59)"
        ],
    ),
    (
        "zero_step_timeout",
        "steps:\n  - log: hi\n    timeout: 0s\n",
        [
            "p.yaml:9:14: steps[0].timeout: 0s is too short: at least 0.001s (a deadline of no "
            "time at all can only fail)"
        ],
    ),
    (
        "zero_poll_interval",
        'steps:\n  - wait: { transaction: "t", interval: 0s }\n',
        [
            "p.yaml:8:41: steps[0].wait.interval: 0s is too short: at least 0.001s (polls with "
            "no pause would spend the daemon's rate limit)"
        ],
    ),
    (
        "cron_wrong_field_count",
        'schedule: {cron: "* * *"}\nsteps:\n  - log: hi\n',
        [
            "p.yaml:7:18: schedule.cron: invalid cron line '* * *': a cron line has 5 fields "
            "(minute hour day-of-month month day-of-week), this one has 3"
        ],
    ),
    (
        "bad_time_zone",
        'schedule: {cron: "0 3 * * *", timezone: Europe/Berln}\nsteps:\n  - log: hi\n',
        [
            "p.yaml:7:41: schedule.timezone: unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"
        ],
    ),
    (
        "cron_and_interval",
        'schedule: {cron: "0 3 * * *", interval: 15m}\nsteps:\n  - log: hi\n',
        ["p.yaml:7:11: schedule: schedule needs exactly one of cron: and interval:"],
    ),
    (
        "bad_missed_policy",
        "schedule: {interval: 15m, missed: catch_up}\nsteps:\n  - log: hi\n",
        ["p.yaml:7:35: schedule.missed: expected 'skip' or 'run_once', got 'catch_up'"],
    ),
    (
        "duration_without_unit",
        "steps:\n  - log: hi\n    timeout: 30\n",
        ['p.yaml:9:14: steps[0].timeout: duration 30 has no unit: write e.g. "30s" or "30m"'],
    ),
    (
        "sexagesimal_duration",
        "steps:\n  - log: hi\n    timeout: 1:30\n",
        [
            'p.yaml:9:14: steps[0].timeout: 1:30 is base-60 notation (YAML 1.1 reads it as 90); write the decimal value, or quote it if it is text: "1:30"'
        ],
    ),
    (
        "yaml11_bool_in_string_field",
        "steps:\n  - log: hi\n    level: no\n",
        [
            "p.yaml:9:12: steps[0].level: expected 'info', 'warning' or 'error', got a boolean (YAML reads unquoted no as a boolean; quote it: \"no\")"
        ],
    ),
    (
        "yaml11_bool_in_vars",
        "vars: {answer: no}\nsteps:\n  - log: hi\n",
        [
            'p.yaml:7:16: vars.answer: YAML reads unquoted no as true or false; write true/false, or quote it: "no"'
        ],
    ),
    (
        "bool_in_text_field",
        "steps:\n  - log: hi\n    name: yes\n",
        [
            'p.yaml:9:11: steps[0].name: expected text, got a boolean (YAML reads unquoted yes as a boolean; quote it: "yes")'
        ],
    ),
    (
        "version_as_string",
        FULL
        + 'version: "1"\nname: t\ndaemon: {url: "${{ env.URL }}", token: "${{ env.TOKEN }}"}\nsteps:\n  - log: hi\n',
        ["p.yaml:1:10: version: expected 1 (the whole number), got '1'"],
    ),
    (
        "unknown_network",
        FULL
        + 'version: 1\nname: t\ndaemon: {url: "${{ env.URL }}", token: "${{ env.TOKEN }}", network: ethereum-sepholia}\nsteps:\n  - log: hi\n',
        [
            "p.yaml:3:69: daemon.network: unknown network 'ethereum-sepholia' (did you mean 'ethereum-sepolia'?)"
        ],
    ),
    (
        "unknown_wallet",
        "steps:\n  - balance: {wallet: mian}\n",
        [
            "p.yaml:8:23: steps[0].balance.wallet: unknown wallet 'mian' (did you mean 'main'?); declare it under wallets:"
        ],
    ),
    (
        "recipient_neither_alias_nor_address",
        'steps:\n  - send: {to: nobody, amount: "1 ETH"}\n',
        ["p.yaml:8:16: steps[0].send.to: 'nobody' is neither a wallet alias nor an address"],
    ),
    (
        "duplicate_step_id",
        "steps:\n  - id: b\n    balance: {}\n  - id: b\n    balance: {}\n",
        ["p.yaml:10:9: steps[1].id: duplicate step id 'b' (also steps[0])"],
    ),
    (
        "bad_step_id",
        "steps:\n  - id: my-step\n    balance: {}\n",
        [
            "p.yaml:8:9: steps[0].id: invalid value 'my-step': use letters, digits and _, starting with a letter"
        ],
    ),
    (
        "limit_max_per_send",
        'limits: {max_per_send: "0.5 ETH"}\nsteps:\n  - send: {to: other, amount: "0.8 ETH"}\n',
        [
            "p.yaml:9:31: steps[0].send.amount: the amount is 0.8 ETH, over limits.max_per_send (0.5 ETH)"
        ],
    ),
    (
        "limit_max_per_send_via_var",
        'vars: {top_up: "2 ETH"}\nlimits: {max_per_send: "1 ETH"}\nsteps:\n  - send: {to: other, amount: "${{ vars.top_up }}"}\n',
        [
            "p.yaml:7:16: vars.top_up: read by steps[0].send.amount: the amount is 2 ETH, over limits.max_per_send (1 ETH)",
            "p.yaml:10:31: steps[0].send.amount: the amount is 2 ETH, over limits.max_per_send (1 ETH)",
        ],
    ),
    (
        "limit_max_per_run",
        'limits: {max_per_run: "0.5 ETH"}\nsteps:\n  - send: {to: other, amount: "0.3 ETH"}\n  - send: {from: other, to: main, amount: "0.3 ETH"}\n',
        [
            "p.yaml:10:43: steps[1].send.amount: sends in this run add up to 0.6 ETH, over limits.max_per_run (0.5 ETH)"
        ],
    ),
    (
        "limit_max_per_day",
        'limits: {max_per_day: ["1 ETH"]}\nsteps:\n  - send: {to: other, amount: "1.5 ETH"}\n',
        [
            "p.yaml:9:31: steps[0].send.amount: the amount is 1.5 ETH, over limits.max_per_day (1 ETH)"
        ],
    ),
    (
        "limit_allow_to",
        'limits: {allow_to: [main]}\nsteps:\n  - send: {to: other, amount: "0.1 ETH"}\n',
        ["p.yaml:9:16: steps[0].send.to: recipient 'other' is not in limits.allow_to"],
    ),
    (
        "limit_as_expression",
        'limits: {max_per_send: "${{ vars.cap }}"}\nsteps:\n  - log: hi\n',
        ["p.yaml:7:24: limits.max_per_send: limits must be written as amounts, not expressions"],
    ),
    (
        "notify_step_without_webhook",
        "steps:\n  - notify: {message: hi}\n",
        ["p.yaml:8:13: steps[0].notify: no webhook: set webhook: here or a top-level notify:"],
    ),
    (
        "unknown_balance_token",
        "steps:\n  - balance: {token: DAI}\n",
        ["p.yaml:8:22: steps[0].balance.token: unknown token 'DAI'; declare it under tokens:"],
    ),
    (
        "var_reads_steps",
        'vars: {a: "${{ steps.b.amount }}"}\nsteps:\n  - log: hi\n',
        ["p.yaml:7:16: vars.a: 'steps' is not available in vars: (it can use env, run)"],
    ),
    (
        "var_template_syntax_error",
        'vars: {a: "x ${{ env. }}"}\nsteps:\n  - log: hi\n',
        ["p.yaml:7:22: vars.a: expression syntax error: unexpected end"],
    ),
    (
        "retry_attempts_out_of_range",
        "steps:\n  - balance: {}\n    retry: {attempts: 20}\n",
        ["p.yaml:9:23: steps[0].retry.attempts: input should be less than or equal to 10"],
    ),
    (
        "static_overflow",
        'steps:\n  - log: "${{ (10 ** 100) ** 100 }}"\n',
        ["p.yaml:8:15: steps[0].log: number too large"],
    ),
    (
        "var_infinity",
        "vars: {x: .inf}\nsteps:\n  - log: hi\n",
        [
            'p.yaml:7:11: vars.x: .inf is not a number a playbook can use; write a decimal number, or quote it if it is text: ".inf"'
        ],
    ),
    (
        "huge_integer",
        "vars: {x: " + "9" * 5000 + "}\nsteps:\n  - log: hi\n",
        ["p.yaml:7:11: vars.x: number longer than 100 characters"],
    ),
    (
        "bad_var_name",
        "vars: {my-var: 1}\nsteps:\n  - log: hi\n",
        [
            "p.yaml:7:8: vars.my-var: invalid name 'my-var': use letters, digits and _, starting with a letter"
        ],
    ),
    (
        "bad_env_name",
        "env: {lower: ~}\nsteps:\n  - log: hi\n",
        ["p.yaml:7:7: env.lower: invalid name 'lower': use upper-case letters, digits and _"],
    ),
    (
        "recipient_expression_gives_amount",
        'vars: {floor: "1 ETH"}\nsteps:\n  - send: {to: "${{ vars.floor }}", amount: "1 ETH"}\n',
        [
            "p.yaml:7:15: vars.floor: read by steps[0].send.to: expected text, the expression gives an amount (ETH)",
            "p.yaml:9:21: steps[0].send.to: expected text, the expression gives an amount (ETH)",
        ],
    ),
    (
        "memo_too_long",
        'steps:\n  - send: {to: other, amount: "1 ETH", memo: ' + "m" * 300 + "}\n",
        ["p.yaml:8:46: steps[0].send.memo: memo is 300 characters; at most 256"],
    ),
    (
        "no_steps",
        "steps: []\n",
        ["p.yaml:7:8: steps: a playbook needs at least one step"],
    ),
    (
        "wallet_needs_identity",
        FULL
        + 'version: 1\nname: t\ndaemon: {url: "${{ env.URL }}", token: "${{ env.TOKEN }}"}\nwallets:\n  main: {network: ethereum-sepolia}\nsteps:\n  - log: hi\n',
        ["p.yaml:5:9: wallets.main: a wallet needs exactly one of id: and name:"],
    ),
    (
        "top_level_not_mapping",
        FULL + "- version: 1\n",
        ["p.yaml:1:1: a playbook is a mapping (version:, name:, steps:, ...)"],
    ),
    (
        "empty_document",
        FULL + "# nothing here\n",
        ["p.yaml:1:1: empty document: expected a playbook"],
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [(b, e) for _, b, e in CASES], ids=[n for n, _, _ in CASES]
)
def test_broken_playbook_reports_exact_problems(body: str, expected: list[str]) -> None:
    text = body.removeprefix(FULL) if body.startswith(FULL) else HEAD + body
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(text, "p.yaml")
    assert [d.format() for d in caught.value.diagnostics] == expected


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


# found by the recipe mutations (tests/playbook/test_recipe_mutations.py): each at the line
# where the mistake is, not at the step's first line or at a later use
LOCATED_AT_THE_MISTAKE = [
    (  # a var written without its unit: said at the var too, not only where it is read
        'vars: {top_up: 0.2}\nsteps:\n  - send: {to: other, amount: "${{ vars.top_up }}"}\n',
        [
            'p.yaml:7:16: vars.top_up: read by steps[0].send.amount: expected an amount, the expression gives a number: use amount(x, "ETH"); vars.top_up is the number 0.2: an amount has a unit, e.g. "0.2 ETH"',
            'p.yaml:9:36: steps[0].send.amount: expected an amount, the expression gives a number: use amount(x, "ETH")',
        ],
    ),
    (  # a unit typo in a var made it text
        'vars: {floor: "1 ETHH"}\nsteps:\n  - id: b\n    balance: {}\n  - if: steps.b.amount < vars.floor\n    log: low\n',
        [
            "p.yaml:7:15: vars.floor: read by steps[1].if: cannot compare an amount (ETH) and a string; vars.floor is text, not an amount: unknown unit 'ETHH' (did you mean 'ETH'?); known units: ETH, HYPE, POL, SOL, XRP, drop, drops, gwei, lamport, lamports, wei (declare other tokens under tokens:)",
            "p.yaml:11:9: steps[1].if: cannot compare an amount (ETH) and a string",
        ],
    ),
    (  # the wrong token in a var: at the var and at the comparison
        'vars: {floor: "1 SOL"}\nsteps:\n  - id: b\n    balance: {}\n  - if: steps.b.amount < vars.floor\n    log: low\n',
        [
            "p.yaml:7:15: vars.floor: read by steps[1].if: cannot compare an amount of ETH and an amount of SOL",
            "p.yaml:11:9: steps[1].if: cannot compare an amount of ETH and an amount of SOL",
        ],
    ),
    (
        "steps:\n  - id: b\n    name: read\n    balnce: {wallet: main}\n",
        ["p.yaml:10:5: steps[0]: unknown step kind 'balnce' (did you mean 'balance'?)"],
    ),
    (
        "steps:\n  - id: b\n    frobnicate: {wallet: main}\n",
        [
            "p.yaml:9:5: steps[0]: unknown step kind 'frobnicate'; a step needs one kind key: "
            "balance, assets, send, wait, pending, transactions, assert, notify, log"
        ],
    ),
]


@pytest.mark.parametrize(("body", "expected"), LOCATED_AT_THE_MISTAKE)
def test_located_at_the_mistake(body: str, expected: list[str]) -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(HEAD + body, "p.yaml")
    assert [d.format() for d in caught.value.diagnostics] == expected


def test_a_key_indented_into_a_text_block_is_an_error() -> None:
    """Found by the recipe mutations: keep-agent-funded.yaml with `schedule:` indented
    under `description: >-` validated, without its schedule (serve would skip it)."""
    text = (
        "description: >-\n  Tops up.\n  schedule: {interval: 10m}\n"
        + HEAD.removeprefix("")
        + "steps:\n  - log: hi\n"
    )
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(text, "p.yaml")
    assert [d.format() for d in caught.value.diagnostics] == [
        "p.yaml:3:3: description: this line is text inside the block above (description: with "
        "| or >), not the key 'schedule': its indentation put it there; indent it like the "
        "keys of its mapping"
    ]
    # text that merely starts with a word and a colon, or names a key that is written, is text
    fine = (
        "description: |\n  Note: tops up.\n  steps: two of them\n" + HEAD + "steps:\n  - log: hi\n"
    )
    load_playbook_text(fine, "p.yaml")
