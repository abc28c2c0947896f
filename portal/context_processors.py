from django.conf import settings

from portal.navigation import menu_for


def portal(request) -> dict:
    user = request.user
    context = {"PORTAL_NAME": settings.PORTAL_NAME}
    if user.is_authenticated:
        context["unread_count"] = user.notifications.filter(read_at__isnull=True).count()
        context["menu"] = menu_for(user)
    return context
