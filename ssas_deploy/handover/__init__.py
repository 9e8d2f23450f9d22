"""The handover report for a school's IT staff: `ssas-deploy handover`.

- `commands`: the exact command lines the report (and `apply`'s summary) gives.
- `facts`: what this deployment can show (profile, last apply, vault, live backup list).
- `checklists`: the guide's checklists, each item judged from the facts with a reason.
- `maintenance`: the guide's maintenance calendar, with how to do each task here.
- `markdown`: the report as Markdown; `page`: that Markdown as one self-contained HTML page.
- `report`: builds both and writes them to a directory.
"""
