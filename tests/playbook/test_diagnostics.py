"""Problem formatting: one place, one format, no secrets."""

from __future__ import annotations

import json

from runner.playbook.diagnostics import (
    Diagnostic,
    PlaybookError,
    did_you_mean,
    format_key_path,
    render_json,
)


def test_text_form_names_file_position_and_key_path() -> None:
    problem = Diagnostic("p.yaml", 3, 7, ("steps", 2, "send", "amount"), "bad")
    assert problem.format() == "p.yaml:3:7: steps[2].send.amount: bad"
    assert Diagnostic("p.yaml", 1, 1, (), "bad").format() == "p.yaml:1:1: bad"


def test_session_tokens_are_masked_in_every_message() -> None:
    problem = Diagnostic("p.yaml", 1, 1, ("x",), "value 'wai_sess_eyJhbGci.payload.sig' is wrong")
    assert "eyJhbGci" not in problem.format()
    assert "wai_sess_…" in problem.format()


def test_error_orders_problems_by_position_and_drops_duplicates() -> None:
    late = Diagnostic("p.yaml", 9, 1, (), "late")
    early = Diagnostic("p.yaml", 2, 5, (), "early")
    error = PlaybookError([late, early, late])
    assert error.diagnostics == [early, late]
    assert str(error) == "p.yaml:2:5: early\np.yaml:9:1: late"


def test_json_form_carries_the_same_fields() -> None:
    problem = Diagnostic("b.yaml", 4, 2, ("vars", "x"), "bad")
    document = json.loads(render_json({"a.yaml": [], "b.yaml": [problem]}))
    assert document == {
        "valid": False,
        "files": [
            {"file": "a.yaml", "valid": True, "errors": []},
            {
                "file": "b.yaml",
                "valid": False,
                "errors": [
                    {"file": "b.yaml", "line": 4, "column": 2, "path": "vars.x", "message": "bad"}
                ],
            },
        ],
    }


def test_suggestions() -> None:
    assert did_you_mean("balence", ["balance", "assets"]) == " (did you mean 'balance'?)"
    assert did_you_mean("usdc", ["USDC"]) == " (did you mean 'USDC'?)"
    assert did_you_mean("zzz", ["balance"]) == ""
    assert format_key_path(("a", 0, 1, "b")) == "a[0][1].b"
