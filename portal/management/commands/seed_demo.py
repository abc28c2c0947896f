from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from portal.demo import DemoContext, default_password


class Command(BaseCommand):
    help = "建立上海演示数据（机构、每个角色一个登录账号、学校、专业、学生……）；可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument("--password", default=None, help="演示账号密码（默认取 DEMO_PASSWORD）")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="在 DEBUG 关闭时仍然建立演示数据（会创建使用公开密码的账号，仅用于演示环境）",
        )

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED and not options["allow_production"]:
            raise CommandError(
                "本环境不允许演示数据（DEBUG 关闭且未设置 PORTAL_ALLOW_DEMO）：演示数据会创建使用公开密码的账号。"
                "确需在演示环境建立请加 --allow-production。"
            )
        ctx = DemoContext(password=options["password"] or default_password())
        # Demo logins have invented addresses: keep the notifications' e-mail out of the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if find_spec(module_name) is None:
                    continue
                import_module(module_name).build(ctx)
                self.stdout.write(f"  {config.verbose_name}: ok")
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪：{len(ctx.users)} 个账号，密码 {ctx.password}"))
