"""harness.tables: the one cell formatter and the Markdown tables built on pandas.DataFrame.to_markdown."""

import math

import numpy as np
import pandas as pd
import pytest

from harness.tables import fmt, markdown_table
from tests.helpers import table_rows


@pytest.mark.parametrize("value,spec,text", [
    (1234.5, "{:,.0f}", "1,234"),  # the default spec
    (0.123456, "{:.3f}", "0.123"),
    (3, "{:.2f}", "3.00"),
    (np.int64(12345), "{:,}", "12,345"),  # numpy integers keep integer formatting
    (7, "{:d}", "7"),  # Python ints too
    (np.float32(2.5), "{:.1f}", "2.5"),
    ("1.5", "{:.2f}", "1.50"),  # numeric text is formatted as the number
    ("pass", "{}", "pass"),
    ("pass", "{:.2f}", "-"),  # text the spec cannot format
    (None, "{:.2f}", "-"),
    (math.nan, "{:.2f}", "-"),
    (np.nan, "{:,.0f}", "-"),
    (float("inf"), "{:.1f}", "inf"),
    (True, "{:.2f}", "yes"),
    (False, "{:.2f}", "no"),
    (np.bool_(True), "{}", "yes"),
    (pd.NA, "{:.2f}", "-"),
])
def test_fmt(value, spec, text):
    assert fmt(value, spec) == text


def test_fmt_default_spec():
    assert fmt(1_000_000.4) == "1,000,000"


def test_markdown_table_keeps_text_as_given_and_cannot_be_split():
    md = markdown_table([["a", "0010", "x|y"], ["b", "1e3", ""]], ["name", "code", "note"])
    lines = md.splitlines()
    assert len(lines) == 4 and lines[1].replace("|", "").replace(":", "").replace("-", "") == ""
    assert table_rows(md) == [["name", "code", "note"], ["a", "0010", "x/y"], ["b", "1e3", ""]]


def test_markdown_table_of_a_frame_and_of_no_rows():
    frame = pd.DataFrame({"model": ["m"], "ESS/s": ["1,000"]})
    assert table_rows(markdown_table(frame)) == [["model", "ESS/s"], ["m", "1,000"]]
    assert table_rows(markdown_table([], ["model", "backend"])) == [["model", "backend"]]
