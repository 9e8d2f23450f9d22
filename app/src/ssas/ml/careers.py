"""Career profiles: which subjects matter for which career (weights sum to 1)."""

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
