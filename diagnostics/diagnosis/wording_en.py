"""The English customer messages: every cause's template and the words of the frame."""

from __future__ import annotations

from typing import Final

from diagnostics.diagnosis.wording import CustomerTest, Template, Words
from protocol.causes import Cause

__all__ = ["WORDS"]

_COUNTRIES: Final = {
    "DE": "Germany",
    "DK": "Denmark",
    "FI": "Finland",
    "FR": "France",
    "GB": "the United Kingdom",
    "KE": "Kenya",
    "NO": "Norway",
    "SE": "Sweden",
    "TZ": "Tanzania",
    "UG": "Uganda",
    "US": "the United States",
}

_SIM_OK: Final = "We checked the SIM card: it works normally."
_BOTH_OK: Final = "We checked the SIM card and the mobile network: both work normally."
_BACK: Final = "We will write to you again by {back_by}."
_NO_DATA: Final = ("It has not sent data since {started}.", "It cannot send data.")
_NO_SENDING: Final = (
    "It stopped sending data on {started}.",
    "It has stopped sending data.",
)
_EXPECTED: Final = ("We expect service back by {resumes}.", "")
_OUTAGE: Final = (
    "This is a fault in the mobile network, not in your devices.",
    "We have reported it to the network operator.",
    _BACK,
)

_TEMPLATES: Final = {
    Cause.BATTERY_DEPLETED: Template(
        subject="{Device}: the battery has run out",
        what="a flat battery",
        check="the battery readings in its last reports",
        saw=(
            (
                "Its battery was at {battery} in its last report.",
                "Its battery was running low in its last reports.",
            ),
        ),
        did=(_SIM_OK,),
        steps=(
            "Recharge or replace the battery of {device}.",
            (
                "If the battery ran down much faster than usual, tell us, "
                "and we will help find out why."
            ),
        ),
        resumes=("{Device} reports again as soon as it has power.",),
    ),
    Cause.POWER_LOSS: Template(
        subject="{Device} has lost power",
        what="a loss of power",
        check="the device's last reports before it stopped",
        saw=("It stopped all at once, after reports that showed a good signal and no warnings.",),
        did=(_SIM_OK,),
        steps=(
            "Check the power supply of {device}: cables, plug and fuse.",
            "Switch {device} off and on again.",
        ),
        resumes=("{Device} reports again within a few minutes of getting power back.",),
    ),
    Cause.FIRMWARE_HANG: Template(
        subject="{Device} has stopped sending data",
        opening=_NO_SENDING,
        what="a fault in the device's software",
        check="whether the device still keeps its connection open",
        saw=(
            (
                "Its SIM card is still connected to the mobile network, "
                "but no data arrives from the device."
            ),
        ),
        did=("This usually means the device's software has stopped responding.", _SIM_OK),
        steps=(
            "Switch {device} off and on again.",
            "Tell us which software version {device} runs, so we can look for a known fault.",
        ),
        resumes=("{Device} reports again within a few minutes of the restart.",),
    ),
    Cause.RECONNECT_STORM: Template(
        subject="{Device} reconnects too often",
        opening=(
            "It has reconnected very often since {started}.",
            "It reconnects very often.",
        ),
        what="the device reconnecting too often",
        check="how often the device connects",
        saw=("It connects many times an hour, which keeps it from sending data reliably.",),
        did=(
            "This comes from how the device's software retries after a failed connection.",
            _SIM_OK,
            "We will send you our guidelines for reconnecting devices by {back_by}.",
        ),
        steps=(
            (
                "Make {device} wait longer between connection attempts, "
                "with a random delay that grows after each failure."
            ),
            "Let the device restart its radio at most once an hour.",
        ),
        resumes=("{Device} stays connected once it waits longer between attempts.",),
    ),
    Cause.WRONG_APN: Template(
        subject="{Device} cannot send data: APN setting",
        opening=_NO_DATA,
        what="a setting on the device that our network does not know",
        check="which setting the device connects with",
        saw=(
            "It connects to the mobile network, but its APN setting is not one our network knows.",
        ),
        did=("This often happens after a software update.", _SIM_OK),
        steps=(
            (
                "Set the APN on {device} to exactly: {apn}",
                "Set the APN on {device} to the one we will send you by {back_by}.",
            ),
            "Restart {device}.",
        ),
        resumes=("{Device} can send data as soon as it uses the new APN setting.",),
    ),
    Cause.IMEI_BLACKLISTED: Template(
        subject="{Device} is refused by the mobile network",
        what="the mobile network refusing the device itself",
        check="why the mobile network refuses the device",
        saw=(
            (
                "The mobile network refuses the device with {imei_new}, not its SIM card.",
                "The mobile network refuses the device itself, not its SIM card.",
            ),
        ),
        did=("We have asked the network operator why, and will write to you again by {back_by}.",),
        steps=(
            "Tell us the identity number (IMEI) printed on the label of {device}.",
            (
                "If you need service sooner, tell us, and we will help you move the SIM card "
                "to a replacement device."
            ),
        ),
        resumes=("We cannot yet say when the network will accept this device again.",),
    ),
    Cause.DAMAGED_SIM: Template(
        subject="{Device}: the SIM card needs replacing",
        what="a damaged SIM card",
        check="the SIM card's attempts to connect",
        saw=(
            "The device still has power, but the mobile network no longer hears from its SIM card.",
        ),
        did=(
            "The SIM card appears to be damaged.",
            "We are sending you a new SIM card with the same service.",
            "We will tell you by {back_by} when it is on its way.",
        ),
        steps=(
            "When the new SIM card arrives, switch {device} off.",
            "Replace the old SIM card with the new one.",
            "Switch {device} on again.",
        ),
        resumes=("{Device} reports again a few minutes after it starts with the new SIM card.",),
    ),
    Cause.SIM_DEACTIVATED: Template(
        subject="{Device}: the SIM card is not active",
        what="an inactive SIM card",
        check="the status of the SIM card",
        saw=("Its SIM card is not active, so the mobile network refuses it.",),
        did=(
            "We are checking why the SIM card is no longer active.",
            "By {back_by}, we will activate it again or explain why it must stay inactive.",
        ),
        resumes=(
            (
                "Once the SIM card is active again, {device} reconnects by itself "
                "within about an hour."
            ),
        ),
    ),
    Cause.SIM_NOT_PROVISIONED: Template(
        subject="{Device}: the SIM card is not set up on our network",
        what="a SIM card that is not set up correctly on our network",
        check="how the SIM card is set up on our network",
        saw=("The mobile network does not recognise its SIM card.",),
        did=(
            "The SIM card is not set up correctly on our network.",
            "This is a fault on our side.",
            "We are setting the SIM card up again and will confirm by {back_by}.",
        ),
        steps=("When we confirm, switch {device} off and on again.",),
        resumes=("{Device} connects a few minutes after the restart.",),
    ),
    Cause.TEST_QUOTA_USED: Template(
        subject="{Device}: the SIM card's test allowance is used up",
        opening=_NO_SENDING,
        what="the end of the SIM card's free test allowance",
        check="the SIM card's test allowance",
        saw=("Its SIM card has used up its free test allowance and is waiting to be activated.",),
        did=("Activation starts billing for the SIM card, so we wait for your go-ahead.",),
        steps=(
            (
                "If {device} is ready for service, reply to this e-mail, "
                "and we will activate its SIM card."
            ),
        ),
        resumes=("{Device} connects again within about an hour of activation.",),
    ),
    Cause.DATA_LIMIT_REACHED: Template(
        subject="{Device}: data limit reached",
        opening=(
            "On {started}, it reached its data limit.",
            "It has reached its data limit.",
        ),
        what="the data limit being reached",
        check="the SIM card's data use in this billing period",
        saw=(
            (
                "The limit is {limit} for this billing period, and data is now blocked.",
                "Data is now blocked for the rest of this billing period.",
            ),
        ),
        did=(
            "We can raise the limit, or lift the block until the end of this billing period.",
            "Extra data is charged under your rate plan.",
        ),
        steps=("To restore service now, reply to this e-mail and tell us which you prefer.",),
        resumes=(
            (
                (
                    "Otherwise, service resumes by itself on {cycle_end}, "
                    "when the next billing period begins."
                ),
                "Otherwise, service resumes by itself when the next billing period begins.",
            ),
        ),
    ),
    Cause.IMEI_LOCK_MISMATCH: Template(
        subject="{Device}: the SIM card is in a different device",
        what="the SIM card being in a different device",
        check="which device the SIM card is in",
        saw=(
            (
                "That SIM card is now in the device with {imei_new}.",
                "That SIM card is now in a different device.",
            ),
            (
                (
                    "The SIM card is locked to the device with {imei_locked}, "
                    "so the network refuses it."
                ),
                "The SIM card is locked to its first device, so the network refuses it.",
            ),
        ),
        did=(
            (
                "The lock protects the SIM card from misuse, "
                "so we need your confirmation before we change it."
            ),
        ),
        steps=(
            "If you moved the SIM card on purpose, reply to this e-mail to confirm it.",
            "If you did not, tell us, and the SIM card stays locked.",
        ),
        resumes=(
            "Once we update the lock, the device with the SIM card connects within about an hour.",
        ),
    ),
    Cause.ROAMING_NOT_ALLOWED: Template(
        subject=(
            "{Device} cannot connect in {country}",
            "{Device} cannot connect to the network it found",
        ),
        what=(
            "a mobile network in {country} that the SIM card may not use",
            "a mobile network that the SIM card may not use",
        ),
        check="which networks the SIM card may use",
        saw=(
            (
                "It tried to connect through a mobile network in {country}.",
                "It tried to connect through a mobile network it found.",
            ),
            (
                "That network is not on the list of networks its SIM card may use, "
                "so it refused the device."
            ),
        ),
        did=(
            (
                "We are checking whether your rate plan covers {country}.",
                "We are checking whether your rate plan covers this network.",
            ),
            "If it does, we will add the network to the SIM card's list.",
            "If it does not, we will explain your options.",
            _BACK,
        ),
        resumes=(
            "Once we add the network, {device} connects again by itself within about an hour.",
            (
                "While it has no connection, the device restarts its radio about once an hour, "
                "and then tries again on networks that refused it."
            ),
        ),
    ),
    Cause.RADIO_TYPE_NOT_ALLOWED: Template(
        subject=("{Device} cannot connect with {radio}", "{Device} cannot connect with its radio"),
        what="a radio type the SIM card may not use on that network",
        check="which radio types the SIM card may use",
        saw=(
            (
                "It tries to connect with {radio}, which its SIM card may not use in {country}.",
                "It tries to connect with {radio}, which its SIM card may not use on that network.",
                "It uses a radio type that its SIM card may not use on that network.",
            ),
            ("Its SIM card may use {radios}.", ""),
        ),
        did=(
            (
                "We are checking whether we can allow {radio} for the SIM card.",
                "We are checking whether we can allow that radio type for the SIM card.",
            ),
            _BACK,
        ),
        steps=(("If {device} can also use {radios}, you can switch it over now.", ""),),
        resumes=("{Device} connects as soon as it uses a radio type its SIM card may use.",),
    ),
    Cause.PRIVATE_APN_CREDENTIALS: Template(
        subject="{Device}: its login to your private APN is refused",
        opening=_NO_DATA,
        what="login details that your private network refuses",
        check="the login details the device sends",
        saw=(
            (
                "It connects to the mobile network, "
                "but your private APN refuses its username or password."
            ),
        ),
        did=(_BOTH_OK,),
        steps=(
            "Check the username and password set for the private APN on {device}.",
            "Compare them with the ones your network team set up.",
            "If they differ, correct them on the device and restart it.",
        ),
        resumes=("{Device} can send data as soon as its username and password are accepted.",),
    ),
    Cause.COVERAGE_LOSS: Template(
        subject="{Device}: mobile signal lost",
        what="weak mobile coverage where the device is",
        check=("the mobile coverage around {site}", "the mobile coverage where the device is"),
        saw=("Its signal grew weaker in its last reports, until it lost the mobile network.",),
        did=(
            _SIM_OK,
            (
                "We are checking the mobile coverage around {site}.",
                "We are checking the mobile coverage where the device is.",
            ),
            _BACK,
        ),
        steps=(
            "Tell us if {device} may have moved to a new area.",
            "If you can reach {device}, check that its antenna is undamaged and not covered.",
        ),
        resumes=("{Device} connects again by itself as soon as it has a usable signal.",),
    ),
    Cause.CELL_OUTAGE: Template(
        subject="{Device}: local mobile network outage",
        what="an outage of the local mobile mast",
        check="the mobile mast that serves the device",
        saw=("Other devices using the same mobile mast stopped at the same time.",),
        did=_OUTAGE,
        resumes=(
            _EXPECTED,
            "Your devices connect again by themselves when the mast is back.",
        ),
    ),
    Cause.OPERATOR_OUTAGE: Template(
        subject="{Device}: mobile network outage",
        what="an outage of the mobile network",
        check="the state of the mobile network",
        saw=(
            (
                "Many devices on the same mobile network in {country} stopped at the same time.",
                "Many devices on the same mobile network stopped at the same time.",
            ),
        ),
        did=_OUTAGE,
        resumes=(
            _EXPECTED,
            "Your devices connect again by themselves when the network is back.",
            (
                "Devices within reach of another network allowed for their SIM card "
                "may connect through it sooner."
            ),
        ),
    ),
    Cause.APN_GATEWAY_OUTAGE: Template(
        subject="{Device}: data connection outage",
        opening=_NO_DATA,
        what="a fault in our network's data connections",
        check="our network's data connections",
        saw=(
            (
                "It connects to the mobile network, "
                "but our network refuses to open its data connection."
            ),
        ),
        did=(
            "This is a fault in our network, not in your devices.",
            "Our network team is working on it.",
            _BACK,
        ),
        resumes=(
            _EXPECTED,
            "Your devices retry by themselves and connect again once it is fixed.",
        ),
    ),
    Cause.CONGESTION: Template(
        subject="{Device}: the mobile network is busy",
        opening=(
            "It has been waiting to connect since {started}.",
            "It is waiting to connect.",
        ),
        what="an overloaded mobile network",
        check="how busy the mobile network is",
        saw=(
            "The mobile network is overloaded and has asked devices to wait before they try again.",
        ),
        did=(
            "This is a network problem, not a fault in your devices.",
            (
                "Please do not restart the device: each restart adds to the load and can make "
                "the wait longer."
            ),
        ),
        resumes=(
            (
                "The wait ends on {resumes}, and {device} then tries again by itself.",
                "{Device} tries again by itself when the wait ends. " + _BACK,
            ),
        ),
    ),
    Cause.IPSEC_TUNNEL_DOWN: Template(
        subject="{Device}: the VPN tunnel to your network is down",
        opening=_NO_DATA,
        what="the VPN tunnel to your network being down",
        check="the VPN tunnel between our network and yours",
        saw=(
            (
                "It connects to the mobile network, "
                "but the VPN tunnel between our network and yours is down."
            ),
        ),
        did=("Our network team is checking our end of the tunnel.", _BACK),
        steps=(
            "Ask your network team to check your end of the VPN tunnel.",
            "Ask them to reply to this e-mail, so both teams can test the tunnel together.",
        ),
        resumes=("Your devices send data again as soon as the tunnel is up.",),
    ),
    Cause.BROKER_UNREACHABLE: Template(
        subject="{Device}: data is not reaching your server",
        opening=(
            "Its data has not reached your server since {started}.",
            "Its data does not reach your server.",
        ),
        what="a problem reaching your server",
        check="whether data from the device leaves our network towards your server",
        saw=("It is connected to the mobile network and is sending data.",),
        did=(_BOTH_OK, "The problem lies between our network and your server."),
        steps=(
            "Check that your server is running and reachable from the internet.",
            "Check that the server's name still points to the right address.",
            "Check that the login details and certificates the device uses are still valid.",
        ),
        resumes=("Data arrives again as soon as your server accepts the device's connection.",),
    ),
}

WORDS: Final = Words(
    greeting="Hello,",
    closing="Kind regards,",
    steps_heading="What to do:",
    nothing_to_do="You do not need to do anything.",
    nothing_yet="You do not need to do anything yet.",
    months=(
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    time="{day} {month} {year} at {hm} ({zone})",
    zone="{zone} time",
    utc="UTC",
    or_="or",
    percent="{n}%",
    decimal=".",
    your_device=("your device {id}", "your device"),
    sim="SIM card ending {last4}",
    site="site {site}",
    imei="identity number (IMEI) ending {last4}",
    countries=_COUNTRIES,
    about="We are writing about {who}.",
    down=("It stopped reporting on {started}.", "It has stopped reporting."),
    unwell=("It has not worked normally since {started}.", "It is not working normally."),
    unsure_subject_down="{Device} has stopped reporting: we are checking why",
    unsure_subject_unwell="{Device} is not working normally: we are checking why",
    likely="The most likely cause is {what}.",
    also="It could also be {what}.",
    check_first="We will check {check}.",
    check_more="We will also check {check}.",
    write_back=_BACK,
    healthy=Template(
        subject="{Device} is reporting normally",
        opening="It reports normally.",
        saw=(
            ("Its last report arrived on {last_report}.", "We checked it on {checked}."),
            ("{verdict_note}", ""),
        ),
        did=("We found no fault with the device or its SIM card.",),
    ),
    down_unknown=Template(
        subject="{Device} has stopped reporting: we are looking into it",
        saw=("We have not found the cause yet.",),
        did=("We are looking into it and will write to you again by {back_by}.",),
    ),
    no_data=Template(
        subject="{Device}: not enough reports yet",
        opening="It has not sent enough reports yet for us to judge how it works.",
        did=("We will keep watching it and write to you again by {back_by}.",),
    ),
    verdict_notes={
        "ASLEEP": "It is asleep between reports, as planned, to save battery.",
        "LATE": "Its next report is a little late, but still within the normal range.",
    },
    tests={
        "swap": CustomerTest(
            intro="A simple test would help us find the cause: "
            "swapping SIM cards between two devices.",
            if_locked="Before you start, tell us the day of the test, "
            "so we can unlock the SIM card for it.",
            steps=(
                "Switch off {device} and another of your devices that works normally.",
                (
                    (
                        "Put the SIM card ending {last4} in the working device, "
                        "and that device's SIM card in {device}."
                    ),
                    (
                        "Put the SIM card of {device} in the working device, "
                        "and that device's SIM card in {device}."
                    ),
                ),
                "Switch both devices on and leave them on for at least an hour.",
                (
                    "Reply to this e-mail when you have done it, "
                    "and we will compare both devices and tell you the result."
                ),
            ),
        ),
        "recharge": CustomerTest(
            intro="If you can reach {device}, a simple test would help us find the cause.",
            steps=(
                "Recharge or replace the battery of {device}.",
                "Reply to this e-mail when you have done it, and we will tell you what we see.",
            ),
        ),
        "restart": CustomerTest(
            intro="A simple test would help us find the cause: restarting the device.",
            steps=(
                "Switch {device} off, wait one minute, and switch it on again.",
                "Reply to this e-mail when you have done it, and we will tell you what we see.",
            ),
        ),
    },
    templates=_TEMPLATES,
)
