"""seed_demo: statistics (through the services) — the materialised figures, as the nightly beat job leaves them."""


def build(ctx) -> None:
    """Compute the city's certificate, result and overview figures once, after every earlier part
    (batches, certificates, sanctions) has written its rows: the pages then show an as-of time."""
    from oversight.services.statistics import figures_refresh

    figures_refresh()
