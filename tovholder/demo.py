"""Demo data modelled on the sources (DIGEST §5): six botilbud, their staff and citizens.

Deterministic, so `tovholder demo --json` prints the same data every time and tokens made for a
demo `sub` match what the running system loaded. CPR numbers are fictitious but well-formed.
Orion: 38 citizens and 3 nurse consultants; each citizen has chosen one of them as tovholder.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

NAMESPACE = uuid.UUID("6f0e4a52-1d2b-4c55-9a3e-7d1a2b3c4d5e")

BOTILBUD: list[dict[str, Any]] = [
    {"id": "orion", "name": "Orion", "municipality": "København", "legal_basis": "SEL §108", "step": 7,
     "approved_places": 38, "citizens": 38, "nurse_consultants": 3, "coordinators": 3,
     "target_group": "Voksne med svære psykiske lidelser, ofte med misbrug; borgerstyrede netværk"},
    {"id": "tangkaer", "name": "Tangkær", "municipality": "Syddjurs", "legal_basis": "SEL §108", "step": 7,
     "approved_places": 43, "citizens": 12, "nurse_consultants": 2, "coordinators": 2,
     "target_group": "Voksne 18–67 år med psykiske lidelser; årligt sundhedstjek med almen praksis og psykiatri"},
    {"id": "vista-hus", "name": "Vista Hus", "municipality": "Aarhus", "legal_basis": "SEL §108", "step": 7,
     "approved_places": 5, "citizens": 5, "nurse_consultants": 1, "coordinators": 2,
     "target_group": "Dobbeltdiagnose og behandlingsdom; en koordinator pr. borger"},
    {"id": "cirklen", "name": "Cirklen", "municipality": "København", "legal_basis": "SEL §107", "step": 6,
     "approved_places": 10, "citizens": 8, "nurse_consultants": 1, "coordinators": 1,
     "target_group": "Unge 18–30 år; midlertidigt ophold 2–3 år"},
    {"id": "tuesten-huse", "name": "Tuesten Huse", "municipality": "Bornholm", "legal_basis": "SEL §108", "step": 7,
     "approved_places": 20, "citizens": 12, "nurse_consultants": 1, "coordinators": 2,
     "target_group": "Voksne med psykisk lidelse og rusmiddelbrug"},
    {"id": "mette-marie", "name": "Mette Marie", "municipality": "København", "legal_basis": "ABL §105 + SEL §85", "step": 7,
     "approved_places": 16, "citizens": 8, "nurse_consultants": 1, "coordinators": 1,
     "target_group": "Voksne 35–60 år; skadesreduktion"},
]

PARTNERS = [
    {"org": "SOR:1234567", "name": "Psykiatrisk Center København"},
    {"org": "SOR:2345678", "name": "Aarhus Universitetshospital, Psykiatrien"},
    {"org": "SOR:3456789", "name": "Bornholms Hospital"},
    {"org": "SOR:4567890", "name": "Lægehuset Nørrebro"},
]

FIRST_NAMES = ["Anne", "Bo", "Camilla", "Dennis", "Emma", "Frederik", "Gitte", "Henrik", "Ida", "Jonas", "Karen",
               "Lars", "Mette", "Niels", "Ole", "Pia", "Rasmus", "Sofie", "Thomas", "Ulla", "Vibeke", "William",
               "Yasmin", "Ahmed", "Birgitte", "Christian", "Dorthe", "Erik", "Freja", "Jens", "Lone", "Mads"]
LAST_NAMES = ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
              "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Poulsen"]
GP_PRACTICES = ["Lægehuset Nørrebro", "Lægerne Vesterbro", "Lægehuset Ebeltoft", "Lægehuset Rønne"]


def citizen_id_for(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


def _fictitious_cpr(rng: random.Random) -> str:
    born = date(1958, 1, 1) + timedelta(days=rng.randrange(0, 365 * 45))
    serial = rng.randrange(0, 4) * 1000 + rng.randrange(0, 1000)  # 7th digit 0–3: born 1900–1999
    return f"{born:%d%m%y}{serial:04d}"


@lru_cache
def demo_data() -> dict[str, Any]:
    rng = random.Random(2026)
    staff: list[dict[str, Any]] = []
    citizens: list[dict[str, Any]] = []
    used_names: set[str] = set()

    def person_name() -> str:
        while True:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if name not in used_names:
                used_names.add(name)
                return name

    for n in range(1, 4):
        staff.append({"sub": f"visitation-{n}", "name": person_name(), "role": "visitation", "botilbud": None,
                      "municipality": "København"})
    staff.append({"sub": "admin-1", "name": person_name(), "role": "admin", "botilbud": None})

    for home in BOTILBUD:
        nurses = []
        for n in range(1, home["nurse_consultants"] + 1):
            member = {"sub": f"{home['id']}-sygeplejekonsulent-{n}", "name": person_name(),
                      "role": "nurse-consultant", "botilbud": home["id"]}
            staff.append(member)
            nurses.append(member)
        for n in range(1, home["coordinators"] + 1):
            staff.append({"sub": f"{home['id']}-koordinator-{n}", "name": person_name(),
                          "role": "coordinator", "botilbud": home["id"]})
        for n in range(1, home["citizens"] + 1):
            citizens.append({
                "citizen_id": citizen_id_for(f"{home['id']}-{n}"),
                "cpr": _fictitious_cpr(rng),
                "name": person_name(),
                "botilbud": home["id"],
                "legal_basis": home["legal_basis"],
                "tovholder_sub": nurses[(n - 1) % len(nurses)]["sub"],
                "gp_practice": GP_PRACTICES[rng.randrange(len(GP_PRACTICES))],
                "moved_in_on": (date(2026, 11, 1) - timedelta(days=rng.randrange(30, 1500))).isoformat(),
            })
    return {
        "botilbud": [{k: v for k, v in b.items() if k not in ("citizens", "nurse_consultants", "coordinators")}
                     for b in BOTILBUD],
        "partners": PARTNERS,
        "staff": staff,
        "citizens": citizens,
    }


def staff_member(sub: str) -> dict[str, Any] | None:
    return next((s for s in demo_data()["staff"] if s["sub"] == sub), None)
