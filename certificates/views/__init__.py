"""The certificates app's pages, one module per area; ``certificates.urls`` joins their ``urlpatterns``."""
