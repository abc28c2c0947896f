"""URLs arrive with this app's issue; the access-matrix test covers each one as it is added."""

urlpatterns: list = []
