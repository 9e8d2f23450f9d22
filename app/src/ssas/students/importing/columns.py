"""The five kinds of import file, their columns, the header names accepted for each column,
and how a cell becomes a value.

A header matches a column when, lower-cased with every run of non-letters turned into one
`_`, it is the column's name or one of its aliases (`Student Number`, `student-no` and
`STUDENT_NO` all match `student_id`). `--map "Admission No=student_id"` adds a name for one
import. Columns not listed here are ignored (and reported), so a full export from a student
information system can be imported as it is.
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

Parser = Callable[[Any], Any]

# Order of import: each kind may refer to the ones before it in the same run.
KINDS = ("schools", "academic_years", "subjects", "students", "scores")


class CellError(ValueError):
    """A cell's value is not acceptable; the message says what was expected."""


def header_key(header: Any) -> str:
    """`"Student Number "` -> `"student_number"`: how headers and aliases are compared."""
    return re.sub(r"[^a-z0-9]+", "_", str(header or "").strip().lower()).strip("_")


def _text(max_length: int, required: bool = True) -> Parser:
    def parse(value: Any) -> str:
        text = "" if value is None else str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))  # spreadsheet cells turn 1042 into 1042.0
        if required and not text:
            raise CellError("is empty")
        if len(text) > max_length:
            raise CellError(f"longer than {max_length} characters")
        return text
    return parse


def _code(max_length: int, required: bool = True) -> Parser:
    text = _text(max_length, required)

    def parse(value: Any) -> str:
        code = text(value)
        if code and not re.fullmatch(r"[-\w]+", code):
            raise CellError(f"'{code}': use letters, digits, - and _ only")
        return code
    return parse


def _integer(low: int, high: int, words: dict[str, int] | None = None) -> Parser:
    def parse(value: Any) -> int:
        text = "" if value is None else str(value).strip().lower()
        if words and text in words:
            return words[text]
        try:
            number = float(text)
        except ValueError:
            raise CellError(f"'{value}' is not a whole number") from None
        if not number.is_integer() or not low <= number <= high:
            raise CellError(f"'{value}': expected a whole number from {low} to {high}")
        return int(number)
    return parse


def _present(value: Any, required: bool) -> str | None:
    """A cell as stripped text; None when empty (CellError when it must not be)."""
    text = "" if value is None else str(value).strip()
    if text:
        return text
    if required:
        raise CellError("is empty")
    return None


def _score(required: bool) -> Parser:
    def parse(value: Any) -> Decimal | None:
        text = _present(value, required)
        if text is None:
            return None
        if re.fullmatch(r"\d+,\d+", text):
            text = text.replace(",", ".")  # a decimal comma (semicolon-separated exports)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(f"'{value}' is not a number") from None
        if not number.is_finite() or not 0 <= number <= 100:
            raise CellError(f"'{value}': expected 0 to 100")
        # Two decimal places, as stored; a float cell (72.3000001) rounds to 72.30.
        return number.quantize(Decimal("0.01"))
    return parse


def _date(required: bool) -> Parser:
    def parse(value: Any) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = _present(value, required)
        if text is None:
            return None
        try:
            # ISO only: 03/04/2010 is March in one country and April in the next. A date
            # with a midnight time (a spreadsheet's date cell saved as text) is one too.
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return dt.datetime.fromisoformat(text).date()
        except ValueError:
            raise CellError(f"'{value}': expected a date as YYYY-MM-DD") from None
    return parse


_TRUE = {"1", "true", "yes", "y", "t", "x", "current", "active"}
_FALSE = {"0", "false", "no", "n", "f", "", "inactive"}


def _boolean(default: bool) -> Parser:
    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if text == "":
            return default
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise CellError(f"'{value}': expected yes or no")
    return parse


_GENDERS = {"f": "F", "female": "F", "girl": "F", "m": "M", "male": "M", "boy": "M",
            "o": "O", "other": "O", "": "O", "x": "O", "not stated": "O", "u": "O"}


def _gender(value: Any) -> str:
    text = "" if value is None else str(value).strip().lower()
    if text not in _GENDERS:
        raise CellError(f"'{value}': expected F, M or O (female, male, other)")
    return _GENDERS[text]


_TERMS = {"first": 1, "second": 2, "third": 3, "term 1": 1, "term 2": 2, "term 3": 3,
          "1st": 1, "2nd": 2, "3rd": 3, "t1": 1, "t2": 2, "t3": 3}


@dataclass(frozen=True)
class Column:
    """One column of an import file: its name, other header names, whether it must be present
    (as a header) and how a cell is read."""

    name: str
    parse: Parser
    required: bool = True
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kind:
    """One kind of file: its columns and the ones that identify a row (the upsert key)."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    file_names: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_SCHOOL = Column("school", _code(40, required=False), required=False,
                 aliases=("school_code", "school_id", "campus", "campus_code"))
_STUDENT_ID = Column("student_id", _text(40),
                     aliases=("student_number", "student_no", "admission_no",
                              "admission_number", "pupil_id", "learner_id", "sis_id"))

SPECS: dict[str, Kind] = {
    "schools": Kind("schools", (
        Column("code", _code(40), aliases=("school_code", "school")),
        Column("name", _text(200), aliases=("school_name",)),
    ), key=("code",), file_names=("schools", "school")),
    "academic_years": Kind("academic_years", (
        Column("name", _text(20), aliases=("academic_year", "year", "session")),
        Column("start_date", _date(True), aliases=("start", "starts", "from")),
        Column("end_date", _date(True), aliases=("end", "ends", "to")),
        Column("is_current", _boolean(False), required=False, aliases=("current",)),
    ), key=("name",), file_names=("academic_years", "academic-years", "years", "sessions")),
    "subjects": Kind("subjects", (
        Column("code", _code(20), aliases=("subject_code", "subject")),
        Column("name", _text(100), aliases=("subject_name", "title")),
    ), key=("code",), file_names=("subjects", "subject")),
    "students": Kind("students", (
        _SCHOOL,
        _STUDENT_ID,
        Column("first_name", _text(100), aliases=("first", "given_name", "forename",
                                                   "firstname")),
        Column("last_name", _text(100), aliases=("last", "surname", "family_name",
                                                  "lastname")),
        Column("grade", _integer(0, 20), aliases=("year_group", "level", "class_level",
                                                   "grade_level")),
        # "Form" is the class in British exports (10A), not the year.
        Column("class_name", _text(20, required=False), required=False,
               aliases=("class", "form", "tutor_group", "stream", "section", "arm",
                        "homeroom")),
        Column("gender", _gender, required=False, aliases=("sex",)),
        Column("date_of_birth", _date(False), required=False, aliases=("dob", "birth_date",
                                                                      "birthday")),
        Column("is_active", _boolean(True), required=False, aliases=("active", "enrolled")),
    ), key=("school", "student_id"), file_names=("students", "student", "pupils", "learners")),
    "scores": Kind("scores", (
        _SCHOOL,
        _STUDENT_ID,
        Column("subject", _code(20), aliases=("subject_code",)),
        Column("academic_year", _text(20), aliases=("year", "session")),
        Column("term", _integer(1, 3, _TERMS), aliases=("semester",)),
        Column("continuous_assessment", _score(False), required=False,
               aliases=("ca", "coursework", "classwork", "ca_score")),
        Column("exam_score", _score(False), required=False, aliases=("exam", "exam_mark")),
        Column("total_score", _score(False), required=False,
               aliases=("total", "score", "mark", "total_mark")),
    ), key=("school", "student_id", "subject", "academic_year", "term"),
        file_names=("scores", "score", "results", "marks", "grades")),
}


def kinds_named_by(stem: str) -> list[str]:
    """The kinds a file name points at (`scores.csv`, `2024-students.xlsx`, `years.csv`)."""
    words = set(re.split(r"[^a-z]+", stem.lower())) | {header_key(stem)}
    return [kind.name for kind in SPECS.values() if words & set(kind.file_names)]
