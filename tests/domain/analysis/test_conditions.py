"""The condition language: what Argo templates write evaluates as expr-lang would, and nothing
outside the documented subset runs (there is no ``eval``; only map keys are read and only the
listed functions are called).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsplane.domain.analysis import (
    ExpressionError,
    ResultValue,
    compile_condition,
    evaluate_result,
)

NAN = math.nan

TEMPLATES = [
    ("result[0] >= 0.95", [0.97], True, "a success rate of 97% passes result[0] >= 0.95"),
    ("result[0] >= 0.95", [0.90], False, "a success rate of 90% fails result[0] >= 0.95"),
    ("result < 0.01", 0.005, True, "a scalar error ratio below 1% passes result < 0.01"),
    ("result < 0.01", 0.01, False, "an error ratio of exactly 1% fails result < 0.01"),
    ("len(result) > 0 && result[0] < 5", [], False, "an empty vector short-circuits &&"),
    ("len(result) > 0 && result[0] < 5", [3.0], True, "a vector of one small value passes"),
    ("isNaN(result)", NAN, True, "isNaN sees NaN"),
    ("!isNaN(result[0]) && result[0] <= 0.2", [0.1], True, "not NaN and low passes"),
    ("result[0] < 0.2", [NAN], False, "NaN compares false, as in Go"),
    ("isInf(result)", math.inf, True, "isInf sees +Inf"),
    ("asInt(result) == 3", "3", True, "asInt parses a string"),
    ("asFloat(result) > 0.5", "0.75", True, "asFloat parses a string"),
    ("asInt(result) == 2", 2.9, True, "asInt truncates a float"),
    ("result == nil", None, True, "no data is nil"),
    ("isNil(result)", None, True, "isNil sees no data"),
    ("default(result, 0) < 1", None, True, "default replaces nil"),
    ("default(result, 0) < 1", 5, False, "default keeps a value"),
    ("(result ?? 0) == 0", None, True, "?? replaces nil"),
    ("all(result, {# < 0.5})", [0.1, 0.2], True, "all with a braced predicate"),
    ("all(result, # < 0.5)", [0.1, 0.9], False, "all with a bare predicate"),
    ("any(result, # > 0.5)", [0.1, 0.9], True, "any finds one"),
    ("none(result, # > 0.5)", [0.1, 0.2], True, "none finds none"),
    ("all(result, # > 0)", [], True, "all of nothing is true"),
    ("any(result, # > 0)", [], False, "any of nothing is false"),
    ("result[-1] == 3", [1, 2, 3], True, "a negative index counts from the end"),
    ("result.ok == true", {"ok": True}, True, "a map field"),
    ('result["p99"] < 0.3', {"p99": 0.25}, True, "a map key"),
    ("result.missing == nil", {"ok": True}, True, "a missing map key is nil"),
    ("result.data.ok", {"data": {"ok": True}}, True, "nested map fields"),
    ("1 == 1.0", None, True, "numbers compare by value across int and float"),
    ('"1" == 1', None, False, "values of different types are unequal, not an error"),
    ("[1, 2] == [1, 2]", None, True, "arrays compare element by element"),
    ("-2 ** 2 == -4", None, True, "** binds tighter than unary minus"),
    ("2 ** 3 ** 2 == 512", None, True, "** is right-associative"),
    ("1 + 2 * 3 == 7", None, True, "* binds tighter than +"),
    ("10 - 4 - 3 == 3", None, True, "- is left-associative"),
    ("7 / 2 == 3.5", None, True, "/ always divides as floats"),
    ("7 % -3 == 1 && -7 % 3 == -1", None, True, "% truncates toward zero as in Go"),
    ("isInf(1 / 0) && isNaN(0 / 0.0)", None, True, "float division by zero as in Go"),
    ("!true == false", None, True, "! binds tighter than =="),
    ("true || false && false", None, True, "&& binds tighter than ||"),
    ("not false and true or false", None, True, "the word operators"),
    ('"b" in ["a", "b"]', None, True, "in over an array literal"),
    ("3 not in result", [1, 2], True, "not in"),
    ('"p99" in result', {"p99": 1}, True, "in over map keys"),
    ("result > 1 ? result < 5 : false", 3, True, "the conditional operator"),
    ('"abc" < "abd"', None, True, "strings order lexicographically"),
    ("1_000 == 1000 && 1e3 == 1000", None, True, "number literal forms"),
    ("abs(result) < 1", -0.5, True, "abs"),
    ("len(result) == 3", "abc", True, "len of a string"),
]


@pytest.mark.parametrize(
    ("condition", "result", "expected"),
    [pytest.param(c, r, e, id=i) for c, r, e, i in TEMPLATES],
)
def test_conditions_evaluate_as_expr_lang(
    condition: str, result: ResultValue, expected: bool
) -> None:
    assert compile_condition(condition).holds(result) is expected


REJECTED = [
    ("result.__class__", 0.5, "cannot read field '__class__' of float64", "no Python attributes"),
    ("result.__class__.__mro__", 0.5, "cannot read field '__class__'", "no attribute chains"),
    ("result.real == 0.5", 0.5, "cannot read field 'real' of float64", "not even harmless ones"),
    ('__import__("os")', 1, "unknown function '__import__'", "no builtins"),
    ('open("/etc/passwd")', 1, "unknown function 'open'", "no I/O"),
    ('eval("1 == 1")', 1, "unknown function 'eval'", "no eval"),
    ("result.keys()", {"a": 1}, "only the functions", "no methods"),
    ("result()", 1, "unknown function 'result'", "the result is not callable"),
    ("(len)(result)", [1], "function 'len' at column 2 must be called", "no function values"),
    ("[x for x in result]", [1], "unknown name 'x'", "no comprehensions"),
    ("lambda: true", 1, "unknown name 'lambda'", "no lambdas"),
    ("result if true else false", 1, "unexpected 'if'", "no Python syntax"),
    ("import os", 1, "unknown name 'import'", "no imports"),
    ("result = 1", 1, "unexpected character '='", "no assignment"),
    ("result; true", 1, "unexpected character ';'", "one expression only"),
    ("os", 1, "unknown name 'os'", "only the variable result"),
    ('result matches "^a"', "a", "the 'matches' operator is not supported", "no regexes"),
    ("1..3", 1, "ranges ('..') is not supported", "no ranges"),
    ("result?.x", {"x": 1}, "optional chaining ('?.') is not supported", "no ?."),
    ("result[0:1]", [1], "slices are not supported", "no slices"),
    ("# > 1", 1, "'#' at column 1 is only allowed in a predicate", "# outside a predicate"),
    ("len(result, 2)", [1], "takes 1 argument(s), not 2", "arity is checked"),
    ("(result", 1, "unexpected end of condition at column 8: expected ')'", "unbalanced"),
    ('"open', 1, "unterminated string", "unterminated string"),
    ("1__0 == 10", 1, "invalid number '1__0'", "malformed numbers"),
]


@pytest.mark.parametrize(
    ("condition", "result", "message"),
    [pytest.param(c, r, m, id=f"rejects {c!r}: {why}") for c, r, m, why in REJECTED],
)
def test_constructs_outside_the_language_are_errors(
    condition: str, result: ResultValue, message: str
) -> None:
    evaluation = evaluate_result(result, success_condition=condition)
    assert evaluation.phase == "Error"
    assert message in evaluation.message
    assert evaluation.message.startswith(f'could not evaluate successCondition "{condition}": ')


RUNTIME_ERRORS = [
    ("result < 1", "x", "invalid operation: string < int", "ordering a string and a number"),
    ("result[3] < 1", [1, 2], "index out of range: 3 (array length is 2)", "an index too far"),
    ("result[0] < 1", 0.5, "cannot index float64", "indexing a scalar"),
    ("result && true", 1, "&& needs a bool, not int", "&& on a number"),
    ("result", 0.5, "expected bool, but got float", "a condition that is not a bool"),
    ("asInt(result) > 0", "1.5", 'asInt() cannot parse "1.5"', "asInt of a decimal string"),
    ("asFloat(result) > 0", "n/a", 'asFloat() cannot parse "n/a"', "asFloat of text"),
    ("result % 0 == 0", 5, "integer divide by zero", "% by zero"),
    ("all(result, # > 0)", 5, "all() needs an array, not int", "all over a scalar"),
    ("any(result, #)", [1], "the predicate of any() needs a bool, not int", "a non-bool predicate"),
]


@pytest.mark.parametrize(
    ("condition", "result", "message"),
    [pytest.param(c, r, m, id=f"{why} is an Error") for c, r, m, why in RUNTIME_ERRORS],
)
def test_operations_on_the_wrong_types_are_errors(
    condition: str, result: ResultValue, message: str
) -> None:
    evaluation = evaluate_result(result, failure_condition=condition)
    assert evaluation.phase == "Error"
    assert message in evaluation.message


@pytest.mark.parametrize("result", [None, []], ids=["nil", "an empty vector"])
def test_no_data_is_named_as_such(result: ResultValue) -> None:
    evaluation = evaluate_result(result, success_condition="result[0] > 0.9")
    assert evaluation.phase == "Error"
    assert evaluation.message == (
        'could not evaluate successCondition "result[0] > 0.9": metric result is nil or '
        "empty: no data returned from the metric provider"
    )


def test_attributes_of_a_result_object_are_never_read() -> None:
    class Secretive:
        secret = True

    with pytest.raises(ExpressionError, match="cannot read field 'secret' of Secretive"):
        compile_condition("result.secret").holds(Secretive())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "condition",
    [
        "(" * 101 + "true" + ")" * 101,
        "1 + " * 200 + "1 > 0",
        "result" + "[0]" * 200 + " == 1",
        "!" * 200 + "true",
    ],
    ids=["deep parentheses", "a long chain of +", "a long chain of indexes", "a run of !"],
)
def test_deep_conditions_are_refused_before_the_stack_runs_out(condition: str) -> None:
    with pytest.raises(ExpressionError, match="nested deeper than 100 levels"):
        compile_condition(condition)


def test_long_conditions_are_refused_and_moderate_ones_accepted() -> None:
    with pytest.raises(ExpressionError, match="longer than 4096 characters"):
        compile_condition("true && " * 600 + "true")
    assert compile_condition("1 + " * 90 + "1 == 91").holds(None)
    assert compile_condition("(" * 99 + "true" + ")" * 99).holds(None)


@given(st.floats(), st.floats(allow_nan=False, allow_infinity=False))
def test_a_threshold_condition_agrees_with_python(value: float, threshold: float) -> None:
    below = compile_condition(f"result[0] < {threshold!r}")
    at_least = compile_condition(f"result[0] >= {threshold!r}")
    assert below.holds([value]) is (value < threshold)
    assert at_least.holds([value]) is (value >= threshold)


ALPHABET = st.sampled_from(
    [*"result[]().,#{}!&|<>=+-*/%^?:'\" 0123456789_eaxnotinlsdfu", "len(", "all(", "__"]
)


@given(st.lists(ALPHABET, max_size=30).map("".join), st.sampled_from([None, 0.5, [1.0], {"a": 1}]))
def test_any_text_is_a_phase_never_a_crash(text: str, result: Any) -> None:
    evaluation = evaluate_result(result, success_condition=text, failure_condition=text)
    assert evaluation.phase in ("Successful", "Failed", "Inconclusive", "Error")
    if evaluation.phase != "Error":
        assert evaluation.message == ""
