"""The official units of Cần Thơ (Nghị quyết 1668/NQ-UBTVQH15) and the load_units command."""

from __future__ import annotations

import unicodedata
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Organisation, OrganisationKind
from accounts.organisations import UNITS_DIR, read_units, vietnamese_slug

CAN_THO = UNITS_DIR / "92-can-tho.csv"


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_units", *args, stdout=out)
    return out.getvalue()


class TestCanThoDataFile:
    """The data file itself: exactly the 103 units of the resolution, 31 phường + 72 xã."""

    def test_counts_and_kinds(self):
        rows = read_units(CAN_THO)
        assert len(rows) == 103
        assert sum(row["kind"] == "ward" for row in rows) == 31
        assert sum(row["kind"] == "commune" for row in rows) == 72
        assert len({row["name"] for row in rows}) == 103

    def test_names_match_kinds(self):
        for row in read_units(CAN_THO):
            word = "Phường " if row["kind"] == "ward" else "Xã "
            assert row["name"].startswith(word), row
            assert row["name"] == unicodedata.normalize("NFC", row["name"])
            assert row["province_code"] == "92"
            assert row["province_name"] == "Thành phố Cần Thơ"

    def test_codes_are_official_five_digit_codes(self):
        codes = [row["code"] for row in read_units(CAN_THO)]
        assert len(set(codes)) == 103
        assert all(len(code) == 5 and code.isdigit() for code in codes)
        assert {row["code"]: row["name"] for row in read_units(CAN_THO)}["31135"] == "Phường Ninh Kiều"

    def test_units_left_unchanged_by_the_resolution_are_present(self):
        names = {row["name"] for row in read_units(CAN_THO)}
        unchanged = {"Phường Tân Lộc", "Xã Trường Long", "Xã Thạnh Phú", "Xã Thới Hưng", "Xã Phong Nẫm",
                     "Xã Mỹ Phước", "Xã Lai Hòa", "Xã Vĩnh Hải"}
        assert unchanged <= names


@pytest.mark.django_db
class TestLoadUnits:
    def test_loads_city_and_units_by_province_code(self):
        output = run("92")
        city = Organisation.objects.get(kind=OrganisationKind.CITY, official_code="92")
        assert city.name == "Thành phố Cần Thơ"
        assert city.slug == "can-tho"
        assert city.is_unit is False
        units = Organisation.objects.filter(parent=city)
        assert units.count() == 103
        assert units.filter(kind=OrganisationKind.WARD).count() == 31
        assert units.filter(kind=OrganisationKind.COMMUNE).count() == 72
        assert not units.filter(is_unit=False).exists()
        ninh_kieu = units.get(official_code="31135")
        assert ninh_kieu.name == "Phường Ninh Kiều"
        assert ninh_kieu.slug == "can-tho-phuong-ninh-kieu"
        assert "(created): units 103 created, 0 updated, 0 unchanged" in output

    def test_second_run_changes_nothing(self):
        run("92")
        before = list(Organisation.objects.order_by("pk").values())
        output = run(str(CAN_THO))
        assert list(Organisation.objects.order_by("pk").values()) == before
        assert "0 created, 0 updated, 103 unchanged" in output

    def test_corrections_are_applied_in_place(self):
        run("92")
        unit = Organisation.objects.get(official_code="31135")
        Organisation.objects.filter(pk=unit.pk).update(name="Phường Cũ", is_active=False)
        run("92")
        unit.refresh_from_db()
        assert unit.name == "Phường Ninh Kiều"
        assert unit.is_active is True
        assert Organisation.objects.filter(official_code="31135").count() == 1

    def test_a_unit_that_changes_kind_keeps_its_row(self, tmp_path):
        """A commune that becomes a ward keeps its code: same organisation, kind updated."""
        header = "code,name,kind,province_code,province_name\n"
        path = tmp_path / "98-x.csv"
        path.write_text(header + "98001,Xã Bình An,commune,98,Tỉnh X\n", encoding="utf-8")
        run(str(path))
        unit = Organisation.objects.get(official_code="98001")
        path.write_text(header + "98001,Phường Bình An,ward,98,Tỉnh X\n", encoding="utf-8")
        run(str(path))
        assert Organisation.objects.filter(official_code="98001").count() == 1
        unit.refresh_from_db()
        assert (unit.kind, unit.name) == (OrganisationKind.WARD, "Phường Bình An")

    def test_city_name_option(self):
        run("92", "--city-name", "TP. Cần Thơ")
        assert Organisation.objects.get(kind=OrganisationKind.CITY).name == "TP. Cần Thơ"
        run("92")  # matched by code, renamed back to the file's name
        assert Organisation.objects.filter(kind=OrganisationKind.CITY).count() == 1

    def test_another_province_in_the_same_format(self, tmp_path):
        path = tmp_path / "99-thu.csv"
        path.write_text(
            "# test province\n"
            "code,name,kind,province_code,province_name\n"
            "99001,Phường Một,ward,99,Tỉnh Thử Nghiệm\n"
            ",Xã Đồng Tháp Mười,commune,99,Tỉnh Thử Nghiệm\n"
            "99003,Đặc khu Đảo Xa,special_zone,99,Tỉnh Thử Nghiệm\n",
            encoding="utf-8",
        )
        run(str(path))
        run(str(path))
        province = Organisation.objects.get(kind=OrganisationKind.CITY, official_code="99")
        assert province.slug == "thu-nghiem"
        assert set(province.children.values_list("name", "kind")) == {
            ("Phường Một", OrganisationKind.WARD),
            ("Xã Đồng Tháp Mười", OrganisationKind.COMMUNE),
            ("Đặc khu Đảo Xa", OrganisationKind.SPECIAL_ZONE),
        }
        # a unit without a code is matched by name on the second run: no duplicate
        assert province.children.get(name="Xã Đồng Tháp Mười").slug == "thu-nghiem-xa-dong-thap-muoi"

    @pytest.mark.parametrize(("body", "message"), [
        ("code,name,kind\n1,Xã A,commune\n", "header"),
        ("code,name,kind,province_code,province_name\n1,Xã A,village,99,Tỉnh B\n", "kind"),
        ("code,name,kind,province_code,province_name\n1,Xã A,commune,99,Tỉnh B\n1,Xã C,commune,99,Tỉnh B\n",
         "twice"),
        ("code,name,kind,province_code,province_name\n1,Xã A,commune,99,Tỉnh B\n2,Xã C,commune,98,Tỉnh D\n",
         "one province"),
    ])
    def test_malformed_files_are_refused_whole(self, tmp_path, body, message):
        path = tmp_path / "bad.csv"
        path.write_text(body, encoding="utf-8")
        with pytest.raises(CommandError, match=message):
            run(str(path))
        assert not Organisation.objects.exists()

    def test_unknown_source(self):
        with pytest.raises(CommandError, match="No units file"):
            run("77")


def test_vietnamese_slug():
    assert vietnamese_slug("Phường Đại Thành") == "phuong-dai-thanh"
    assert vietnamese_slug("Xã Hỏa Lựu") == "xa-hoa-luu"
    assert vietnamese_slug("Xã Vị Thanh 1") == "xa-vi-thanh-1"
