"""Property tests: random consistent statistics tables, rendered as an HTML page with spans, as one cell per
line and as trafilatura's pipe rows, parse back exactly; every generated record validates."""
import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gikfixtures.reportgen import make_report, render_html, render_pipe_rows, render_text_cells
from gikcrawl.parser import parse
from gikcrawl.parser import templates as T

from conftest import assert_valid

counts = st.integers(min_value=0, max_value=5000)


@st.composite
def applications(draw, blanks: bool):
    """A 2021 applications table obeying the three printed/implied rules, optionally with blank cells in
    applicant columns that are blank on every row (so the rules still hold)."""
    result_keys = [r.key for r in T.APPLICATION_ROWS["2021"] if r.result]
    blank_cols = set(draw(st.sets(st.sampled_from(range(6)), max_size=3))) if blanks else set()
    rows = {}
    for key in result_keys + ["carried_over", "carried_forward"]:
        rows[key] = [None if c in blank_cols else draw(counts) for c in range(6)]
    rows["results_total"] = [None if c in blank_cols else sum(rows[k][c] for k in result_keys) for c in range(6)]
    rows["new_requests"] = [None if c in blank_cols else
                            rows["results_total"][c] + rows["carried_forward"][c] + draw(counts) for c in range(6)]
    # keep 一+二 = 三(七)+四: carried_over absorbs the difference
    for c in range(6):
        if c not in blank_cols:
            extra = rows["new_requests"][c] - rows["results_total"][c] - rows["carried_forward"][c]
            rows["carried_over"][c] = 0
            rows["carried_forward"][c] += extra
    table = {}
    for key, six in rows.items():
        total = sum(v for v in six if v is not None)
        table[key] = dict(zip(T.APPLICANT_COLUMNS, six + [total]))
    return {r.key: table[r.key] for r in T.APPLICATION_ROWS["2021"]}


@st.composite
def tables_2021(draw, blanks: bool):
    ad = []
    for block in T.AD_2021:
        for item in block.items:
            for column in block.columns:
                value = draw(st.one_of(counts, st.decimals(min_value=0, max_value=999, places=2).map(float))
                             if "收费" in column else counts)
                ad.append({"clause": block.clause, "item": item, "column": column, "value": value})
    review = {}
    for group in T.REVIEW_GROUPS:
        four = [draw(st.integers(0, 300)) for _ in range(4)]
        review[group] = dict(zip(T.OUTCOME_COLUMNS, four + [sum(four)]))
    return {"active_disclosure": ad, "applications": draw(applications(blanks)), "review_litigation": review}


def render_and_parse(truth, render):
    record = assert_valid(parse(render(truth)))
    return record


def check(truth, record):
    assert record["format"] == "2021"
    for name, table in truth.tables.items():
        got = record["tables"].get(name)
        if isinstance(table, dict):
            wrong = {k: (got.get(k), v) for k, v in table.items() if got.get(k) != v}
        else:
            wrong = [(c, [g for g in got if g["item"] == c["item"] and g["column"] == c["column"]])
                     for c in table if c not in got]
        assert not wrong, (name, wrong, record["warnings"])
    assert record["tables"] == truth.tables
    assert record["checks"] and all(c["ok"] for c in record["checks"]), record["checks"]


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(seed=st.integers(0, 10_000), tables=tables_2021(blanks=True))
def test_html_with_spans_parses_back_exactly(seed, tables):
    truth = dataclasses.replace(make_report(seed, "2021"), tables=tables)
    check(truth, render_and_parse(truth, render_html))


@SETTINGS
@given(seed=st.integers(0, 10_000), tables=tables_2021(blanks=True))
def test_pipe_rows_parse_back_exactly(seed, tables):
    truth = dataclasses.replace(make_report(seed, "2021"), tables=tables)
    check(truth, render_and_parse(truth, render_pipe_rows))


@SETTINGS
@given(seed=st.integers(0, 10_000), tables=tables_2021(blanks=False))
def test_one_cell_per_line_parses_back_exactly(seed, tables):
    truth = dataclasses.replace(make_report(seed, "2021"), tables=tables)
    check(truth, render_and_parse(truth, render_text_cells))
