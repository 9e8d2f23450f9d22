"""The report's Markdown as one self-contained HTML page (inline CSS, no external asset).

markdown-it-py (CommonMark, with tables) converts it; raw HTML in the Markdown is escaped,
not passed through, so nothing from a profile or inventory can inject markup.
"""

from html import escape

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #2d6cdf; padding-bottom: .3rem; }
h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid #d5dae3; }
h3 { font-size: 1.1rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
       background: #f1f3f7; padding: .1rem .25rem; border-radius: 3px; font-size: .9em; }
pre { background: #f1f3f7; padding: .7rem 1rem; overflow-x: auto; border-radius: 4px; }
pre code { padding: 0; background: none; }
table { border-collapse: collapse; margin: .8rem 0; width: 100%; }
th, td { border: 1px solid #d5dae3; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f1f3f7; }
@media print { body { margin: 0; max-width: none; } pre { white-space: pre-wrap; } }
"""


def to_html(markdown_text: str, title: str) -> str:
    """A complete HTML5 document for `markdown_text`, titled `title` (escaped).

    Raises ImportError when markdown-it-py is missing (it is a declared dependency).
    """
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    body = renderer.render(markdown_text)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )
