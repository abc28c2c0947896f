from django.core.management.base import BaseCommand

from portal.demo import demo_users, login_hint


class Command(BaseCommand):
    help = "列出演示账号：用户名<TAB>角色<TAB>所属机构（每个账号一行）；加 --hints 再列出该账号登录后有什么待办。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--hints", action="store_true", help="第四列：登录后首页上等着该账号的事项（由数据算出）"
        )

    def handle(self, *args, **options):
        for user in demo_users():
            roles = ",".join(sorted(r.role for r in user.roles.all()))
            line = f"{user.username}\t{roles}\t{user.organisation}"
            if options["hints"]:
                line += f"\t{login_hint(user)}"
            self.stdout.write(line)
