"""The README and docs/: every link and picture they hold leads somewhere, and the README's table of
tested Blender versions is the set the test environments install."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def heading_anchors(page: Path) -> set[str]:
    """The anchors a Markdown renderer gives the page's headings (GitHub's rule: lower case, punctuation
    dropped, spaces to hyphens, a repeated heading numbered)."""
    anchors, seen = set(), {}
    in_code = False
    for line in page.read_text().splitlines():
        in_code = in_code != line.startswith("```")
        if in_code or not re.match(r"#{1,6} ", line):
            continue
        slug = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def local_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # links in code blocks are code
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_every_link_and_picture_leads_somewhere():
    broken = []
    for page in PAGES:
        for target in local_links(page):
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.is_file():
                broken.append(f"{page.relative_to(REPO)}: {target} (no such file)")
            elif anchor and anchor not in heading_anchors(file):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert broken == []


def test_the_readme_links_every_docs_page():
    linked = {(REPO / target.partition("#")[0]).resolve() for target in local_links(REPO / "README.md")}
    assert [page.name for page in PAGES[1:] if page.resolve() not in linked] == []


def test_the_readme_names_every_tested_blender():
    pins = {re.search(r"^bpy==([\d.]+)", path.read_text(), re.M).group(1)
            for path in [REPO / "requirements-dev.txt", *REPO.glob("requirements-blender-[0-9]*.txt")]}
    table = re.search(r"## Tested Blender versions\n(.*?)\n\n", (REPO / "README.md").read_text(), re.S).group(1)
    assert set(re.findall(r"`bpy==([\d.]+)`", table)) == pins and len(pins) == 4
