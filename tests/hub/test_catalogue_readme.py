"""The README's content table is the catalogue's, regenerated with `python -m aifnb_hub.catalogue`."""

import re
from pathlib import Path

from aifnb_hub.catalogue import load_catalogue, markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_content_table_matches_catalogue():
    """Every catalogued notebook appears in the README exactly as the catalogue describes it."""
    block = re.search(r"<!-- catalogue -->\n(.*?)<!-- /catalogue -->", README.read_text(), re.S)
    assert block, "README lacks the <!-- catalogue --> section"
    assert block.group(1) == markdown_table(load_catalogue()), "run: python -m aifnb_hub.catalogue and paste into the README"
