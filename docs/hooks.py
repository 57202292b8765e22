"""MkDocs hooks: the navigation, README sections included by heading, and
the MathJax files copied into the site so math renders offline.

A page includes a README section with a line

    <!-- readme: How correctness is proved -->

which becomes that section's text (up to the next heading of the same
level), so the README and the site keep one source.
"""

import re
import shutil
from pathlib import Path

import mathjax

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
MATHJAX = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
# What `tex-chtml.js` loads: the component itself, its fonts, the TeX
# extensions it may autoload, the menu and the accessibility helpers.
MATHJAX_PARTS = (
    "tex-chtml.js",
    "output/chtml/fonts/woff-v2",
    "input/tex/extensions",
    "ui",
    "a11y",
    "adaptors",
)
INCLUDE = re.compile(r"^<!-- readme: (.+?) -->$", re.M)
HEADING = re.compile(r"^(#+) (.*)$")
LINK = re.compile(r"\[([^\]]+)\]\((?!https?:|#)([^)]+)\)")


def readme_section(title, readme=None):
    """The text of README's section `title` (without its heading line).

    The section runs to the next heading of the same or a higher level;
    `#` lines inside code fences are code, not headings.
    """
    lines = Path(readme or REPO / "README.md").read_text().splitlines()
    level, start = None, None
    for index, line in enumerate(lines):
        match = HEADING.match(line)
        if match and match.group(2).strip() == title:
            level, start = len(match.group(1)), index + 1
            break
    if start is None:
        raise ValueError(f"README.md has no section titled {title!r}")
    body, in_code = [], False
    for line in lines[start:]:
        if line.startswith("```"):
            in_code = not in_code
        match = HEADING.match(line)
        if match and not in_code and len(match.group(1)) <= max(level, 2):
            break
        body.append(line)
    text = "\n".join(body).strip()
    # Paths of the repository are not pages of the site: show them as code.
    return LINK.sub(lambda m: f"{m.group(1)} (`{m.group(2)}`)", text)


def on_page_markdown(markdown, page, config, files):
    return INCLUDE.sub(lambda m: readme_section(m.group(1)), markdown)


def _pages(folder):
    return sorted(p.name for p in (DOCS / folder).glob("*.md"))


def on_config(config):
    tutorials = [
        f"tutorials/{name}"
        for name in _pages("tutorials")
        if name != "index.md"
    ]
    api = []
    for module in sorted(p for p in (DOCS / "api").iterdir() if p.is_dir()):
        api.append(
            {
                f"refnn.{module.name}": [
                    {name[: -len(".md")]: f"api/{module.name}/{name}"}
                    for name in _pages(f"api/{module.name}")
                ]
            }
        )
    config["nav"] = [
        {"Home": "index.md"},
        {"Tutorials": ["tutorials/index.md", *tutorials]},
        {"API reference": ["api/index.md", *api]},
        {"How correctness is proved": "correctness.md"},
        {"Benchmarks": "benchmarks.md"},
        {"Serving and scale": "serving.md"},
        {"About this site": "about.md"},
    ]
    return config


MATH_SCRIPTS = (
    "javascripts/mathjax-config.js",
    "javascripts/mathjax/tex-chtml.js",
)


def on_post_page(output, page, config):
    """Loads MathJax (1 MB) only on the pages that have math in them."""
    if 'class="arithmatex"' not in output:
        return output
    up = "../" * page.file.dest_uri.count("/")
    tags = "".join(f'<script src="{up}{src}"></script>' for src in MATH_SCRIPTS)
    return output.replace("</body>", tags + "</body>", 1)


def on_post_build(config):
    target = Path(config["site_dir"]) / "javascripts" / "mathjax"
    for part in MATHJAX_PARTS:
        source = MATHJAX / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / part)
