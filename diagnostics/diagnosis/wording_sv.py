"""The Swedish customer messages: every cause's template and the words of the frame.

Natural Swedish, not a word-for-word translation: the same facts and the same
steps as the English. Customers are addressed as "ni" (a company), and the SIM
card is always "SIM-kort", never "abonnemang".
"""

from __future__ import annotations

from typing import Final

from diagnostics.diagnosis.wording import CustomerTest, Template, Words
from protocol.causes import Cause

__all__ = ["WORDS"]

_COUNTRIES: Final = {
    "DE": "Tyskland",
    "DK": "Danmark",
    "FI": "Finland",
    "FR": "Frankrike",
    "GB": "Storbritannien",
    "KE": "Kenya",
    "NO": "Norge",
    "SE": "Sverige",
    "TZ": "Tanzania",
    "UG": "Uganda",
    "US": "USA",
}

_SIM_OK: Final = "Vi har kontrollerat SIM-kortet, och det fungerar normalt."
_BOTH_OK: Final = "Vi har kontrollerat SIM-kortet och mobilnätet, och båda fungerar normalt."
_BACK: Final = "Vi återkommer senast den {back_by}."
_NO_DATA: Final = (
    "Den har inte skickat data sedan den {started}.",
    "Den kan inte skicka data.",
)
_NO_SENDING: Final = (
    "Den slutade skicka data den {started}.",
    "Den har slutat skicka data.",
)
_EXPECTED: Final = ("Vi räknar med att tjänsten är tillbaka senast den {resumes}.", "")
_OUTAGE: Final = (
    "Felet ligger i mobilnätet, inte i era enheter.",
    "Vi har anmält det till nätoperatören.",
    _BACK,
)

_TEMPLATES: Final = {
    Cause.BATTERY_DEPLETED: Template(
        subject="{Device}: batteriet har tagit slut",
        what="ett urladdat batteri",
        check="batterinivån i de senaste rapporterna",
        saw=(
            (
                "I den senaste rapporten var batteriet nere på {battery}.",
                "Batteriet var nästan slut i de senaste rapporterna.",
            ),
        ),
        did=(_SIM_OK,),
        steps=(
            "Ladda eller byt batteriet i {device}.",
            (
                "Hör av er om batteriet tog slut mycket fortare än vanligt, "
                "så hjälper vi er att ta reda på varför."
            ),
        ),
        resumes=("{Device} rapporterar igen så snart den har ström.",),
    ),
    Cause.POWER_LOSS: Template(
        subject="{Device} har tappat strömmen",
        what="ett strömbortfall",
        check="enhetens sista rapporter innan den tystnade",
        saw=("Den tystnade plötsligt, efter rapporter med bra signal och utan varningar.",),
        did=(_SIM_OK,),
        steps=(
            "Kontrollera strömförsörjningen till {device}: kablar, kontakt och säkring.",
            "Stäng av {device} och starta den igen.",
        ),
        resumes=("{Device} rapporterar igen inom några minuter efter att strömmen är tillbaka.",),
    ),
    Cause.FIRMWARE_HANG: Template(
        subject="{Device} har slutat skicka data",
        opening=_NO_SENDING,
        what="ett fel i enhetens programvara",
        check="om enheten fortfarande håller sin anslutning öppen",
        saw=(
            (
                "SIM-kortet är fortfarande anslutet till mobilnätet, "
                "men ingen data kommer från enheten."
            ),
        ),
        did=("Det betyder oftast att enhetens programvara har hängt sig.", _SIM_OK),
        steps=(
            "Stäng av {device} och starta den igen.",
            "Berätta vilken programvaruversion {device} har, så att vi kan leta efter kända fel.",
        ),
        resumes=("{Device} rapporterar igen inom några minuter efter omstarten.",),
    ),
    Cause.RECONNECT_STORM: Template(
        subject="{Device} ansluter för ofta",
        opening=(
            "Den har anslutit väldigt ofta sedan den {started}.",
            "Den ansluter väldigt ofta.",
        ),
        what="att enheten ansluter för ofta",
        check="hur ofta enheten ansluter",
        saw=(
            "Den ansluter många gånger i timmen, vilket gör att data inte kommer fram pålitligt.",
        ),
        did=(
            "Det beror på hur enhetens programvara försöker igen efter en misslyckad anslutning.",
            _SIM_OK,
            "Senast den {back_by} skickar vi våra riktlinjer för hur enheter bör återansluta.",
        ),
        steps=(
            (
                "Låt {device} vänta längre mellan anslutningsförsöken, "
                "med en slumpmässig fördröjning som växer efter varje misslyckat försök."
            ),
            "Låt enheten starta om sin radio högst en gång i timmen.",
        ),
        resumes=("{Device} håller sig ansluten när den väntar längre mellan försöken.",),
    ),
    Cause.WRONG_APN: Template(
        subject="{Device} kan inte skicka data: APN-inställningen",
        opening=_NO_DATA,
        what="en inställning i enheten som vårt nät inte känner till",
        check="vilken inställning enheten ansluter med",
        saw=(
            (
                "Den ansluter till mobilnätet, "
                "men dess APN-inställning är inte en som vårt nät känner till."
            ),
        ),
        did=("Det händer ofta efter en programuppdatering.", _SIM_OK),
        steps=(
            (
                "Ställ in APN på {device} till exakt: {apn}",
                "Ställ in APN på {device} till det som vi skickar senast den {back_by}.",
            ),
            "Starta om {device}.",
        ),
        resumes=("{Device} kan skicka data så snart den använder den nya APN-inställningen.",),
    ),
    Cause.IMEI_BLACKLISTED: Template(
        subject="{Device} nekas av mobilnätet",
        what="att mobilnätet nekar själva enheten",
        check="varför mobilnätet nekar enheten",
        saw=(
            (
                "Mobilnätet nekar enheten med {imei_new}, inte dess SIM-kort.",
                "Mobilnätet nekar själva enheten, inte dess SIM-kort.",
            ),
        ),
        did=("Vi har frågat nätoperatören varför och återkommer senast den {back_by}.",),
        steps=(
            "Berätta vilket identitetsnummer (IMEI) som står på etiketten på {device}.",
            (
                "Hör av er om ni behöver tjänsten tidigare, "
                "så hjälper vi er att flytta SIM-kortet till en ersättningsenhet."
            ),
        ),
        resumes=("Vi kan ännu inte säga när nätet godkänner enheten igen.",),
    ),
    Cause.DAMAGED_SIM: Template(
        subject="{Device}: SIM-kortet behöver bytas",
        what="ett skadat SIM-kort",
        check="SIM-kortets försök att ansluta",
        saw=(
            (
                "Enheten har fortfarande ström, "
                "men mobilnätet hör inte längre något från dess SIM-kort."
            ),
        ),
        did=(
            "SIM-kortet verkar vara skadat.",
            "Vi skickar ett nytt SIM-kort med samma tjänst.",
            "Senast den {back_by} meddelar vi när det är på väg.",
        ),
        steps=(
            "Stäng av {device} när det nya SIM-kortet har kommit.",
            "Byt ut det gamla SIM-kortet mot det nya.",
            "Starta {device} igen.",
        ),
        resumes=(
            (
                "{Device} rapporterar igen några minuter efter att den har startat "
                "med det nya SIM-kortet."
            ),
        ),
    ),
    Cause.SIM_DEACTIVATED: Template(
        subject="{Device}: SIM-kortet är inte aktivt",
        what="ett SIM-kort som inte är aktivt",
        check="SIM-kortets status",
        saw=("Dess SIM-kort är inte aktivt, så mobilnätet nekar det.",),
        did=(
            "Vi tar reda på varför SIM-kortet inte längre är aktivt.",
            (
                "Senast den {back_by} aktiverar vi det igen eller förklarar varför det måste "
                "förbli inaktivt."
            ),
        ),
        resumes=(
            "När SIM-kortet är aktivt igen ansluter {device} av sig själv inom ungefär en timme.",
        ),
    ),
    Cause.SIM_NOT_PROVISIONED: Template(
        subject="{Device}: SIM-kortet är inte upplagt i vårt nät",
        what="ett SIM-kort som inte är korrekt upplagt i vårt nät",
        check="hur SIM-kortet är upplagt i vårt nät",
        saw=("Mobilnätet känner inte igen dess SIM-kort.",),
        did=(
            "SIM-kortet är inte korrekt upplagt i vårt nät.",
            "Felet ligger hos oss.",
            "Vi lägger upp SIM-kortet på nytt och bekräftar senast den {back_by}.",
        ),
        steps=("Stäng av {device} och starta den igen när vi har bekräftat.",),
        resumes=("{Device} ansluter några minuter efter omstarten.",),
    ),
    Cause.TEST_QUOTA_USED: Template(
        subject="{Device}: SIM-kortets testkvot är slut",
        opening=_NO_SENDING,
        what="att SIM-kortets kostnadsfria testkvot är slut",
        check="SIM-kortets testkvot",
        saw=(
            "Dess SIM-kort har använt upp sin kostnadsfria testkvot och väntar på att aktiveras.",
        ),
        did=("När SIM-kortet aktiveras börjar det faktureras, så vi väntar på ert klartecken.",),
        steps=(
            (
                "Svara på det här mejlet om {device} är redo att tas i drift, "
                "så aktiverar vi dess SIM-kort."
            ),
        ),
        resumes=("{Device} ansluter igen inom ungefär en timme efter aktiveringen.",),
    ),
    Cause.DATA_LIMIT_REACHED: Template(
        subject="{Device}: datagränsen är nådd",
        opening=("Den nådde sin datagräns den {started}.", "Den har nått sin datagräns."),
        what="att datagränsen är nådd",
        check="SIM-kortets dataanvändning under den här faktureringsperioden",
        saw=(
            (
                "Gränsen är {limit} för den här faktureringsperioden, och data är nu spärrad.",
                "Data är nu spärrad under resten av den här faktureringsperioden.",
            ),
        ),
        did=(
            "Vi kan höja gränsen, eller häva spärren till slutet av den här faktureringsperioden.",
            "Extra data debiteras enligt er prisplan.",
        ),
        steps=(
            (
                "Om ni vill ha tjänsten tillbaka nu, svara på det här mejlet "
                "och berätta vad ni föredrar."
            ),
        ),
        resumes=(
            (
                (
                    "Annars fungerar tjänsten igen av sig själv den {cycle_end}, "
                    "när nästa faktureringsperiod börjar."
                ),
                "Annars fungerar tjänsten igen av sig själv när nästa faktureringsperiod börjar.",
            ),
        ),
    ),
    Cause.IMEI_LOCK_MISMATCH: Template(
        subject="{Device}: SIM-kortet sitter i en annan enhet",
        what="att SIM-kortet sitter i en annan enhet",
        check="vilken enhet SIM-kortet sitter i",
        saw=(
            (
                "SIM-kortet sitter nu i enheten med {imei_new}.",
                "SIM-kortet sitter nu i en annan enhet.",
            ),
            (
                "SIM-kortet är låst till enheten med {imei_locked}, så nätet nekar det.",
                "SIM-kortet är låst till sin första enhet, så nätet nekar det.",
            ),
        ),
        did=(
            (
                "Låset skyddar SIM-kortet mot missbruk, "
                "så vi behöver er bekräftelse innan vi ändrar det."
            ),
        ),
        steps=(
            "Om ni flyttade SIM-kortet avsiktligt, svara på det här mejlet och bekräfta det.",
            "Om ni inte gjorde det, säg till, så förblir SIM-kortet låst.",
        ),
        resumes=("När vi har ändrat låset ansluter enheten med SIM-kortet inom ungefär en timme.",),
    ),
    Cause.ROAMING_NOT_ALLOWED: Template(
        subject=(
            "{Device} kan inte ansluta i {country}",
            "{Device} kan inte ansluta till nätet den hittade",
        ),
        what=(
            "ett mobilnät i {country} som SIM-kortet inte får använda",
            "ett mobilnät som SIM-kortet inte får använda",
        ),
        check="vilka nät SIM-kortet får använda",
        saw=(
            (
                "Den försökte ansluta via ett mobilnät i {country}.",
                "Den försökte ansluta via ett mobilnät som den hittade.",
            ),
            "Det nätet finns inte med bland de nät som SIM-kortet får använda, så enheten nekades.",
        ),
        did=(
            (
                "Vi kontrollerar om er prisplan omfattar {country}.",
                "Vi kontrollerar om er prisplan omfattar det här nätet.",
            ),
            "Om den gör det lägger vi till nätet i SIM-kortets lista.",
            "Annars förklarar vi vilka alternativ ni har.",
            _BACK,
        ),
        resumes=(
            "När vi har lagt till nätet ansluter {device} igen av sig själv inom ungefär en timme.",
            (
                "Utan anslutning startar enheten om sin radio ungefär en gång i timmen "
                "och provar då igen de nät som nekat den."
            ),
        ),
    ),
    Cause.RADIO_TYPE_NOT_ALLOWED: Template(
        subject=(
            "{Device} kan inte ansluta med {radio}",
            "{Device} kan inte ansluta med sin radiotyp",
        ),
        what="en radiotyp som SIM-kortet inte får använda i det nätet",
        check="vilka radiotyper SIM-kortet får använda",
        saw=(
            (
                "Den försöker ansluta med {radio}, som SIM-kortet inte får använda i {country}.",
                "Den försöker ansluta med {radio}, som SIM-kortet inte får använda i det nätet.",
                "Den använder en radiotyp som SIM-kortet inte får använda i det nätet.",
            ),
            ("SIM-kortet får använda {radios}.", ""),
        ),
        did=(
            (
                "Vi kontrollerar om vi kan tillåta {radio} för SIM-kortet.",
                "Vi kontrollerar om vi kan tillåta den radiotypen för SIM-kortet.",
            ),
            _BACK,
        ),
        steps=(("Om {device} också kan använda {radios} kan ni ställa om den redan nu.", ""),),
        resumes=(
            "{Device} ansluter så snart den använder en radiotyp som SIM-kortet får använda.",
        ),
    ),
    Cause.PRIVATE_APN_CREDENTIALS: Template(
        subject="{Device}: inloggningen till ert privata APN nekas",
        opening=_NO_DATA,
        what="inloggningsuppgifter som ert privata nät nekar",
        check="de inloggningsuppgifter som enheten skickar",
        saw=(
            (
                "Den ansluter till mobilnätet, "
                "men ert privata APN nekar dess användarnamn eller lösenord."
            ),
        ),
        did=(_BOTH_OK,),
        steps=(
            "Kontrollera användarnamnet och lösenordet för det privata APN:et i {device}.",
            "Jämför dem med uppgifterna som ert nätverksteam har lagt upp.",
            "Om de skiljer sig åt, rätta dem i enheten och starta om den.",
        ),
        resumes=("{Device} kan skicka data så snart dess användarnamn och lösenord godkänns.",),
    ),
    Cause.COVERAGE_LOSS: Template(
        subject="{Device}: mobiltäckningen försvann",
        what="svag mobiltäckning där enheten finns",
        check=("mobiltäckningen runt {site}", "mobiltäckningen där enheten finns"),
        saw=(
            (
                "Signalen blev svagare i de senaste rapporterna, "
                "tills den tappade kontakten med mobilnätet."
            ),
        ),
        did=(
            _SIM_OK,
            (
                "Vi kontrollerar mobiltäckningen runt {site}.",
                "Vi kontrollerar mobiltäckningen där enheten finns.",
            ),
            _BACK,
        ),
        steps=(
            "Berätta för oss om {device} kan ha hamnat i ett nytt område.",
            "Om ni kan nå {device}, kontrollera att antennen är hel och inte övertäckt.",
        ),
        resumes=("{Device} ansluter igen av sig själv så snart den har tillräcklig signal.",),
    ),
    Cause.CELL_OUTAGE: Template(
        subject="{Device}: lokalt avbrott i mobilnätet",
        what="ett avbrott i den lokala mobilmasten",
        check="mobilmasten som enheten använder",
        saw=("Andra enheter som använder samma mobilmast tystnade samtidigt.",),
        did=_OUTAGE,
        resumes=(
            _EXPECTED,
            "Era enheter ansluter igen av sig själva när masten fungerar igen.",
        ),
    ),
    Cause.OPERATOR_OUTAGE: Template(
        subject="{Device}: avbrott i mobilnätet",
        what="ett avbrott i mobilnätet",
        check="läget i mobilnätet",
        saw=(
            (
                "Många enheter i samma mobilnät i {country} tystnade samtidigt.",
                "Många enheter i samma mobilnät tystnade samtidigt.",
            ),
        ),
        did=_OUTAGE,
        resumes=(
            _EXPECTED,
            "Era enheter ansluter igen av sig själva när nätet fungerar igen.",
            (
                "Enheter som når ett annat nät som deras SIM-kort får använda "
                "kan ansluta via det tidigare."
            ),
        ),
    ),
    Cause.APN_GATEWAY_OUTAGE: Template(
        subject="{Device}: avbrott i dataanslutningen",
        opening=_NO_DATA,
        what="ett fel i vårt näts dataanslutningar",
        check="vårt näts dataanslutningar",
        saw=("Den ansluter till mobilnätet, men vårt nät vägrar öppna dess dataanslutning.",),
        did=(
            "Felet ligger i vårt nät, inte i era enheter.",
            "Vårt nätverksteam arbetar med det.",
            _BACK,
        ),
        resumes=(
            _EXPECTED,
            "Era enheter försöker igen av sig själva och ansluter när felet är åtgärdat.",
        ),
    ),
    Cause.CONGESTION: Template(
        subject="{Device}: mobilnätet är överbelastat",
        opening=(
            "Den har väntat på att få ansluta sedan den {started}.",
            "Den väntar på att få ansluta.",
        ),
        what="ett överbelastat mobilnät",
        check="hur belastat mobilnätet är",
        saw=("Mobilnätet är överbelastat och har bett enheterna vänta innan de försöker igen.",),
        did=(
            "Det är ett problem i nätet, inte ett fel i era enheter.",
            "Starta inte om enheten: varje omstart ökar belastningen och kan förlänga väntan.",
        ),
        resumes=(
            (
                "Väntan tar slut den {resumes}, och sedan försöker {device} igen av sig själv.",
                "{Device} försöker igen av sig själv när väntan är över. " + _BACK,
            ),
        ),
    ),
    Cause.IPSEC_TUNNEL_DOWN: Template(
        subject="{Device}: VPN-tunneln till ert nät är nere",
        opening=_NO_DATA,
        what="att VPN-tunneln till ert nät är nere",
        check="VPN-tunneln mellan vårt nät och ert",
        saw=("Den ansluter till mobilnätet, men VPN-tunneln mellan vårt nät och ert är nere.",),
        did=("Vårt nätverksteam kontrollerar vår sida av tunneln.", _BACK),
        steps=(
            "Be ert nätverksteam att kontrollera er sida av VPN-tunneln.",
            "Be dem svara på det här mejlet, så att båda teamen kan testa tunneln tillsammans.",
        ),
        resumes=("Era enheter skickar data igen så snart tunneln är uppe.",),
    ),
    Cause.BROKER_UNREACHABLE: Template(
        subject="{Device}: data når inte er server",
        opening=(
            "Dess data har inte nått er server sedan den {started}.",
            "Dess data når inte er server.",
        ),
        what="ett problem med att nå er server",
        check="om data från enheten lämnar vårt nät mot er server",
        saw=("Den är ansluten till mobilnätet och skickar data.",),
        did=(_BOTH_OK, "Problemet finns mellan vårt nät och er server."),
        steps=(
            "Kontrollera att er server är igång och nåbar från internet.",
            "Kontrollera att serverns namn fortfarande pekar på rätt adress.",
            (
                "Kontrollera att inloggningsuppgifterna och certifikaten som enheten använder "
                "fortfarande är giltiga."
            ),
        ),
        resumes=("Data kommer fram igen så snart er server tar emot enhetens anslutning.",),
    ),
}

WORDS: Final = Words(
    greeting="Hej,",
    closing="Vänliga hälsningar",
    steps_heading="Så här gör ni:",
    nothing_to_do="Ni behöver inte göra något.",
    nothing_yet="Ni behöver inte göra något ännu.",
    months=(
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
    time="{day} {month} {year} kl. {hm} ({zone})",
    zone="tidszon {zone}",
    utc="UTC",
    or_="eller",
    percent="{n} %",
    decimal=",",
    your_device=("er enhet {id}", "er enhet"),
    sim="SIM-kort som slutar på {last4}",
    site="plats {site}",
    imei="identitetsnummer (IMEI) som slutar på {last4}",
    countries=_COUNTRIES,
    about="Vi skriver om {who}.",
    down=("Den slutade rapportera den {started}.", "Den har slutat rapportera."),
    unwell=(
        "Den har inte fungerat normalt sedan den {started}.",
        "Den fungerar inte normalt.",
    ),
    unsure_subject_down="{Device} har slutat rapportera: vi undersöker orsaken",
    unsure_subject_unwell="{Device} fungerar inte normalt: vi undersöker orsaken",
    likely="Den troligaste orsaken är {what}.",
    also="Det kan också vara {what}.",
    check_first="Vi kontrollerar {check}.",
    check_more="Vi kontrollerar också {check}.",
    write_back=_BACK,
    healthy=Template(
        subject="{Device} rapporterar normalt",
        opening="Den rapporterar normalt.",
        saw=(
            (
                "Den senaste rapporten kom den {last_report}.",
                "Vi kontrollerade enheten den {checked}.",
            ),
            ("{verdict_note}", ""),
        ),
        did=("Vi hittade inget fel på enheten eller dess SIM-kort.",),
    ),
    down_unknown=Template(
        subject="{Device} har slutat rapportera: vi undersöker saken",
        saw=("Vi har inte hittat orsaken ännu.",),
        did=("Vi undersöker saken och återkommer senast den {back_by}.",),
    ),
    no_data=Template(
        subject="{Device}: för få rapporter ännu",
        opening="Den har ännu inte skickat tillräckligt många rapporter för att vi ska kunna "
        "bedöma den.",
        did=("Vi fortsätter att följa enheten och återkommer senast den {back_by}.",),
    ),
    verdict_notes={
        "ASLEEP": "Den sover mellan rapporterna, som planerat, för att spara batteri.",
        "LATE": "Nästa rapport dröjer lite, men det är fortfarande inom det normala.",
    },
    tests={
        "swap": CustomerTest(
            intro="Ett enkelt test hjälper oss att hitta orsaken: "
            "att byta SIM-kort mellan två enheter.",
            if_locked="Innan ni börjar, berätta vilken dag ni gör testet, "
            "så låser vi upp SIM-kortet för det.",
            steps=(
                "Stäng av {device} och en annan av era enheter som fungerar normalt.",
                (
                    (
                        "Sätt SIM-kortet som slutar på {last4} i den fungerande enheten, "
                        "och den enhetens SIM-kort i {device}."
                    ),
                    (
                        "Sätt SIM-kortet från {device} i den fungerande enheten, "
                        "och den enhetens SIM-kort i {device}."
                    ),
                ),
                "Starta båda enheterna och låt dem vara på i minst en timme.",
                (
                    "Svara på det här mejlet när ni har gjort det, "
                    "så jämför vi enheterna och berättar resultatet."
                ),
            ),
        ),
        "recharge": CustomerTest(
            intro="Om ni kan nå {device} kan ett enkelt test hjälpa oss att hitta orsaken.",
            steps=(
                "Ladda eller byt batteriet i {device}.",
                "Svara på det här mejlet när ni har gjort det, så berättar vi vad vi ser.",
            ),
        ),
        "restart": CustomerTest(
            intro="Ett enkelt test hjälper oss att hitta orsaken: att starta om enheten.",
            steps=(
                "Stäng av {device}, vänta en minut och starta den igen.",
                "Svara på det här mejlet när ni har gjort det, så berättar vi vad vi ser.",
            ),
        ),
    },
    templates=_TEMPLATES,
)
