"""Health's use cases: one async function each, over a unit of work.

Each authorises (``authorize`` applies ``domain.access.may`` and audits a refusal), loads through
``repository``, asks ``domain``, saves, emits, audits and commits. The HTTP routes (``api``), the
event handlers (``handlers``) and the background jobs (``jobs``) call these functions, never each
other. Functions named ``*_effect`` run inside another flow (the kit's receipt flow, an event
handler's transaction) and leave the commit to it.
"""


from __future__ import annotations

from services.health.services.common import (
    KnownPerson,
    NO_RECORD_YOU_MAY_SEE,
    NO_SUCH_ALERT,
    NO_SUCH_CHECK,
    NO_SUCH_DOCUMENT,
    actor_of,
    authorize,
    now_utc,
    require_unmatched_queue,
)
from services.health.services.hospital_notices import (
    admitted_now,
    HOSPITAL_NOTIFICATIONS,
    Registered,
    apply_notice,
    hospital_notification_effect,
    match_parked_notices,
    receive_hospital_notification,
)
from services.health.services.medcom import (
    FHIR_XML_TYPES,
    MEDCOM_PROCESS_MESSAGE,
    forget_old_acknowledgements,
    receive_medcom_message,
)
from services.health.services.unmatched_queue import (
    dismiss_unmatched_notice,
    list_unmatched_notices,
    match_unmatched_notice,
    read_unmatched_notice,
)
from services.health.services.partner_documents import (
    DOCUMENT_KINDS,
    MEDICATION_CHANGE,
    list_partner_documents,
    list_shared_documents,
    match_parked_partner_messages,
    receive_partner_document,
    receive_partner_medication_change,
    share_document,
)
from services.health.services.medication import (
    acknowledge_alert,
    list_medication_changes,
    record_medication_change,
)
from services.health.services.record import (
    choose_the_tovholder,
    list_hospital_notices,
    list_nurse_consultants,
    read_health_record,
    read_timeline,
    record_external_contact,
    set_gp_practice,
    set_nurse_consultants,
)
from services.health.services.health_check import (
    accept_health_check,
    botilbud_health_checks,
    complete_step,
    decline_health_check,
    list_health_checks,
    plan_check_days,
    read_health_check,
    read_health_check_cadence,
    record_check_held,
    record_examination,
    record_pre_assessment,
    schedule_health_check,
    set_health_check_cadence,
)
from services.health.services.forensic import (
    DEPOT_LOOKBACK,
    create_depot_schedule,
    detect_missed_depot_visits,
    read_forensic,
    record_coercion_considered,
    record_depot_visit,
    record_treatment_order,
)
from services.health.services.events import (
    citizen_registered,
    network_member_added,
    network_member_removed,
    place_granted,
    prepare_events,
    placement_started,
)
from services.health.services.encounters import (
    NO_PATIENT_YOU_MAY_READ,
    NO_SUCH_ENCOUNTER,
    read_encounter,
    search_encounters,
)

__all__ = [
    "admitted_now",
    "DEPOT_LOOKBACK",
    "DOCUMENT_KINDS",
    "FHIR_XML_TYPES",
    "HOSPITAL_NOTIFICATIONS",
    "KnownPerson",
    "MEDCOM_PROCESS_MESSAGE",
    "MEDICATION_CHANGE",
    "NO_PATIENT_YOU_MAY_READ",
    "NO_RECORD_YOU_MAY_SEE",
    "NO_SUCH_ALERT",
    "NO_SUCH_CHECK",
    "NO_SUCH_DOCUMENT",
    "NO_SUCH_ENCOUNTER",
    "Registered",
    "accept_health_check",
    "acknowledge_alert",
    "actor_of",
    "apply_notice",
    "authorize",
    "botilbud_health_checks",
    "choose_the_tovholder",
    "citizen_registered",
    "complete_step",
    "create_depot_schedule",
    "decline_health_check",
    "detect_missed_depot_visits",
    "dismiss_unmatched_notice",
    "forget_old_acknowledgements",
    "hospital_notification_effect",
    "list_health_checks",
    "list_hospital_notices",
    "list_medication_changes",
    "list_nurse_consultants",
    "list_partner_documents",
    "list_shared_documents",
    "list_unmatched_notices",
    "match_parked_notices",
    "match_parked_partner_messages",
    "match_unmatched_notice",
    "network_member_added",
    "network_member_removed",
    "now_utc",
    "place_granted",
    "prepare_events",
    "placement_started",
    "plan_check_days",
    "read_encounter",
    "read_forensic",
    "read_health_check",
    "read_health_check_cadence",
    "read_health_record",
    "read_timeline",
    "read_unmatched_notice",
    "receive_hospital_notification",
    "receive_medcom_message",
    "receive_partner_document",
    "receive_partner_medication_change",
    "record_check_held",
    "record_coercion_considered",
    "record_depot_visit",
    "record_examination",
    "record_external_contact",
    "record_medication_change",
    "record_pre_assessment",
    "record_treatment_order",
    "require_unmatched_queue",
    "schedule_health_check",
    "search_encounters",
    "set_gp_practice",
    "set_health_check_cadence",
    "set_nurse_consultants",
    "share_document",
]
