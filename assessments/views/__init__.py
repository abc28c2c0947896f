"""Pages of assessment batches, one module per part; each module lists its own ``urlpatterns``."""
