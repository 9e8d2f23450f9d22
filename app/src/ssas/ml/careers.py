"""Career profiles: which subject areas matter for which career (weights sum to 1), and
which of a school's subjects belong to which area.

A school's subject codes are its own (`MATH`, `ENGL`, `bio-11`, ...): `subject_area` matches
the code, then the name, case-insensitively and ignoring punctuation, against each area's
common names (SUBJECT_ALIASES).
"""

import re

CAREER_PROFILES: dict[str, dict[str, float]] = {
    "Software Engineer": {"math": 0.45, "computer-science": 0.4, "physics": 0.15},
    "Medical Doctor": {"biology": 0.45, "chemistry": 0.35, "physics": 0.1, "english": 0.1},
    "Civil Engineer": {"math": 0.4, "physics": 0.4, "geography": 0.2},
    "Accountant": {"math": 0.5, "economics": 0.4, "english": 0.1},
    "Lawyer": {"english": 0.4, "history": 0.3, "literature": 0.3},
    "Journalist": {"english": 0.45, "literature": 0.3, "history": 0.25},
    "Economist": {"economics": 0.5, "math": 0.35, "geography": 0.15},
    "Pharmacist": {"chemistry": 0.5, "biology": 0.35, "math": 0.15},
    "Environmental Scientist": {"geography": 0.4, "biology": 0.35, "chemistry": 0.25},
    "Graphic Designer": {"art": 0.6, "computer-science": 0.25, "literature": 0.15},
    "Teacher": {"english": 0.3, "literature": 0.2, "history": 0.2, "math": 0.3},
}

# Each area's common codes and names (compared after `_normalize`): the area itself is one.
SUBJECT_ALIASES: dict[str, tuple[str, ...]] = {
    "math": ("maths", "mathematics", "mth", "mat", "mathematik", "algebra", "calculus"),
    "computer-science": ("cs", "compsci", "computing", "computer science", "ict", "it",
                         "informatics", "information technology", "programming"),
    "physics": ("phy", "phys"),
    "chemistry": ("chem", "che"),
    "biology": ("bio", "biol", "life sciences"),
    "english": ("eng", "engl", "ela", "english language", "language arts"),
    "literature": ("lit", "english literature", "eng lit"),
    "history": ("his", "hist"),
    "geography": ("geo", "geog"),
    "economics": ("eco", "econ", "business studies"),
    "art": ("arts", "fine art", "fine arts", "visual arts", "art and design", "design"),
}


def _normalize(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


_AREA_OF = {_normalize(alias): area for area, aliases in SUBJECT_ALIASES.items()
            for alias in (area, *aliases)}


# What an admin may choose for a subject (Subject.career_area): an area, or NOT_A_CAREER.
NOT_A_CAREER = "none"
AREA_CHOICES = [("", "automatic (from the code and name)"),
                *((area, area.replace("-", " ")) for area in SUBJECT_ALIASES),
                (NOT_A_CAREER, "no career area")]


def subject_area(code: str, name: str = "", chosen: str = "") -> str | None:
    """The career area of a subject: the one an admin `chosen` (Subject.career_area), else
    from its code, else its name; None when neither matches or the admin chose none.

    Examples: ("MATH", "") -> "math"; ("M101", "Mathematics") -> "math"; ("PE", "Sport") ->
    None; ("PE", "Sport", "biology") -> "biology". A code with a trailing level or year
    ("bio-11", "ENGL2") matches by its letters.
    """
    if chosen:
        return None if chosen == NOT_A_CAREER else chosen
    for text in (code, re.sub(r"[-_ ]?\d+$", "", code), name):
        area = _AREA_OF.get(_normalize(text)) if text else None
        if area:
            return area
    return None


def career_weights(subjects: list[str], names: dict[str, str] | None = None,
                   chosen: dict[str, str] | None = None) -> dict[str, list[tuple[int, float]]]:
    """{career: [(subject index, weight), ...]} for the careers at least one of `subjects`
    (codes, in tensor order) serves; an area's weight is split evenly among its subjects.
    `chosen` maps a code to the area an admin set for it (see subject_area)."""
    names, chosen = names or {}, chosen or {}
    by_area: dict[str, list[int]] = {}
    for index, code in enumerate(subjects):
        area = subject_area(code, names.get(code, ""), chosen.get(code, ""))
        if area:
            by_area.setdefault(area, []).append(index)
    weights = {}
    for career, profile in CAREER_PROFILES.items():
        pairs = [(i, w / len(by_area[area])) for area, w in profile.items()
                 if area in by_area for i in by_area[area]]
        if pairs:
            weights[career] = pairs
    return weights
