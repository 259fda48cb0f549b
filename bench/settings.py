"""Settings of the benchmarked server: production settings, with the per-IP limits on public
submissions turned off, because every benchmark client comes from the one loopback address (one
counter row that 32 clients would queue on, which real clients from many addresses do not), and
the Open311 per-client and per-phone limits raised out of reach but still counted, as they are in
production for a hotline system submitting through one key."""

from chuangwen.settings import *  # noqa: F403

APPEALS_RATE_LIMITS = {
    **{action: {"ip": None, "phone": "1000000/s"} for action in ("submit", "track", "read")},
    "open311": {"phone": "1000000/s", "client": "1000000/s"},
}

# The project's URLs plus the calibration view (a constant answer, for the calibration scenario).
ROOT_URLCONF = "bench.urls"
