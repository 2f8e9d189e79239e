"""Load a province's official commune-level units (accounts/data/units/*.csv) as organisations."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.organisations import UnitFileError, resolve_units_file, units_load


class Command(BaseCommand):
    help = ("Create or update the city/province organisation and its wards, communes and special zones "
            "from a units CSV. Safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("source", help="Path to a units CSV, or a province code (e.g. 92 for Cần Thơ).")
        parser.add_argument("--city-name", default=None,
                            help="Name of the city/province organisation (default: province_name in the file).")

    def handle(self, *args, **options):
        try:
            path = resolve_units_file(options["source"])
            report = units_load(path=path, city_name=options["city_name"])
        except UnitFileError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{report.city} ({'created' if report.city_created else 'existing'}): "
            f"units {len(report.created)} created, {len(report.updated)} updated, "
            f"{report.unchanged} unchanged ({path})"
        )
        if options["verbosity"] > 1:
            for name in report.created:
                self.stdout.write(f"  + {name}")
            for name in report.updated:
                self.stdout.write(f"  ~ {name}")
