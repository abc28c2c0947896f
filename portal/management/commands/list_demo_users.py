from django.core.management.base import BaseCommand

from portal.demo import demo_users


class Command(BaseCommand):
    help = "列出演示账号：用户名<TAB>角色<TAB>所属机构（每个账号一行）。"

    def handle(self, *args, **options):
        for user in demo_users():
            roles = ",".join(sorted(r.role for r in user.roles.all()))
            self.stdout.write(f"{user.username}\t{roles}\t{user.organisation}")
