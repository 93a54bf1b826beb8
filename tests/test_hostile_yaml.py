"""Issue 6, category 1: YAML that costs more than it says, and the YAML reuse people expect.

Every hostile file is refused with one located problem, in bounded time (a generous limit on the
test side: these run in milliseconds), and never with a traceback or a RecursionError.
"""

from __future__ import annotations

import json
import time

import pytest
from conftest import MINIMAL_JOURNEY, line_of

from hundred.journeys.model import json_schema
from hundred.journeys.source import MAX_BYTES, MAX_DEPTH, MAX_VALUES, YamlProblem, load_yaml
from hundred.validation.validate import check_file

FILE = "journeys/x.yaml"


def only_problem(make_journey, text: str | bytes, seconds: float = 5.0):
    path = make_journey("")
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    checked = check_file(path)
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert checked.journey is None
    assert len(checked.problems) == 1, "\n".join(map(str, checked.problems))
    problem = checked.problems[0]
    assert problem.file == FILE and problem.hint
    return problem


# --------------------------------------------------------------------------------------------
# Expansion, depth, size
# --------------------------------------------------------------------------------------------

BILLION_LAUGHS = "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"x-{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=False)
)


def test_billion_laughs_is_refused_fast_naming_the_alias_and_its_line(make_journey):
    problem = only_problem(make_journey, BILLION_LAUGHS, seconds=1.0)
    assert "alias '*" in problem.message and f"more than {MAX_VALUES} values" in problem.message
    alias = problem.message.split("'*")[1].split("'")[0]
    assert problem.line == line_of(BILLION_LAUGHS, f"&{chr(ord(alias) + 1)} [")
    assert "alias" in problem.hint


def test_laughs_through_merge_keys_are_refused(make_journey):
    text = "x-a: &a {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, k9: 1}\n"
    text += "".join(f"x-{b}: &{b} [{', '.join(['*' + a] * 10)}]\n" for a, b in zip("abcde", "bcdef", strict=False))
    problem = only_problem(make_journey, text, seconds=1.0)
    assert "alias '*" in problem.message and "expands" in problem.message


def test_billion_laughs_in_a_touch_value_stops_before_building_anything():
    text = BILLION_LAUGHS + "journey: x\nname: *i\n"
    start = time.perf_counter()
    with pytest.raises(YamlProblem) as info:
        load_yaml(text)
    assert time.perf_counter() - start < 1.0
    assert "alias" in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "journey: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "journey: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n",
        "".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "v\n",
        "- " * 3_000 + "x\n",
    ],
    ids=["flow-lists", "flow-mappings", "block-mappings", "block-lists"],
)
def test_deep_nesting_is_refused_without_recursion_error(make_journey, text):
    problem = only_problem(make_journey, text)
    assert f"nested more than {MAX_DEPTH} levels deep" in problem.message
    assert problem.line >= 1 and problem.col > 1


def test_nesting_through_aliases_counts_too(make_journey):
    text = "x-a: &a " + "[" * 20 + "]" * 20 + "\nx-b: &b " + "[" * 15 + "*a" + "]" * 15 + "\n"
    problem = only_problem(make_journey, text)
    assert "alias '*a'" in problem.message and "levels deep" in problem.message
    assert problem.line == 2


def test_a_file_over_the_size_limit_is_refused_before_parsing(make_journey):
    text = MINIMAL_JOURNEY + "description: '" + "a" * (2 * MAX_BYTES) + "'\n"
    problem = only_problem(make_journey, text, seconds=2.0)
    assert "larger than 1 MB" in problem.message and (problem.line, problem.col) == (1, 1)


def test_a_file_with_too_many_values_is_refused(make_journey):
    text = "journey: x\nname: X\ncalendar:\n  closed: [" + ", ".join(["2026-12-24"] * (MAX_VALUES + 10)) + "]\n"
    problem = only_problem(make_journey, text)
    assert f"more than {MAX_VALUES} values" in problem.message and problem.line == 4


# --------------------------------------------------------------------------------------------
# Bytes and characters
# --------------------------------------------------------------------------------------------


def test_undecodable_byte_is_reported_at_its_own_line_and_column(make_journey):
    text = MINIMAL_JOURNEY.replace("name: X", "name: Caf\xe9 au lait").encode("latin-1")
    problem = only_problem(make_journey, text)
    assert (problem.line, problem.col) == (2, 10)
    assert "0xe9 is not UTF-8" in problem.message and "UTF-8" in problem.hint


def test_undecodable_byte_after_multibyte_text_has_the_right_column(make_journey):
    text = "journey: x\nname: ééé \xff\n".encode().replace("\xff".encode(), b"\xff")
    problem = only_problem(make_journey, text)
    assert (problem.line, problem.col) == (2, 11)


def test_utf16_file_is_named_as_such(make_journey):
    problem = only_problem(make_journey, MINIMAL_JOURNEY.encode("utf-16"))
    assert "UTF-16" in problem.message and (problem.line, problem.col) == (1, 1)


def test_utf8_bom_is_fine(make_journey):
    path = make_journey("")
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL_JOURNEY.encode())
    assert check_file(path).ok


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b"])
def test_control_character_is_reported_at_its_place(make_journey, char):
    text = MINIMAL_JOURNEY.replace("name: X", f"name: Xé{char}")
    problem = only_problem(make_journey, text)
    assert (problem.line, problem.col) == (2, 9)
    assert "control character" in problem.message


# --------------------------------------------------------------------------------------------
# Structure that YAML allows and a journey does not
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail, tag",
    [
        ("description: !!python/object/apply:os.system ['echo hi']\n", "!!python/object/apply:os.system"),
        ("description: !!python/name:os.system\n", "!!python/name:os.system"),
        ("description: !!binary aGVsbG8=\n", "!!binary"),
        ("description: !vault secret\n", "!vault"),
        ("description: !!set {a, b}\n", "!!set"),
    ],
)
def test_tags_other_than_plain_ones_are_refused(make_journey, tail, tag):
    text = MINIMAL_JOURNEY + tail
    problem = only_problem(make_journey, text)
    assert f"the tag '{tag}' is not allowed" in problem.message
    assert (problem.line, problem.col) == (10, 14)


def test_plain_str_tag_is_fine(make_journey):
    assert check_file(make_journey(MINIMAL_JOURNEY + "description: !!str 10:30\n")).ok


def test_several_documents_are_a_clear_error(make_journey):
    text = MINIMAL_JOURNEY + "---\n" + MINIMAL_JOURNEY
    problem = only_problem(make_journey, text)
    assert "more than one YAML document" in problem.message and problem.line == 10
    assert "---" in problem.hint


@pytest.mark.parametrize(
    "tail, words",
    [
        ("? [a, b]\n: 1\n", "a key must be a plain word"),
        ("{a: 1}: 2\n", "a key must be a plain word"),
        ("x-a: &a [*a]\n", "alias '*a' has no anchor"),
        ("description: *nowhere\n", "alias '*nowhere' has no anchor"),
    ],
)
def test_odd_keys_and_aliases_are_refused(make_journey, tail, words):
    problem = only_problem(make_journey, MINIMAL_JOURNEY + tail)
    assert words in problem.message and problem.line == 10


def test_non_string_scalar_keys_are_words_and_reported_as_unknown(make_journey):
    checked = check_file(make_journey(MINIMAL_JOURNEY + "1: one\ntrue: yes\n"))
    messages = [p.message for p in checked.problems]
    assert "unknown key '1' in the journey" in messages and "unknown key 'true' in the journey" in messages
    assert sorted(p.line for p in checked.problems) == [10, 11]


# --------------------------------------------------------------------------------------------
# Merge keys and x- anchors
# --------------------------------------------------------------------------------------------

MERGED = """\
journey: x
name: X
x-letter: &letter
  channel: letter
  day: 9
  template: letters/thanks.txt
x-late: &late {day: 50, description: late}
phases:
  - phase: affirm
    touches:
      - id: a
        <<: *letter
        day: 2
      - id: b
        <<: [*late, *letter]
"""


def test_merge_keys_work_and_own_keys_win(make_journey):
    checked = check_file(make_journey(MERGED))
    assert checked.ok, "\n".join(map(str, checked.problems))
    a, b = (t for _, t in checked.journey.touches())
    assert (a.channel, a.day, a.template) == ("letter", 2, "letters/thanks.txt")
    assert (b.channel, b.day, b.description) == ("letter", 50, "late")  # earlier merge wins


def test_x_keys_are_ignored_by_the_model_and_the_version(make_journey):
    with_x = check_file(make_journey(MERGED)).journey
    plain = MERGED.replace(
        "        <<: *letter\n        day: 2\n",
        "        channel: letter\n        day: 2\n        template: letters/thanks.txt\n",
    )
    plain = plain.replace(
        "        <<: [*late, *letter]\n",
        "        day: 50\n        description: late\n        channel: letter\n        template: letters/thanks.txt\n",
    )
    plain = "\n".join(
        line for line in plain.splitlines() if not line.startswith(("x-", "  channel", "  day: 9", "  template"))
    )
    without = check_file(make_journey(plain + "\n")).journey
    assert with_x is not None and without is not None
    assert with_x.version() == without.version()
    assert "x-letter" not in json.dumps(with_x.model_dump(mode="json"))


def test_schema_allows_x_keys_at_the_top_level():
    schema = json_schema()
    assert schema["patternProperties"] == {"^x-": {}} and schema["additionalProperties"] is False


def test_an_error_in_a_merged_value_points_at_the_text_it_came_from(make_journey):
    text = MERGED.replace("  day: 9\n", "  day: nine\n")
    text = text.replace("        day: 2\n", "")
    checked = check_file(make_journey(text))
    days = [p for p in checked.problems if "day in touch" in p.message]
    assert days and all((p.line, p.col) == (line_of(text, "day: nine"), 8) for p in days)


def test_a_misspelt_merged_key_points_at_the_anchor_text(make_journey):
    text = MERGED.replace("  template: letters/thanks.txt\n", "  tempalte: letters/thanks.txt\n")
    checked = check_file(make_journey(text))
    typo = [p for p in checked.problems if "unknown key 'tempalte'" in p.message]
    assert typo and {p.line for p in typo} == {line_of(text, "tempalte")}


def test_merging_something_that_is_not_a_mapping_is_refused(make_journey):
    text = MERGED.replace("x-late: &late {day: 50, description: late}", "x-late: &late [1, 2]")
    problem = only_problem(make_journey, text)
    assert "'<<' merges mappings" in problem.message and problem.line == line_of(text, "x-late")


def test_duplicate_own_keys_next_to_a_merge_are_still_refused(make_journey):
    text = MERGED.replace("        day: 2\n", "        day: 2\n        day: 3\n")
    problem = only_problem(make_journey, text)
    assert "duplicate key 'day'" in problem.message and problem.line == line_of(text, "day: 3")


def test_x_keys_inside_a_touch_are_unknown_keys(make_journey):
    text = MERGED.replace("        day: 2\n", "        day: 2\n        x-note: hi\n")
    checked = check_file(make_journey(text))
    (problem,) = checked.problems
    assert "unknown key 'x-note'" in problem.message and "top level" in problem.hint
