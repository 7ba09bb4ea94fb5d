"""Subscriber and device identifiers (ICCID, IMSI, IMEI, MSISDN) as validated value types.

The idea: an identifier that exists is a valid one. Each type is a frozen
dataclass that checks its shape in `__post_init__` and refuses a bad value with
an `InvalidIdentifierError` naming the kind, the value and what is wrong, so a
typo in an onboarding file is reported where it is read, not three services
later. ICCIDs and IMEIs end in a Luhn check digit, which catches every
single-digit error and every adjacent transposition except 09/90.

Positions in error messages count from 0, like Python indices.

Bulk onboarding works on consecutive ranges (`iccid_range` and friends): the
counting part of an identifier (the ICCID digits after "89", the IMSI's MSIN,
the IMEI's serial, the whole MSISDN) is incremented at a fixed width, and each
ICCID or IMEI gets its own check digit. A range that would outgrow that width
is refused up front rather than wrapping into a neighbouring field.

Each type is also a pydantic field type: it validates from its text form
(separators allowed in MSISDNs), serialises back to that text, and documents
itself in JSON schema with a pattern.

One module per kind (`iccid`, `imsi`, `imei`, `msisdn`), each with its ranges;
`checks` holds the error, Luhn and the checks they share, `field` the pydantic
side and `ranges` the counting.
"""

from protocol.identifiers.checks import InvalidIdentifierError, luhn_check_digit, luhn_is_valid
from protocol.identifiers.iccid import Iccid, iccid_range, iccid_range_last, iccid_texts
from protocol.identifiers.imei import Imei, imei_range, imei_range_last, imei_texts
from protocol.identifiers.imsi import MCCS_WITH_THREE_DIGIT_MNC, Imsi, imsi_range, imsi_range_last
from protocol.identifiers.msisdn import Msisdn, msisdn_range, msisdn_range_last

__all__ = [
    "MCCS_WITH_THREE_DIGIT_MNC",
    "Iccid",
    "Imei",
    "Imsi",
    "InvalidIdentifierError",
    "Msisdn",
    "iccid_range",
    "iccid_range_last",
    "iccid_texts",
    "imei_range",
    "imei_range_last",
    "imei_texts",
    "imsi_range",
    "imsi_range_last",
    "luhn_check_digit",
    "luhn_is_valid",
    "msisdn_range",
    "msisdn_range_last",
]
