"""Small customer definitions built in Python, for platform tests."""

from protocol.identifiers import Iccid
from simulator.platform.customer import CustomerFile

FIRST_ICCID = Iccid.from_body("894620009000000000")


def customer(
    *,
    sims: int = 4,
    state: str = "TEST_READY",
    after_test: str = "ACTIVATED",
    rules: list[dict] | None = None,
    rate_plan: dict | None = None,
    trial_days: float | None = 2.0,
    imei_lock: bool = False,
) -> CustomerFile:
    return CustomerFile.model_validate(
        {
            "customer": "Fixture Oy",
            "accounts": [
                {
                    "id": "fixture",
                    "name": "Fixture Oy",
                    "kind": "enterprise",
                    "settings": {
                        "test_quota": "20 KB",
                        "after_test": after_test,
                        "trial_days": trial_days,
                        "after_trial": "DEACTIVATED",
                    },
                },
            ],
            "communication_plans": [
                {
                    "name": "meters",
                    "apns": [{"name": "iot.fixture"}],
                    "networks": [{"mcc_mnc": "24491"}],
                    "radio_types": ["NB-IoT"],
                },
            ],
            "rate_plans": [
                rate_plan or {"name": "small", "allowance": "1 MB", "overage_limit": "100 KB"},
                {"name": "large", "allowance": "1 GB"},
            ],
            "sim_ranges": [
                {
                    "first_iccid": str(FIRST_ICCID),
                    "count": sims,
                    "account": "fixture",
                    "communication_plan": "meters",
                    "rate_plan": (rate_plan or {"name": "small"})["name"],
                    "first_imsi": "244910000000001",
                    "state": state,
                    "imei_lock": imei_lock,
                },
            ],
            "automation_rules": rules or [],
        },
    )
