"""Make the screenshots of the organisers' guide (docs/guide/img/*.png) by driving the demo in Chromium.

    .venv/bin/python scripts/guide_screenshots.py [--out docs/guide/img] [--only NAME,NAME…] [--list]

It builds a throw-away embedded demo (SQLite in a temporary folder: migrate + load_demo), adds what the demo
lacks for the last chapters (a finished round with a few attempts and its official ranking), serves it with
Daphne on a free port, and walks the organiser's path with Playwright and Debian's Chromium (vi-VN; desktop
1280 px, and a 360-px phone where the guide shows one). Run it again whenever a page changes: the guide's
pictures are never edited by hand. `--only` makes some of them (the test suite runs one, to keep this script
working).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ORGANISER = ("btc.stp", "canbo-demo-2026")
WRITER = ("rade.stp", "canbo-demo-2026")
JUDGE = ("giamkhao.stp", "canbo-demo-2026")
CITIZEN = ("0912345678", "thisinh-demo-2026")
FINISHED_ROUND = "Đợt thi thử đã kết thúc"
SAMPLE_GIFT = """::GT01:: Người điều khiển xe mô tô hai bánh có bắt buộc đội mũ bảo hiểm không? {T}

::GT02:: Tốc độ tối đa của xe mô tô trong khu dân cư là bao nhiêu km/h? {#50:0~#Xem Thông tư 38/2024/TT-BGTVT}

::GT03:: Những giấy tờ nào người lái xe phải mang theo? {~%50%Giấy phép lái xe ~%50%Đăng ký xe ~%-100%Sổ hộ khẩu}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"SQLITE_PATH": str(folder / "demo.sqlite3"), "DEBUG": "1", "LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "contest_engine.settings", "MEDIA_ROOT": str(folder / "media"),
                "PRIVATE_MEDIA_ROOT": str(folder / "private")})
    return env


def build_demo(folder: Path) -> dict[str, str]:
    env = _env(folder)
    python = sys.executable
    for args in (["migrate", "--noinput", "-v0"], ["load_demo"]):
        subprocess.run([python, "manage.py", *args], cwd=ROOT, env=env, check=True,  # noqa: S603
                       stdout=subprocess.DEVNULL)
    subprocess.run([python, "-c", FINISHED_ROUND_CODE], cwd=ROOT, env=env, check=True)  # noqa: S603
    return env


# Run inside the demo's database: a round of the demo contest that closed an hour ago, with the demo citizen's
# attempt and two more citizens', officially ranked (draft) — for the chapters on results and exports.
FINISHED_ROUND_CODE = f"""
import datetime as dt, django
django.setup()
from django.utils import timezone
from accounts.models import CitizenProfile, Organisation, User
from contests.models import Contest, Round
from contests.services.attempts.answers import attempt_answer
from contests.services.attempts.finish import attempt_submit
from contests.services.attempts.start import attempt_start
from contests.services.registrations import registration_create
from leaderboards.services.ranking import round_close
contest = Contest.objects.get(slug="demo-tim-hieu-phap-luat")
now = timezone.now()
opens, closes = now - dt.timedelta(days=2), now - dt.timedelta(hours=1)
round, _ = Round.objects.get_or_create(contest=contest, name="{FINISHED_ROUND}", defaults={{
    "position": 0, "opens_at": opens, "closes_at": closes}})
unit = Organisation.objects.get(name="Phường Ninh Kiều")
people = [User.objects.get(phone="{CITIZEN[0]}")]
for i, name in enumerate(["Lê Thị Hồng", "Phạm Văn Nam"]):
    user, created = User.objects.get_or_create(phone=f"09123400{{i:02d}}", defaults={{"username": f"guide{{i}}",
                                                                                  "full_name": name}})
    if created:
        CitizenProfile.objects.create(user=user, unit=unit, date_of_birth=dt.date(1985 + i, 5, 1),
                                      privacy_consent_at=now, privacy_notice_version="2026-01")
    people.append(user)
if not round.attempts.exists():
    for i, user in enumerate(people):
        registration_create(user=user, contest=contest)
        start = opens + dt.timedelta(hours=2 + i)
        attempt = attempt_start(user=user, round=round, now=start)
        for q in attempt.questions.all()[: 10 - 2 * i]:
            key = q.key.get("options", {{}})
            right = max(key, key=lambda k: float(key[k])) if key else None
            if right:
                attempt_answer(attempt_id=attempt.pk, user_id=user.pk, position=q.position,
                               response={{"options": [int(right)]}}, client_seq=q.position, now=start)
        attempt_submit(attempt=attempt, now=start + dt.timedelta(minutes=4, seconds=7 * i))
round_close(round=round, now=now)
"""


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
             "--websocket-max-message-size", "65536", "contest_engine.asgi:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("the demo server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Shots:
    """The guide's pictures, each a function of a logged-in page; names are the files' names."""

    def __init__(self, url: str, out: Path, browser) -> None:
        self.url, self.out, self.browser = url, out, browser
        self.made: list[Path] = []

    def page(self, who: tuple[str, str] | None, *, phone: bool = False):
        viewport = {"width": 360, "height": 760} if phone else {"width": 1280, "height": 860}
        context = self.browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport=viewport,
                                           device_scale_factor=1, is_mobile=phone, has_touch=phone)
        page = context.new_page()
        page.set_default_timeout(20_000)
        if who is not None:
            page.goto(self.url + "/accounts/login/")
            page.fill("#id_username", who[0])
            page.fill("#id_password", who[1])
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_load_state()
        return page

    def save(self, page, name: str, *, full: bool = False, element: str | None = None) -> None:
        path = self.out / f"{name}.png"
        if element is not None:
            page.locator(element).first.screenshot(path=str(path))
        else:
            page.screenshot(path=str(path), full_page=full)
        self.made.append(path)
        page.context.close()

    # --- the pictures, in the guide's order ------------------------------------------------------------

    def dang_nhap(self) -> None:
        page = self.page(None)
        page.goto(self.url + "/accounts/login/")
        self.save(page, "dang-nhap")

    def menu_can_bo(self) -> None:
        page = self.page(ORGANISER)
        page.goto(self.url + "/")
        page.locator("nav.staff-menu summary").click()
        self.save(page, "menu-can-bo")

    def menu_dien_thoai(self) -> None:
        page = self.page(ORGANISER, phone=True)
        page.goto(self.url + "/")
        page.locator("nav.staff-menu summary").click()
        self.save(page, "menu-dien-thoai")

    def tao_cuoc_thi(self) -> None:
        page = self.page(ORGANISER)
        page.goto(self.url + "/admin/contests/contest/add/")
        page.fill("#id_title", "Tìm hiểu Luật Trật tự, an toàn giao thông đường bộ 2026")
        self.save(page, "tao-cuoc-thi")

    def cau_truc_de(self) -> None:
        page = self.page(ORGANISER)
        page.goto(self.url + "/admin/contests/contest/")
        page.get_by_role("link", name="Cuộc thi thử: Tìm hiểu pháp luật dành cho mọi người").click()
        page.get_by_role("button", name="Kiểm tra cấu trúc đề (chưa lưu)").click()
        page.wait_for_load_state()
        self.save(page, "cau-truc-de", element=".field-blueprint")

    def dot_thi(self) -> None:
        page = self.page(ORGANISER)
        page.goto(self.url + "/admin/contests/round/")
        page.get_by_role("link", name="Đợt thi thử", exact=True).click()
        page.wait_for_load_state()
        self.save(page, "dot-thi")

    def nhap_cau_hoi(self) -> None:
        page = self.page(WRITER)
        page.goto(self.url + "/admin/questionbank/question/import/")
        sample = self.out.parent / "_mau.gift"
        sample.write_text(SAMPLE_GIFT, encoding="utf-8")
        try:
            page.set_input_files("#id_file", str(sample))
            self.save(page, "nhap-cau-hoi")
            page = self.page(WRITER)
            page.goto(self.url + "/admin/questionbank/question/import/")
            page.set_input_files("#id_file", str(sample))
            page.locator("input[type=submit], button[type=submit]").last.click()
            page.wait_for_load_state()
            self.save(page, "xem-truoc-nhap")
        finally:
            sample.unlink(missing_ok=True)

    def trang_cuoc_thi(self) -> None:
        page = self.page(CITIZEN, phone=True)
        page.goto(self.url + "/contests/demo-tim-hieu-phap-luat/")
        self.save(page, "trang-cuoc-thi-dien-thoai", full=True)

    def bang_xep_hang(self) -> None:
        page = self.page(ORGANISER)
        page.goto(self.url + "/staff/rounds/leaderboards/")
        page.get_by_role("link", name="Bảng xếp hạng trực tiếp").first.click()
        page.wait_for_load_state()
        self.save(page, "bang-xep-hang")

    def don_vi(self) -> None:
        page = self.page(ORGANISER)
        page.goto(self.url + "/staff/rounds/units/")
        page.get_by_role("link", name="Tham gia theo đơn vị").nth(1).click()
        page.wait_for_load_state()
        self.save(page, "don-vi")

    def ket_qua_chinh_thuc(self) -> None:
        page = self.page(ORGANISER)
        page.goto(self.url + "/staff/rounds/leaderboards/")
        page.locator("li", has_text=FINISHED_ROUND).get_by_role("link", name="Kết quả chính thức").click()
        page.wait_for_load_state()
        self.save(page, "ket-qua-chinh-thuc")

    def phe_duyet(self) -> None:
        page = self.page(JUDGE)
        page.goto(self.url + "/judging/")
        page.get_by_role("link", name=re.compile(FINISHED_ROUND)).first.click()
        page.wait_for_load_state()
        self.save(page, "phe-duyet")

    def xuat_ket_qua(self) -> None:
        page = self.page(ORGANISER)
        page.goto(self.url + "/staff/rounds/exports/")
        page.locator("li", has_text=FINISHED_ROUND).get_by_role("link", name="Xuất kết quả đợt thi (Excel)").click()
        page.wait_for_load_state()
        self.save(page, "xuat-ket-qua")

    def mo_lai_dot_thi(self) -> None:
        page = self.page(ORGANISER)
        page.goto(self.url + "/admin/contests/round/")
        page.get_by_role("link", name=FINISHED_ROUND, exact=True).click()
        page.get_by_role("link", name="Gia hạn hoặc mở lại đợt thi").click()
        page.wait_for_load_state()
        self.save(page, "mo-lai-dot-thi")

    ALL = ("dang_nhap", "menu_can_bo", "menu_dien_thoai", "tao_cuoc_thi", "cau_truc_de", "dot_thi", "nhap_cau_hoi",
           "trang_cuoc_thi", "bang_xep_hang", "don_vi", "mo_lai_dot_thi", "ket_qua_chinh_thuc", "phe_duyet",
           "xuat_ket_qua")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "guide" / "img")
    parser.add_argument("--only", default="", help="comma-separated picture functions (see --list)")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(Shots.ALL))
        return 0
    wanted = [name.strip() for name in args.only.split(",") if name.strip()] or list(Shots.ALL)
    unknown = set(wanted) - set(Shots.ALL)
    if unknown:
        parser.error(f"unknown pictures: {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="ce-guide-") as tmp:
        env = build_demo(Path(tmp))
        server = Server(env)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--disable-gpu"])
                shots = Shots(server.url, args.out, browser)
                for name in wanted:
                    step: Callable[[], None] = getattr(shots, name)
                    step()
                browser.close()
        finally:
            server.stop()
    for path in shots.made:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    print(f"guide_screenshots: {len(shots.made)} picture(s) at {dt.datetime.now():%d/%m/%Y %H:%M}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
