"""The organisers' guide (docs/guide/): every picture it shows is one scripts/guide_screenshots.py makes and every
picture made is shown; it is linked from the README and served to staff from the menu; the script runs."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import make_staff

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide"
SCRIPT = ROOT / "scripts" / "guide_screenshots.py"


def _script():
    spec = importlib.util.spec_from_file_location("guide_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pictures_in_pages() -> set[str]:
    return {name for page in GUIDE.glob("*.md") for name in re.findall(r"\]\(img/([a-z0-9-]+\.png)\)",
                                                                      page.read_text(encoding="utf-8"))}


def _pictures_made_by_the_script() -> set[str]:
    source = SCRIPT.read_text(encoding="utf-8")
    return {f"{name}.png" for name in re.findall(r'self\.save\(page, "([a-z0-9-]+)"', source)}


def test_the_guide_shows_exactly_the_pictures_the_script_makes():
    shown, made = _pictures_in_pages(), _pictures_made_by_the_script()
    assert shown
    assert shown == made
    assert {p.name for p in (GUIDE / "img").glob("*.png")} == made  # committed, and nothing stale
    for page in GUIDE.glob("*.md"):
        for link in re.findall(r"\]\(([0-9a-z-]+\.md)\)", page.read_text(encoding="utf-8")):
            assert (GUIDE / link).is_file(), (page.name, link)


def test_the_readme_links_the_guide():
    assert "(docs/guide/README.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.django_db
def test_staff_read_the_guide_with_its_pictures(client, org_a):
    client.force_login(make_staff(org_a, "organiser"))
    index = client.get(reverse("staff_guide")).content.decode()
    assert "Hướng dẫn dành cho Ban tổ chức" in index
    chapter = client.get(reverse("staff_guide_file", args=["02-tao-cuoc-thi-va-dot-thi.md"]))
    assert chapter.status_code == 200
    assert '<img alt="Kiểm tra cấu trúc đề" src="img/cau-truc-de.png"' in chapter.content.decode()
    picture = client.get("/staff/guide/img/cau-truc-de.png")
    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/png"
    assert client.get("/staff/guide/../../README.md").status_code == 404
    assert client.get(reverse("staff_guide_file", args=["img/nothing.png"])).status_code == 404


@pytest.mark.slow
def test_the_screenshot_script_makes_a_picture(tmp_path):
    """The script itself, on a fresh demo, for one picture (all of them take a minute)."""
    assert set(_script().Shots.ALL) >= {"dang_nhap", "xuat_ket_qua"}
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--only", "menu_can_bo"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    picture = tmp_path / "menu-can-bo.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size > 10_000
