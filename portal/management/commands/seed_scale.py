import time
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from portal.numbering import next_number
from portal.scale import ScaleContext, ScaleSize

BATCH_COUNTER = "seed_scale:batch"


class Command(BaseCommand):
    help = (
        "加入一批全市规模的测量数据（约120所学校、3,000个专业、150,000名毕业学年学生、120家评价机构、"
        "600份各状态的备案申请），用于性能测量；每运行一次加入一批新的数据（名称、代码、证件号码互不重复）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--factor",
            type=float,
            default=1.0,
            help="规模系数（默认1.0即全市规模；测试可用0.02等小系数）",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="在 DEBUG 关闭时仍然加入测量数据（仅用于测量环境）",
        )
        parser.add_argument("--no-analyze", action="store_true", help="结束后不运行 ANALYZE")

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED and not options["allow_production"]:
            raise CommandError(
                "本环境不允许演示或测量数据（DEBUG 关闭且未设置 PORTAL_ALLOW_DEMO）：会加入大量虚构的学校和学生。"
                "确需在测量环境建立请加 --allow-production。"
            )
        if options["factor"] <= 0:
            raise CommandError("--factor 应大于0。")
        size = ScaleSize.scaled(options["factor"]) if options["factor"] != 1.0 else ScaleSize()
        started = time.monotonic()
        with transaction.atomic():
            batch = next_number(BATCH_COUNTER)
            self.stdout.write(f"第 {batch} 批测量数据：{size}")
            ctx = ScaleContext(batch=batch, size=size, log=self.stdout.write)
            for config in apps.get_app_configs():
                module_name = f"{config.name}.scale"
                if find_spec(module_name) is None:
                    continue
                self.stdout.write(f"  {config.verbose_name}")
                import_module(module_name).build(ctx)
        if connection.vendor == "postgresql" and not options["no_analyze"]:
            # Fresh statistics and visibility map, so the planner sees the city and counts can use index-only scans.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
        summary = "，".join(f"{k} {v:,}" for k, v in ctx.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"第 {batch} 批测量数据已加入（{time.monotonic() - started:.0f} 秒）：{summary}")
        )
