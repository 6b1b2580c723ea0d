"""Datasets: the document's rows, and CSVs refused with one line naming file, row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from comparisons import PROBLEMS, InputError, read_csv, to_arrays

REGRESSION = PROBLEMS["regression"]


def test_document_rows() -> None:
    data = REGRESSION.data()
    assert list(data.columns) == ["cgpa", "resume_score", "package"]
    assert data.to_numpy().tolist() == [[8, 8, 4], [7, 9, 5], [6, 10, 6], [5, 12, 7]]
    placed = PROBLEMS["classification"].data()
    assert placed["placed"].tolist() == [1, 1, 0, 0]
    assert placed.iloc[3].tolist() == [5, 5, 0]  # the classification set's last row differs from regression's


def test_reads_a_good_csv_with_extra_columns_and_any_column_order(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("name,package,resume_score,cgpa\na,4,8,8\nb,5,9,7\n")
    data = read_csv(path, REGRESSION)
    pd.testing.assert_frame_equal(
        data, pd.DataFrame({"cgpa": [8.0, 7.0], "resume_score": [8.0, 9.0], "package": [4.0, 5.0]})
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "empty file", id="empty"),
        pytest.param("cgpa,resume_score,package\n", "no data rows", id="header-only"),
        pytest.param("cgpa,package\n8,4\n", "missing column 'resume_score'", id="missing-column"),
        pytest.param(
            "cgpa,resume_score,package\n8,8,4\n7,nine,5\n",
            "row 3, column 'resume_score': 'nine' is not a number",
            id="non-numeric",
        ),
        pytest.param(
            "cgpa,resume_score,package\n8,8,4\n7,,5\n",
            "row 3, column 'resume_score': '' is not a number",
            id="empty-cell",
        ),
        pytest.param(
            "cgpa,resume_score,package\n8,8,NaN\n", "row 2, column 'package': 'NaN' is not a finite number", id="nan"
        ),
        pytest.param(
            "cgpa,resume_score,package\n8,-inf,4\n",
            "row 2, column 'resume_score': '-inf' is not a finite number",
            id="inf",
        ),
    ],
)
def test_malformed_csv_is_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_csv(path, REGRESSION)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_csv(tmp_path / "nope.csv", REGRESSION)


def test_values_that_overflow_the_working_dtype_are_refused() -> None:
    data = pd.DataFrame({"cgpa": [8.0, 1e39], "resume_score": [8.0, 9.0], "package": [4.0, 5.0]})
    assert to_arrays(data, REGRESSION, "float64")[0][1, 0] == 1e39
    with pytest.raises(InputError, match="too large for float32"):
        to_arrays(data, REGRESSION, "float32")
