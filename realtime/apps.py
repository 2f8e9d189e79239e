import gc

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Thời gian thực"

    def ready(self) -> None:
        from django.conf import settings

        # In ready(), not at the top: the receivers load models, which wait for the app registry.
        from realtime import receivers

        receivers.connect()
        if getattr(settings, "REALTIME_GC_FREEZE", True):
            # A server holding 10,000 sockets has millions of long-lived objects; every full collection
            # walks them all (stalls of hundreds of ms, see /work/shared/PERFORMANCE.md). Objects alive once
            # the apps are loaded (modules, models, URL and template machinery) never die: move them to the
            # permanent generation, and collect the young generation less often.
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, 20, 100)
