"""The fast YAML emitter writes what PyYAML reads back unchanged."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from opsplane.render.yamltext import dump

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "0x1f",
            "1:30",
            "~",
            "a: b",
            " x",
            "x ",
            "#",
            "- a",
            "line\n",
            "two\nlines",
            "\n",
            "a\n\n",
            "  indented\nblock\n",
            "tab\tx",
        ]
    ),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(documents)
def test_any_document_round_trips_through_pyyaml(doc: Any) -> None:
    assert yaml.safe_load(dump(doc)) == doc


def test_multi_line_promql_is_a_literal_block_like_sloth() -> None:
    text = dump({"expr": "(a)\n/\n(b)\n", "raw": "(a\n/\nb\n)"})
    assert text == "expr: |\n  (a)\n  /\n  (b)\nraw: |-\n  (a\n  /\n  b\n  )\n"


def test_strings_that_yaml_would_retype_are_quoted() -> None:
    text = dump({"objective": "99.9", "flag": "yes", "metric": "slo:sli_error:ratio_rate5m"})
    assert text == 'objective: "99.9"\nflag: "yes"\nmetric: slo:sli_error:ratio_rate5m\n'
